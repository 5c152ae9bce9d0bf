package dev.interestgraph.eval;

import dev.interestgraph.recommend.RankingMetrics;
import dev.interestgraph.recommend.Recommender;
import dev.interestgraph.recommend.Recommender.Signal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Fits the recommender's signal weights (interests, short-term profile, neighbours, community,
 * popularity) by grid search: every combination of the grid is scored by mean NDCG@k over
 * validation cases, each case a user's candidates with their unweighted signals ({@link
 * Recommender#signals}) and the items the user went on to like. A recommendation's score is linear
 * in the weights, so each combination costs one pass over the stored signals, not a new
 * recommender run. Ties between combinations go to the first in grid order (smaller weights
 * first), so the fit is deterministic.
 */
public final class BlendFit {
    private BlendFit() {}

    /** One validation user: their candidates' signals and their relevant items. */
    public record Case(Recommender.Signals signals, Set<String> relevant) {}

    /** The values tried per signal. */
    public record Grid(double[] interests, double[] shortTerm, double[] neighbours,
            double[] community, double[] popularity) {

        /**
         * Neighbours fixed at 1 (only ratios matter: a common scale changes no ranking), the
         * others log-spaced from 0 up to and past the hand-set defaults (which are points of the
         * grid): EASE's neighbour scores, scaled by the model's largest weight, are much smaller
         * than cosine similarities, so content and popularity must be able to act as tie-breakers
         * at a few thousandths.
         */
        public static Grid standard() {
            return new Grid(new double[] {0, 0.003, 0.01, 0.03, 0.1, 0.3},
                    new double[] {0, 0.003, 0.01, 0.03, 0.1, 0.3},
                    new double[] {1},
                    new double[] {0, 0.1, 0.5},
                    new double[] {0, 0.005, 0.01, 0.02, 0.05, 0.1});
        }

        int size() {
            return interests.length * shortTerm.length * neighbours.length * community.length
                    * popularity.length;
        }
    }

    /** The chosen weights, their validation NDCG@k, and what the grid held. */
    public record Result(Recommender.Weights weights, double ndcg, double baseNdcg,
            int combinations, int cases) {
        /** "interests 0.10, short-term 0.03, ...". */
        public String describe() {
            return describe(weights);
        }

        public static String describe(Recommender.Weights w) {
            return String.format(Locale.ROOT, "interests %.2f, short-term %.2f, neighbours %.2f, "
                    + "community %.2f, popularity %.2f", w.interests, w.shortTerm, w.neighbours,
                    w.community, w.popularity);
        }
    }

    /**
     * The grid's best weights by mean NDCG@{@code k} over {@code cases}; the structural settings
     * (cold-start edges, half-life) are copied from {@code base}, whose own NDCG is reported too.
     */
    public static Result fit(List<Case> cases, Grid grid, Recommender.Weights base, int k) {
        double baseNdcg = ndcg(cases, vector(base), k);
        double best = Double.NEGATIVE_INFINITY;
        double[] bestWeights = null;
        for (double interests : grid.interests()) {
            for (double shortTerm : grid.shortTerm()) {
                for (double neighbours : grid.neighbours()) {
                    for (double community : grid.community()) {
                        for (double popularity : grid.popularity()) {
                            double[] w = new double[Signal.values().length];
                            w[Signal.INTERESTS.ordinal()] = interests;
                            w[Signal.SHORT_TERM.ordinal()] = shortTerm;
                            w[Signal.NEIGHBOURS.ordinal()] = neighbours;
                            w[Signal.COMMUNITY.ordinal()] = community;
                            w[Signal.POPULARITY.ordinal()] = popularity;
                            double ndcg = ndcg(cases, w, k);
                            if (ndcg > best) {
                                best = ndcg;
                                bestWeights = w;
                            }
                        }
                    }
                }
            }
        }
        Recommender.Weights fitted = base.copy();
        fitted.interests = bestWeights[Signal.INTERESTS.ordinal()];
        fitted.shortTerm = bestWeights[Signal.SHORT_TERM.ordinal()];
        fitted.neighbours = bestWeights[Signal.NEIGHBOURS.ordinal()];
        fitted.community = bestWeights[Signal.COMMUNITY.ordinal()];
        fitted.popularity = bestWeights[Signal.POPULARITY.ordinal()];
        return new Result(fitted, best, baseNdcg, grid.size(), cases.size());
    }

    static double[] vector(Recommender.Weights weights) {
        double[] w = new double[Signal.values().length];
        for (Signal signal : Signal.values()) {
            w[signal.ordinal()] = signal.weightIn(weights);
        }
        return w;
    }

    /**
     * Mean NDCG@k of the cases ranked by {@code weights}: as the recommender ranks, its backfill
     * of users with fewer than k positively scored candidates included ({@link
     * Recommender#rank}).
     */
    static double ndcg(List<Case> cases, double[] weights, int k) {
        if (cases.isEmpty()) {
            return 0;
        }
        double total = 0;
        for (Case c : cases) {
            total += RankingMetrics.at(k, topK(c.signals(), weights, k), c.relevant()).ndcg;
        }
        return total / cases.size();
    }

    static List<String> topK(Recommender.Signals signals, double[] weights, int k) {
        int n = signals.items().size();
        double[] score = new double[n];
        for (int c = 0; c < n; c++) {
            score[c] = signals.score(c, weights);
        }
        float[][] v = signals.values();
        int community = Signal.COMMUNITY.ordinal();
        int popularity = Signal.POPULARITY.ordinal();
        // the recommender's own rule, backfill included (Recommender.rank), reversed
        java.util.Comparator<Integer> worstFirst = (a, b) -> Recommender.rank(
                score[b], v[b][community], v[b][popularity], signals.items().get(b),
                score[a], v[a][community], v[a][popularity], signals.items().get(a));
        PriorityQueue<Integer> top = new PriorityQueue<>(k + 1, worstFirst);
        for (int c = 0; c < n; c++) {
            // the grid runs this for every combination and user over ~10,000 candidates: one
            // that ranks below the current k-th never enters (items are distinct: no equal rank)
            if (!top.isEmpty() && top.size() >= k && worstFirst.compare(c, top.peek()) < 0) {
                continue;
            }
            top.add(c);
            if (top.size() > k) {
                top.poll();
            }
        }
        List<String> ranked = new ArrayList<>(top.size());
        while (!top.isEmpty()) {
            ranked.add(0, signals.items().get(top.poll()));
        }
        return ranked;
    }

    /** The grid as text, for the report. */
    static String describe(Grid grid) {
        return String.format(Locale.ROOT, "interests %s × short-term %s × neighbours %s × "
                + "community %s × popularity %s (%d combinations)", list(grid.interests()),
                list(grid.shortTerm()), list(grid.neighbours()), list(grid.community()),
                list(grid.popularity()), grid.size());
    }

    private static String list(double[] values) {
        return java.util.Arrays.stream(values).mapToObj(v -> String.format(Locale.ROOT, "%s", v))
                .collect(Collectors.joining(", ", "{", "}"));
    }
}
