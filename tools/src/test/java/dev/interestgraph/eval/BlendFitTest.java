package dev.interestgraph.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.interestgraph.recommend.Recommender;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BlendFitTest {

    /**
     * Planted structure: every signal is random, and what users go on to like is the top 3 by
     * neighbours + 0.3·interests; short-term, community and popularity are noise. Only the
     * planted combination of the grid ranks every user's liked items first.
     */
    @Test
    void choosesThePlantedWeights() {
        Random random = new Random(7);
        List<BlendFit.Case> cases = new ArrayList<>();
        for (int user = 0; user < 150; user++) {
            List<String> items = new ArrayList<>();
            float[][] values = new float[40][];
            double[] truth = new double[40];
            for (int c = 0; c < 40; c++) {
                items.add("u" + user + "-i" + c);
                values[c] = new float[Recommender.Signal.values().length];
                for (int s = 0; s < 5; s++) { // the five positive signals; no negative ones
                    values[c][s] = random.nextFloat();
                }
                truth[c] = values[c][Recommender.Signal.NEIGHBOURS.ordinal()]
                        + 0.3 * values[c][Recommender.Signal.INTERESTS.ordinal()];
            }
            Set<String> liked = IntStream.range(0, 40).boxed()
                    .sorted(Comparator.comparingDouble(c -> -truth[c])).limit(3)
                    .map(items::get).collect(Collectors.toCollection(HashSet::new));
            cases.add(new BlendFit.Case(new Recommender.Signals(items, values), liked));
        }
        BlendFit.Grid grid = new BlendFit.Grid(new double[] {0, 0.1, 0.3, 1},
                new double[] {0, 0.3}, new double[] {1}, new double[] {0, 0.5},
                new double[] {0, 0.1, 0.3});
        Recommender.Weights base = new Recommender.Weights();
        base.coldStartEdges = 7;

        BlendFit.Result fit = BlendFit.fit(cases, grid, base, 10);

        assertThat(fit.weights().interests).isEqualTo(0.3);
        assertThat(fit.weights().shortTerm).isZero();
        assertThat(fit.weights().neighbours).isEqualTo(1.0);
        assertThat(fit.weights().community).isZero();
        assertThat(fit.weights().popularity).isZero();
        assertThat(fit.ndcg()).isEqualTo(1.0, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(fit.baseNdcg()).isLessThan(fit.ndcg());
        assertThat(fit.combinations()).isEqualTo(4 * 2 * 2 * 3);
        assertThat(fit.weights().coldStartEdges).as("structural settings kept").isEqualTo(7);
    }

    /**
     * Planted structure without neighbours (issue 17): neighbours and community are 0 for every
     * candidate, as without an item graph, and what users go on to like is the top 3 by
     * interests + 0.3·popularity; the short-term signal is noise. The no-neighbour grid must find
     * that ratio — (0.1, 0, 0.03), the first grid point with it — and beat both popularity alone
     * and the interests alone.
     */
    @Test
    void noNeighbourFitFindsThePlantedContentWeights() {
        List<BlendFit.Case> cases = plantedCases(1.0, 0.3, 11);
        Recommender.Weights base = new Recommender.Weights();
        base.neighbours = 0;

        BlendFit.Result fit = BlendFit.fitRefined(cases, BlendFit.Grid.noNeighbours(), base, 10);

        assertThat(fit.weights().interests).isEqualTo(0.1);
        assertThat(fit.weights().shortTerm).isZero();
        assertThat(fit.weights().popularity).isEqualTo(0.03);
        assertThat(fit.weights().neighbours).isZero();
        assertThat(fit.weights().community).isZero();
        assertThat(fit.ndcg()).isEqualTo(1.0, org.assertj.core.api.Assertions.within(1e-12));
        double popularOnly = BlendFit.ndcg(cases, new double[] {0, 0, 0, 0, 1}, 10);
        double interestsOnly = BlendFit.ndcg(cases, new double[] {1, 0, 0, 0, 0}, 10);
        assertThat(popularOnly).isLessThan(0.9);
        assertThat(interestsOnly).isLessThan(0.9);
        // 6 × 6 × 6 coarse, then 3 × 3 × 3 around (0.1, 0, 0.03)... minus short-term's lower
        assertThat(fit.combinations()).isEqualTo(216 + 3 * 2 * 3);
    }

    /**
     * The planted ratio lies between two grid points (popularity/interests = √(0.03·0.1)/0.1):
     * the coarse grid cannot reach it, one refinement step around the coarse choice can.
     */
    @Test
    void refinementReachesAnOptimumBetweenGridPoints() {
        double planted = Math.sqrt(0.03 * 0.1); // 0.0548, on the refined grid only
        List<BlendFit.Case> cases = plantedCases(0.1, planted, 13);
        Recommender.Weights base = new Recommender.Weights();
        base.neighbours = 0;
        BlendFit.Grid coarseGrid = new BlendFit.Grid(new double[] {0.1}, new double[] {0},
                new double[] {0}, new double[] {0}, new double[] {0, 0.01, 0.03, 0.1, 0.3});

        BlendFit.Result coarse = BlendFit.fit(cases, coarseGrid, base, 10);
        BlendFit.Result refined = BlendFit.fitRefined(cases, coarseGrid, base, 10);

        assertThat(coarse.ndcg()).isLessThan(1.0);
        assertThat(refined.ndcg()).isEqualTo(1.0, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(refined.weights().popularity)
                .isEqualTo(planted, org.assertj.core.api.Assertions.within(1e-12));
    }

    @Test
    void refineKeepsTheChoiceAndHalvesTheLogSpacingAroundIt() {
        Recommender.Weights chosen = new Recommender.Weights();
        chosen.interests = 0.03;
        chosen.shortTerm = 0;
        chosen.neighbours = 1;
        chosen.community = 0.5; // the largest value: no midpoint above it
        chosen.popularity = 0.01;

        BlendFit.Grid fine = BlendFit.Grid.standard().refine(chosen);

        org.assertj.core.data.Offset<Double> close = org.assertj.core.api.Assertions.within(1e-12);
        assertThat(fine.interests()).containsExactly(new double[] {Math.sqrt(0.01 * 0.03), 0.03,
            Math.sqrt(0.03 * 0.1)}, close);
        assertThat(fine.shortTerm()).containsExactly(new double[] {0, 0.0015}, close);
        assertThat(fine.neighbours()).containsExactly(1);
        assertThat(fine.community()).containsExactly(new double[] {Math.sqrt(0.1 * 0.5), 0.5},
                close);
        assertThat(fine.popularity()).containsExactly(new double[] {Math.sqrt(0.005 * 0.01), 0.01,
            Math.sqrt(0.01 * 0.02)}, close);
    }

    @Test
    void theMultiInterestGridHoldsTheHandSetWeights() {
        Recommender.Weights handSet = new Recommender.Weights(); // 0.1, 0.1, popularity 0.05
        handSet.neighbours = 0;
        BlendFit.Grid grid = BlendFit.Grid.multiInterest(handSet, 0.01);
        assertThat(grid.interests()).containsExactly(0.1);
        assertThat(grid.shortTerm()).containsExactly(0.01, 0.1);
        assertThat(grid.popularity()).contains(0.0, 0.05, 1.0).isSorted().doesNotHaveDuplicates();
        // the same short-term twice is one value
        assertThat(BlendFit.Grid.multiInterest(handSet, 0.1).shortTerm()).containsExactly(0.1);
    }

    /** The search for rankings that are not linear in the weights: the objective's argmax. */
    @Test
    void searchFindsTheObjectivesBestGridPointAndKeepsStructuralSettings() {
        Recommender.Weights base = new Recommender.Weights();
        base.coldStartEdges = 9;
        BlendFit.Grid grid = new BlendFit.Grid(new double[] {0.03, 0.1, 0.3, 1},
                new double[] {0.1}, new double[] {0}, new double[] {0},
                new double[] {0, 0.01, 0.03, 0.1, 0.3, 1});
        int[] calls = {0};

        BlendFit.Result result = BlendFit.search(grid, base, w -> {
            calls[0]++;
            return -Math.abs(Math.log(w.interests / 0.3)) - Math.abs(w.popularity - 0.1);
        }, 5);

        assertThat(result.weights().interests).isEqualTo(0.3);
        assertThat(result.weights().popularity).isEqualTo(0.1);
        assertThat(result.weights().shortTerm).isEqualTo(0.1);
        assertThat(result.weights().coldStartEdges).isEqualTo(9);
        assertThat(result.ndcg()).isZero();
        assertThat(result.baseNdcg()).isNegative(); // the hand-set weights: 0.1 / 0.05
        assertThat(calls[0]).isEqualTo(1 + 4 * 6);
        assertThat(result.combinations()).isEqualTo(24);
    }

    /**
     * 200 users × 40 candidates, random interests, short-term and popularity signals (neighbours
     * and community 0); each user likes their top 3 by a·interests + p·popularity.
     */
    private static List<BlendFit.Case> plantedCases(double a, double p, long seed) {
        Random random = new Random(seed);
        List<BlendFit.Case> cases = new ArrayList<>();
        int interests = Recommender.Signal.INTERESTS.ordinal();
        int shortTerm = Recommender.Signal.SHORT_TERM.ordinal();
        int popularity = Recommender.Signal.POPULARITY.ordinal();
        for (int user = 0; user < 200; user++) {
            List<String> items = new ArrayList<>();
            float[][] values = new float[40][];
            double[] truth = new double[40];
            for (int c = 0; c < 40; c++) {
                items.add("u" + user + "-i" + c);
                values[c] = new float[Recommender.Signal.values().length];
                values[c][interests] = random.nextFloat();
                values[c][shortTerm] = random.nextFloat();
                values[c][popularity] = random.nextFloat();
                truth[c] = a * values[c][interests] + p * values[c][popularity];
            }
            Set<String> liked = IntStream.range(0, 40).boxed()
                    .sorted(Comparator.comparingDouble(c -> -truth[c])).limit(3)
                    .map(items::get).collect(Collectors.toCollection(HashSet::new));
            cases.add(new BlendFit.Case(new Recommender.Signals(items, values), liked));
        }
        return cases;
    }

    /**
     * Planted structure with negative neighbour evidence: users go on to like their top 3 by
     * neighbours + 0.5·negative neighbours (a signal ≤ 0) + 0.3·interests, popularity and the
     * others noise. Of the graded scales {0, 0.25, 0.5, 1} only the planted 0.5 ranks every
     * user's liked items first; ignoring the negatives (0) or taking them fully (1) both lose.
     */
    @Test
    void choosesThePlantedScaleOfNegativeNeighbours() {
        Random random = new Random(17);
        int negative = Recommender.Signal.NEGATIVE_NEIGHBOURS.ordinal();
        List<BlendFit.Case> cases = new ArrayList<>();
        for (int user = 0; user < 150; user++) {
            List<String> items = new ArrayList<>();
            float[][] values = new float[40][];
            double[] truth = new double[40];
            for (int c = 0; c < 40; c++) {
                items.add("u" + user + "-i" + c);
                values[c] = new float[Recommender.Signal.values().length];
                for (int s = 0; s < values[c].length; s++) {
                    values[c][s] = random.nextFloat();
                }
                values[c][negative] = -2 * random.nextFloat();
                truth[c] = values[c][Recommender.Signal.NEIGHBOURS.ordinal()]
                        + 0.5 * values[c][negative]
                        + 0.3 * values[c][Recommender.Signal.INTERESTS.ordinal()];
            }
            Set<String> liked = IntStream.range(0, 40).boxed()
                    .sorted(Comparator.comparingDouble(c -> -truth[c])).limit(3)
                    .map(items::get).collect(Collectors.toCollection(HashSet::new));
            cases.add(new BlendFit.Case(new Recommender.Signals(items, values), liked));
        }
        BlendFit.Grid grid = new BlendFit.Grid(new double[] {0, 0.3, 1}, new double[] {0},
                new double[] {1}, new double[] {0}, new double[] {0, 0.3})
                .withNegativeNeighbours(BlendFit.Grid.NEGATIVE_SCALES);
        Recommender.Weights base = new Recommender.Weights();

        BlendFit.Result fit = BlendFit.fit(cases, grid, base, 10);

        assertThat(fit.weights().negativeNeighbours).isEqualTo(0.5);
        assertThat(fit.weights().interests).isEqualTo(0.3);
        assertThat(fit.weights().popularity).isZero();
        assertThat(fit.ndcg()).isEqualTo(1.0, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(fit.combinations()).isEqualTo(3 * 2 * 4);
        double[] w = BlendFit.vector(fit.weights());
        for (double other : new double[] {0, 0.25, 1}) {
            w[negative] = other;
            assertThat(BlendFit.ndcg(cases, w, 10)).as("scale %s", other).isLessThan(fit.ndcg());
        }
        // one refinement step puts the midpoints to the graded neighbours around it
        assertThat(grid.refine(fit.weights()).negativeNeighbours()).containsExactly(
                new double[] {Math.sqrt(0.25 * 0.5), 0.5, Math.sqrt(0.5)},
                org.assertj.core.api.Assertions.within(1e-12));
    }

    /**
     * Fresh and stale validation cases of the same 150 users with planted structure, as on
     * MovieLens: on the fresh graphs users go on to like their top 3 by neighbours + negative
     * neighbours (scale 1) + 0.3·interests; on the stale graphs by neighbours + 0.3·interests,
     * their negative evidence being noise (the items it came from are old). The fresh optimum
     * takes the negatives fully and breaks the stale condition (below the hand-set weights',
     * neighbours alone); the guarded fit must pick the best fresh point that respects it —
     * interests kept, the negatives at half scale — and each objective the argmax of its own
     * figure over the grid.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "objective {0}")
    @org.junit.jupiter.params.provider.EnumSource(BlendFit.Objective.class)
    void eachObjectiveChoosesItsBestGridPointAndTheGuardHoldsTheStaleFloor(
            BlendFit.Objective objective) {
        List<BlendFit.Case> fresh = freshOrStaleCases(false);
        List<BlendFit.Case> stale = freshOrStaleCases(true);
        BlendFit.Grid grid = new BlendFit.Grid(new double[] {0, 0.1, 0.3}, new double[] {0},
                new double[] {1}, new double[] {0}, new double[] {0})
                .withNegativeNeighbours(new double[] {0, 0.5, 1});
        Recommender.Weights handSet = new Recommender.Weights();
        handSet.interests = 0;
        handSet.shortTerm = 0;
        handSet.community = 0;
        handSet.popularity = 0;
        handSet.negativeNeighbours = 0; // neighbours alone
        BlendFit.Window window = BlendFit.Window.of(fresh, stale, objective, handSet, 10);
        double floor = BlendFit.ndcg(stale, BlendFit.vector(handSet), 10);

        BlendFit.Result fit = BlendFit.fit(window, grid, handSet, 10);

        // the planted facts the test relies on: the fresh optimum costs the stale graphs
        double[] freshOptimum = weights(0.3, 1);
        assertThat(BlendFit.ndcg(fresh, freshOptimum, 10)).isEqualTo(1.0, within(1e-12));
        assertThat(BlendFit.ndcg(stale, freshOptimum, 10)).isLessThan(floor);
        double[] w = BlendFit.vector(fit.weights());
        double chosenFresh = BlendFit.ndcg(fresh, w, 10);
        double chosenStale = BlendFit.ndcg(stale, w, 10);
        assertThat(fit.guardMet()).isTrue();
        switch (objective) {
            case FRESH:
                assertThat(fit.weights().interests).isEqualTo(0.3);
                assertThat(fit.weights().negativeNeighbours).isEqualTo(1.0);
                assertThat(fit.ndcg()).isEqualTo(chosenFresh);
                break;
            case MEAN:
                assertThat(fit.ndcg()).isEqualTo((chosenFresh + chosenStale) / 2, within(1e-12));
                break;
            default:
                // interests kept, the negatives halved: the stale graphs no worse than with the
                // hand-set weights, the fresh ones far above them, a little below the optimum
                assertThat(fit.weights().interests).isEqualTo(0.3);
                assertThat(fit.weights().negativeNeighbours).isEqualTo(0.5);
                assertThat(chosenStale).isGreaterThanOrEqualTo(window.staleFloor());
                assertThat(window.staleFloor()).isEqualTo(floor);
                assertThat(fit.ndcg()).isEqualTo(chosenFresh).isLessThan(1.0)
                        .isGreaterThan(fit.baseNdcg());
                assertThat(fit.baseNdcg())
                        .isEqualTo(BlendFit.ndcg(fresh, BlendFit.vector(handSet), 10));
        }
        // every objective: no grid point scores above the chosen one by its own figure (the
        // guarded one among the points that reach the floor)
        for (double interests : grid.interests()) {
            for (double negative : grid.negativeNeighbours()) {
                double[] other = weights(interests, negative);
                double f = BlendFit.ndcg(fresh, other, 10);
                double s = BlendFit.ndcg(stale, other, 10);
                double value = objective == BlendFit.Objective.FRESH ? f
                        : objective == BlendFit.Objective.MEAN ? (f + s) / 2
                        : s >= floor ? f : Double.NEGATIVE_INFINITY;
                assertThat(value).as("interests %s, negatives × %s", interests, negative)
                        .isLessThanOrEqualTo(fit.ndcg() + 1e-12);
            }
        }
    }

    /**
     * The hand-set weights of the fresh-or-stale planted cases: interests 0.3 and the neighbours
     * alone, no negatives — they rank the stale graphs as planted.
     */
    private static Recommender.Weights plantedHandSet() {
        Recommender.Weights handSet = new Recommender.Weights();
        handSet.interests = 0.3;
        handSet.shortTerm = 0;
        handSet.community = 0;
        handSet.popularity = 0;
        handSet.negativeNeighbours = 0;
        return handSet;
    }

    /** When no grid point reaches the stale floor, the guarded fit keeps the hand-set weights. */
    @Test
    void aGuardedFitWithoutAPointAtTheStaleFloorKeepsTheHandSetWeights() {
        List<BlendFit.Case> fresh = freshOrStaleCases(false);
        List<BlendFit.Case> stale = freshOrStaleCases(true);
        // the hand-set weights rank the stale graphs as planted (NDCG 1); no grid point does
        Recommender.Weights handSet = plantedHandSet();
        BlendFit.Grid grid = new BlendFit.Grid(new double[] {0, 1}, new double[] {0},
                new double[] {1}, new double[] {0}, new double[] {0})
                .withNegativeNeighbours(new double[] {0.5, 1});
        BlendFit.Window window =
                BlendFit.Window.of(fresh, stale, BlendFit.Objective.GUARDED, handSet, 10);

        BlendFit.Result fit = BlendFit.fitRefined(window, grid, handSet, 10);

        assertThat(window.staleFloor()).isEqualTo(1.0, within(1e-12));
        assertThat(fit.guardMet()).isFalse();
        assertThat(fit.weights().interests).isEqualTo(0.3);
        assertThat(fit.weights().negativeNeighbours).isZero();
        assertThat(fit.ndcg()).isEqualTo(fit.baseNdcg())
                .isEqualTo(BlendFit.ndcg(fresh, BlendFit.vector(handSet), 10));
        // while the unguarded fit on the same grid moves away from them
        BlendFit.Result unguarded = BlendFit.fit(fresh, grid, handSet, 10);
        assertThat(unguarded.weights().negativeNeighbours).isPositive();
        assertThat(unguarded.ndcg()).isGreaterThan(fit.ndcg());
    }

    /**
     * The floor from the goal: on the planted fresh and stale cases the hand-set weights
     * (interests 0.3, no negatives) rank the stale graphs perfectly, so holding the fit to their
     * stale figure keeps them although the fresh graphs reward the negative neighbours. A weaker
     * baseline — neighbours alone, standing in for item–item — is what the "before the update"
     * goal asks the blend to stay ahead of: its floor admits interests 0.3 with the negatives at
     * half scale (far better fresh, still ahead of the baseline stale) and still rules out the
     * fresh optimum (negatives at full scale, below the baseline stale). A margin of standard
     * errors that lifts the floor past that point's stale figure rules it out again.
     */
    @Test
    void theItemItemFloorAdmitsABetterFreshPointThanTheHandSetFloor() {
        List<BlendFit.Case> fresh = freshOrStaleCases(false);
        List<BlendFit.Case> stale = freshOrStaleCases(true);
        Recommender.Weights handSet = plantedHandSet();
        BlendFit.Grid grid = new BlendFit.Grid(new double[] {0, 0.3}, new double[] {0},
                new double[] {1}, new double[] {0}, new double[] {0})
                .withNegativeNeighbours(new double[] {0, 0.5, 1});
        double[] baseline = stale.stream().mapToDouble(c -> BlendFit.ndcg(c, weights(0, 0), 10))
                .toArray();
        BlendFit.StaleFloor itemItem = BlendFit.StaleFloor.of(baseline, 0);

        BlendFit.Result handSetFloor = BlendFit.fit(
                BlendFit.Window.of(fresh, stale, BlendFit.Objective.GUARDED, handSet, 10), grid,
                handSet, 10);
        BlendFit.Result itemItemFloor = BlendFit.fit(new BlendFit.Window(fresh, stale,
                BlendFit.Objective.GUARDED, itemItem.value()), grid, handSet, 10);

        // the planted facts: the hand-set weights are perfect on the stale graphs, the baseline
        // is not, and the fresh optimum falls below the baseline there
        assertThat(BlendFit.ndcg(stale, BlendFit.vector(handSet), 10)).isEqualTo(1.0,
                within(1e-12));
        assertThat(itemItem.value()).isLessThan(0.9);
        assertThat(BlendFit.ndcg(stale, weights(0.3, 1), 10)).isLessThan(itemItem.value());
        // the hand-set floor keeps the hand-set point; the item-item floor admits the half scale
        assertThat(handSetFloor.guardMet()).isTrue();
        assertThat(handSetFloor.weights().negativeNeighbours).isZero();
        assertThat(itemItemFloor.guardMet()).isTrue();
        assertThat(itemItemFloor.weights().interests).isEqualTo(0.3);
        assertThat(itemItemFloor.weights().negativeNeighbours).isEqualTo(0.5);
        double halfScaleStale = BlendFit.ndcg(stale, weights(0.3, 0.5), 10);
        assertThat(halfScaleStale).isGreaterThanOrEqualTo(itemItem.value());
        assertThat(itemItemFloor.ndcg()).isEqualTo(BlendFit.ndcg(fresh, weights(0.3, 0.5), 10))
                .isGreaterThan(handSetFloor.ndcg() + 0.05);
        // a margin that puts the floor just above the half-scale point's stale figure: back to
        // the point without negatives (stale 1), the only one left
        double margin = (halfScaleStale - itemItem.mean()) / itemItem.standardError() + 0.01;
        BlendFit.StaleFloor withMargin = BlendFit.StaleFloor.of(baseline, margin);
        assertThat(withMargin.value()).isGreaterThan(halfScaleStale).isLessThan(1.0);
        BlendFit.Result marginFit = BlendFit.fit(new BlendFit.Window(fresh, stale,
                BlendFit.Objective.GUARDED, withMargin.value()), grid, handSet, 10);
        assertThat(marginFit.weights().negativeNeighbours).isZero();
        assertThat(marginFit.ndcg()).isEqualTo(handSetFloor.ndcg());
    }

    /** The floor's arithmetic on values worked by hand: mean + margin · sd / √n. */
    @Test
    void aStaleFloorIsTheMeanPlusItsMarginInStandardErrors() {
        double[] perUser = {0, 0, 0.25, 0.5, 0.5, 0.75, 1, 1};
        // deviations -0.5, -0.5, -0.25, 0, 0, 0.25, 0.5, 0.5: squares sum 1.125; sd √(1.125/7)
        double se = Math.sqrt(1.125 / 7) / Math.sqrt(8);
        BlendFit.StaleFloor floor = BlendFit.StaleFloor.of(perUser, 2);
        assertThat(floor.mean()).isEqualTo(0.5, within(1e-12));
        assertThat(floor.standardError()).isEqualTo(se, within(1e-12));
        assertThat(floor.value()).isEqualTo(0.5 + 2 * se, within(1e-12));
        assertThat(BlendFit.StaleFloor.of(perUser, 0).value()).isEqualTo(0.5, within(1e-12));
        assertThat(BlendFit.StaleFloor.of(new double[0], 1).value()).isZero();
        assertThat(BlendFit.Floor.parse("item-item")).isEqualTo(BlendFit.Floor.ITEM_ITEM);
        assertThat(BlendFit.Floor.HAND_SET.option()).isEqualTo("hand-set");
    }

    private static double[] weights(double interests, double negative) {
        double[] w = new double[Recommender.Signal.values().length];
        w[Recommender.Signal.NEIGHBOURS.ordinal()] = 1;
        w[Recommender.Signal.INTERESTS.ordinal()] = interests;
        w[Recommender.Signal.NEGATIVE_NEIGHBOURS.ordinal()] = negative;
        return w;
    }

    /**
     * 150 users' cases, 40 candidates each: neighbours and interests uniform in [0, 1], negative
     * neighbours in [-1, 0] (fresh) or [-0.8, 0] (stale); liked, the top 3 by neighbours +
     * 0.3·interests, plus the negative signal on the fresh graphs (on the stale ones it is
     * noise). Each condition its own seed.
     */
    private static List<BlendFit.Case> freshOrStaleCases(boolean stale) {
        Random random = new Random(stale ? 31 : 29);
        int negative = Recommender.Signal.NEGATIVE_NEIGHBOURS.ordinal();
        int neighbours = Recommender.Signal.NEIGHBOURS.ordinal();
        int interests = Recommender.Signal.INTERESTS.ordinal();
        List<BlendFit.Case> cases = new ArrayList<>();
        for (int user = 0; user < 150; user++) {
            List<String> items = new ArrayList<>();
            float[][] values = new float[40][];
            double[] truth = new double[40];
            for (int c = 0; c < 40; c++) {
                items.add("u" + user + "-i" + c);
                values[c] = new float[Recommender.Signal.values().length];
                values[c][neighbours] = random.nextFloat();
                values[c][interests] = random.nextFloat();
                values[c][negative] = (stale ? -0.8f : -1f) * random.nextFloat();
                truth[c] = values[c][neighbours] + 0.3 * values[c][interests]
                        + (stale ? 0 : values[c][negative]);
            }
            Set<String> liked = IntStream.range(0, 40).boxed()
                    .sorted(Comparator.comparingDouble(c -> -truth[c])).limit(3)
                    .map(items::get).collect(Collectors.toCollection(HashSet::new));
            cases.add(new BlendFit.Case(new Recommender.Signals(items, values), liked));
        }
        return cases;
    }

    /**
     * The grid's NDCG (relevant items' positions counted, no sort) equals the metric on the
     * recommender's own top k, on signals with ties, zero scores (the backfill) and negative
     * ones, and relevant items that are no candidate.
     */
    @Test
    void ndcgWithoutSortingEqualsTheMetricOnTheTopK() {
        Random random = new Random(23);
        for (int user = 0; user < 300; user++) {
            int n = 5 + random.nextInt(60);
            List<String> items = new ArrayList<>();
            float[][] values = new float[n][];
            for (int c = 0; c < n; c++) {
                items.add("i" + random.nextInt(1000) + "-" + c);
                values[c] = new float[Recommender.Signal.values().length];
                for (int s = 0; s < values[c].length; s++) {
                    // coarse values: many ties, many zeros
                    values[c][s] = random.nextInt(4) == 0 ? 0 : random.nextInt(3) / 2f;
                }
                values[c][Recommender.Signal.NEGATIVE_NEIGHBOURS.ordinal()] *= -1;
            }
            Set<String> relevant = new HashSet<>();
            for (int r = 0; r < 1 + random.nextInt(8); r++) {
                relevant.add(random.nextInt(5) == 0 ? "not-a-candidate-" + r
                        : items.get(random.nextInt(n)));
            }
            Recommender.Signals signals = new Recommender.Signals(items, values);
            BlendFit.Case c = new BlendFit.Case(signals, relevant);
            double[] weights = new double[Recommender.Signal.values().length];
            for (int s = 0; s < weights.length; s++) {
                weights[s] = random.nextInt(3) / 2.0;
            }
            for (int k : new int[] {1, 3, 10}) {
                double expected = dev.interestgraph.recommend.RankingMetrics.at(k,
                        BlendFit.topK(signals, weights, k), relevant).ndcg;
                assertThat(BlendFit.ndcg(c, weights, k)).as("user %d, k %d", user, k)
                        .isEqualTo(expected, org.assertj.core.api.Assertions.within(1e-12));
            }
        }
    }

    /**
     * Pruning dominated candidates changes no combination's NDCG: random cases with ties, zero
     * and negative scores, each scored under random non-negative weights before and after.
     */
    @Test
    void pruningDominatedCandidatesChangesNoNdcg() {
        Random random = new Random(29);
        int pruned = 0;
        int total = 0;
        for (int user = 0; user < 200; user++) {
            int n = 20 + random.nextInt(300);
            List<String> items = new ArrayList<>();
            float[][] values = new float[n][];
            for (int c = 0; c < n; c++) {
                items.add(String.format("i%04d", random.nextInt(10_000)) + "-" + c);
                values[c] = new float[Recommender.Signal.values().length];
                for (int s = 0; s < values[c].length; s++) {
                    values[c][s] = random.nextInt(3) == 0 ? 0
                            : random.nextBoolean() ? random.nextInt(3) / 2f : random.nextFloat();
                }
                values[c][Recommender.Signal.NEGATIVE_NEIGHBOURS.ordinal()] *= -1;
            }
            Set<String> relevant = new HashSet<>();
            for (int r = 0; r < 1 + random.nextInt(6); r++) {
                relevant.add(items.get(random.nextInt(n)));
            }
            BlendFit.Case c = new BlendFit.Case(new Recommender.Signals(items, values), relevant);
            BlendFit.Case smaller = BlendFit.prune(c, 10);
            assertThat(smaller.signals().items()).containsAll(relevant);
            total += n;
            pruned += n - smaller.signals().items().size();
            for (int trial = 0; trial < 20; trial++) {
                double[] weights = new double[Recommender.Signal.values().length];
                for (int s = 0; s < weights.length; s++) {
                    weights[s] = random.nextInt(4) == 0 ? 0 : random.nextDouble();
                }
                for (int k : new int[] {1, 5, 10}) {
                    assertThat(BlendFit.ndcg(smaller, weights, k)).as("user %d k %d", user, k)
                            .isEqualTo(BlendFit.ndcg(c, weights, k),
                                    org.assertj.core.api.Assertions.within(1e-12));
                }
            }
        }
        // six independent random signals on a few hundred candidates: few are dominated k
        // times (on real signals, three of them mostly 0, most are), but some are
        assertThat(pruned).as("dominated candidates pruned of %d", total).isPositive();
    }

    @Test
    void topKBackfillsAsTheRecommenderDoes() {
        // columns: interests, short-term, neighbours, community, popularity
        Recommender.Signals signals = new Recommender.Signals(List.of("a", "b", "c", "d"),
                new float[][] {
                    {0, 0, 0, 0, 0.9f}, // popular only
                    {0, 0, 0.5f, 0, 0.1f}, // a neighbour
                    {0, 0, 0, 0.3f, 0.2f}, // the user's community
                    {0, 0, 0, 0, 0.5f},
                });
        double[] neighboursOnly = {0.03, 0.01, 1, 0, 0};
        // b the only positive score; then c by community, then a and d by popularity (not by id)
        assertThat(BlendFit.topK(signals, neighboursOnly, 4)).containsExactly("b", "c", "a", "d");
        assertThat(BlendFit.topK(signals, neighboursOnly, 2)).containsExactly("b", "c");
        // with popularity weighted, every candidate scores: the plain linear ranking
        assertThat(BlendFit.topK(signals, new double[] {0, 0, 1, 0, 1}, 4))
                .containsExactly("a", "b", "d", "c");
    }
}
