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

    /**
     * One validation user: their candidates' signals and their relevant items; {@code
     * relevantIndex}, the candidates among the relevant items (their rows in {@code signals}).
     */
    public record Case(Recommender.Signals signals, Set<String> relevant, int[] relevantIndex) {
        public Case(Recommender.Signals signals, Set<String> relevant) {
            this(signals, relevant, java.util.stream.IntStream.range(0, signals.items().size())
                    .filter(c -> relevant.contains(signals.items().get(c))).toArray());
        }
    }

    /**
     * What a fit maximises over the validation window's two conditions (docs/evaluation-ease.md):
     * <b>fresh</b> cases rank each user's graph right after its cut (as the streaming operator
     * does, every delta refreshing it), <b>stale</b> ones the same users' graphs at an earlier
     * cut, with the same targets (as a graph that has not seen the user's latest events).
     */
    public enum Objective {
        /** The fresh cases' mean NDCG@k alone. */
        FRESH,
        /** The mean of the fresh and the stale cases' mean NDCG@k (the same users in each). */
        MEAN,
        /**
         * The fresh cases' mean NDCG@k among the weights whose stale NDCG@k is at least a floor
         * ({@link Floor}: by default the item–item cosine recommender's stale figure and a
         * margin): a choice that helps fresh graphs by costing stale ones (EASE's negative
         * weights did) is ruled out instead of traded off. When no grid point meets the floor,
         * the hand-set weights.
         */
        GUARDED;

        /** "guarded" → {@link #GUARDED} (case-insensitive). */
        public static Objective parse(String name) {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        }

        /** "guarded", as the option spells it. */
        public String option() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Where a {@link Objective#GUARDED} fit's stale floor comes from. The guard protects the
     * evaluation's "before the update" goal — ours on a graph that lags its cut stays ahead of
     * the item–item cosine recommender — so by default the floor is that goal measured on the
     * validation window; the hand-set weights' stale figure, the earlier floor, is a choice that
     * no goal asks for (on MovieLens it ruled out EASE's negative weights at every scale that
     * helps a fresh graph, docs/evaluation-ease.md).
     */
    public enum Floor {
        /**
         * The item–item cosine recommender's mean stale NDCG@k on the same validation users,
         * graphs' cut and targets, plus a margin of a stated number of its standard errors
         * across users ({@link StaleFloor}).
         */
        ITEM_ITEM,
        /** The hand-set weights' stale NDCG@k ("no worse than the defaults on a stale graph"). */
        HAND_SET;

        /** "item-item" → {@link #ITEM_ITEM} (case-insensitive). */
        public static Floor parse(String name) {
            return valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        }

        /** "item-item", as the option spells it. */
        public String option() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * A stale floor taken from a baseline's per-user stale NDCG@k: their {@code mean}, its
     * {@code standardError} across users (the sample standard deviation over √users) and the
     * {@code margin} in standard errors; {@link #value} = mean + margin · standard error. The
     * margin states the rule: a blend is admitted when its stale figure beats the baseline's by
     * more than the validation window's sampling noise would explain, since the window and the
     * target are different users' events and a point chosen at the floor's edge can fall below
     * the baseline on the target.
     */
    public record StaleFloor(double mean, double standardError, double margin) {

        /** The floor of a baseline's per-user NDCG values with {@code margin} standard errors. */
        public static StaleFloor of(double[] perUser, double margin) {
            int n = perUser.length;
            if (n == 0) {
                return new StaleFloor(0, 0, margin);
            }
            double mean = java.util.Arrays.stream(perUser).sum() / n;
            double squares = java.util.Arrays.stream(perUser).map(v -> (v - mean) * (v - mean))
                    .sum();
            double sd = n > 1 ? Math.sqrt(squares / (n - 1)) : 0;
            return new StaleFloor(mean, sd / Math.sqrt(n), margin);
        }

        public double value() {
            return mean + margin * standardError;
        }
    }

    /**
     * The validation cases a fit scores and its objective: {@code stale} holds the same users as
     * {@code fresh} (it may be empty for {@link Objective#FRESH}); {@code staleFloor}, the stale
     * NDCG@k a {@link Objective#GUARDED} fit's weights must reach.
     */
    public record Window(List<Case> fresh, List<Case> stale, Objective objective,
            double staleFloor) {

        /** The fresh cases alone: the plain fit. */
        public static Window fresh(List<Case> cases) {
            return new Window(cases, List.of(), Objective.FRESH, Double.NaN);
        }

        /**
         * Both conditions under {@code objective}; a guarded fit's floor is {@code handSet}'s
         * stale NDCG@k on these cases ({@link Floor#HAND_SET}).
         */
        public static Window of(List<Case> fresh, List<Case> stale, Objective objective,
                Recommender.Weights handSet, int k) {
            return new Window(fresh, stale, objective, objective == Objective.GUARDED
                    ? ndcg(stale, vector(handSet), k) : Double.NaN);
        }

        /**
         * The objective's value of {@code weights}: {@link Double#NEGATIVE_INFINITY} for a
         * guarded fit's weights below the floor, so that no such point is ever chosen.
         */
        double value(double[] weights, int k) {
            switch (objective) {
                case MEAN:
                    return (ndcg(fresh, weights, k) + ndcg(stale, weights, k)) / 2;
                case GUARDED:
                    // the stale figure first: a point below the floor costs no fresh scoring
                    return ndcg(stale, weights, k) >= staleFloor ? ndcg(fresh, weights, k)
                            : Double.NEGATIVE_INFINITY;
                default:
                    return ndcg(fresh, weights, k);
            }
        }
    }

    /**
     * The values tried per signal. {@code negativeNeighbours}: the scale of negative neighbour
     * weights (EASE's with {@code analytics.ease.negatives}); it acts only on tables that carry
     * them, so the five-signal grids leave it at 1 (what the recommender does by default).
     */
    public record Grid(double[] interests, double[] shortTerm, double[] neighbours,
            double[] community, double[] popularity, double[] negativeNeighbours) {

        public Grid(double[] interests, double[] shortTerm, double[] neighbours,
                double[] community, double[] popularity) {
            this(interests, shortTerm, neighbours, community, popularity, new double[] {1});
        }

        /**
         * The scales of negative neighbour weights the EASE fit tries: from ignoring them to
         * taking them as published, graded, since a graph ranked long after its cut (stale)
         * loses by them what a fresh one gains (docs/evaluation-ease.md).
         */
        public static final double[] NEGATIVE_SCALES = {0, 0.25, 0.5, 1};

        /** This grid with {@code scales} for the negative neighbour weights. */
        public Grid withNegativeNeighbours(double[] scales) {
            return new Grid(interests, shortTerm, neighbours, community, popularity, scales);
        }

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

        /**
         * The no-neighbour recommender's grid (interests only, multi-interest retrieval): without
         * an item graph the neighbour and community signals are 0 for every candidate, so both
         * stay at 0; interests, short-term and popularity each log-spaced from 0 to 1. The origin
         * ranks by the backfill (popularity) and (0, 0, p) is popularity alone, so the fit never
         * scores below popularity on the validation window; the hand-set content weights
         * (0.1, 0.1, 0.05) are within a refinement step ({@link #refine}).
         */
        public static Grid noNeighbours() {
            double[] logSpaced = {0, 0.01, 0.03, 0.1, 0.3, 1};
            return new Grid(logSpaced, logSpaced, new double[] {0}, new double[] {0}, logSpaced);
        }

        /**
         * Multi-interest retrieval's grid: each interest ranks its candidates by interests·cosine
         * + popularity·popularity, so only the ratio of the two orders them — interests fixed,
         * popularity from 0 to 10 times it; short-term (the single score that fills the slots the
         * interests leave) either the interests-only fit's or the hand-set one. The hand-set
         * weights ({@code base}) are a point of the grid, so the fit never scores below them on
         * the validation window.
         */
        public static Grid multiInterest(Recommender.Weights base, double fittedShortTerm) {
            double i = base.interests > 0 ? base.interests : 0.1;
            return new Grid(new double[] {i},
                    java.util.stream.DoubleStream.of(fittedShortTerm, base.shortTerm).distinct()
                            .toArray(),
                    new double[] {0}, new double[] {0},
                    java.util.stream.DoubleStream.of(0, 0.03 * i, 0.1 * i, 0.2 * i, 0.3 * i,
                            0.5 * i, i, 2 * i, 3 * i, 10 * i, base.popularity).distinct()
                            .sorted().toArray());
        }

        /**
         * One step finer around {@code chosen}: per signal, the chosen value and the geometric
         * midpoints to its neighbours in this grid (half the next value above 0), so the log
         * spacing halves where the coarse optimum lies. The chosen point is in the new grid, so
         * a fit on it never scores below the coarse fit on the same cases.
         */
        public Grid refine(Recommender.Weights chosen) {
            return new Grid(around(interests, chosen.interests),
                    around(shortTerm, chosen.shortTerm), around(neighbours, chosen.neighbours),
                    around(community, chosen.community), around(popularity, chosen.popularity),
                    around(negativeNeighbours, chosen.negativeNeighbours));
        }

        private static double[] around(double[] values, double chosen) {
            double[] sorted = values.clone();
            java.util.Arrays.sort(sorted);
            int j = java.util.Arrays.binarySearch(sorted, chosen);
            if (j < 0) {
                return new double[] {chosen};
            }
            List<Double> out = new ArrayList<>();
            if (j > 0) {
                out.add(midpoint(sorted[j - 1], sorted[j]));
            }
            out.add(chosen);
            if (j < sorted.length - 1) {
                out.add(midpoint(sorted[j], sorted[j + 1]));
            }
            return out.stream().mapToDouble(Double::doubleValue).toArray();
        }

        private static double midpoint(double low, double high) {
            return low <= 0 ? high / 2 : Math.sqrt(low * high);
        }

        int size() {
            return interests.length * shortTerm.length * neighbours.length * community.length
                    * popularity.length * negativeNeighbours.length;
        }
    }

    /**
     * The chosen weights, their objective's value on the validation window (mean NDCG@k), the
     * hand-set weights' ({@code baseNdcg}), what the grid held, and whether a grid point met a
     * guarded objective's floor ({@code guardMet}; always true for the other objectives): when
     * none did, the weights are the hand-set ones.
     */
    public record Result(Recommender.Weights weights, double ndcg, double baseNdcg,
            int combinations, int cases, boolean guardMet) {
        public Result(Recommender.Weights weights, double ndcg, double baseNdcg,
                int combinations, int cases) {
            this(weights, ndcg, baseNdcg, combinations, cases, true);
        }

        /** "interests 0.10, short-term 0.03, ...". */
        public String describe() {
            return describe(weights);
        }

        public static String describe(Recommender.Weights w) {
            return "interests " + number(w.interests) + ", short-term " + number(w.shortTerm)
                    + ", neighbours " + number(w.neighbours) + ", community "
                    + number(w.community) + ", popularity " + number(w.popularity)
                    + ", negative neighbours " + number(w.negativeNeighbours);
        }
    }

    /**
     * The grid's best weights by mean NDCG@{@code k} over {@code cases}; the structural settings
     * (cold-start edges, half-life) are copied from {@code base}, whose own NDCG is reported too.
     */
    public static Result fit(List<Case> cases, Grid grid, Recommender.Weights base, int k) {
        return fit(Window.fresh(cases), grid, base, k);
    }

    /**
     * The grid's best weights by {@code window}'s objective; ties to the first in grid order.
     * When no point meets a guarded objective's floor, {@code base} (the hand-set weights) with
     * {@code guardMet} false.
     */
    public static Result fit(Window window, Grid grid, Recommender.Weights base, int k) {
        // prune() relies on it, and a negative weight would turn a signal's meaning around
        for (double[] values : List.of(grid.interests(), grid.shortTerm(), grid.neighbours(),
                grid.community(), grid.popularity(), grid.negativeNeighbours())) {
            for (double value : values) {
                if (!(value >= 0)) {
                    throw new IllegalArgumentException("grid weights are >= 0, got " + value);
                }
            }
        }
        double baseNdcg = window.value(vector(base), k);
        double best = Double.NEGATIVE_INFINITY;
        double[] bestWeights = null;
        for (double interests : grid.interests()) {
            for (double shortTerm : grid.shortTerm()) {
                for (double neighbours : grid.neighbours()) {
                    for (double community : grid.community()) {
                        for (double popularity : grid.popularity()) {
                            for (double negative : grid.negativeNeighbours()) {
                                double[] w = new double[Signal.values().length];
                                w[Signal.INTERESTS.ordinal()] = interests;
                                w[Signal.SHORT_TERM.ordinal()] = shortTerm;
                                w[Signal.NEIGHBOURS.ordinal()] = neighbours;
                                w[Signal.COMMUNITY.ordinal()] = community;
                                w[Signal.POPULARITY.ordinal()] = popularity;
                                w[Signal.NEGATIVE_NEIGHBOURS.ordinal()] = negative;
                                double ndcg = window.value(w, k);
                                if (ndcg > best) {
                                    best = ndcg;
                                    bestWeights = w;
                                }
                            }
                        }
                    }
                }
            }
        }
        if (bestWeights == null) {
            // a guarded fit where no grid point reaches the floor: the hand-set weights
            return new Result(base.copy(), baseNdcg, baseNdcg, grid.size(),
                    window.fresh().size(), false);
        }
        Recommender.Weights fitted = base.copy();
        fitted.interests = bestWeights[Signal.INTERESTS.ordinal()];
        fitted.shortTerm = bestWeights[Signal.SHORT_TERM.ordinal()];
        fitted.neighbours = bestWeights[Signal.NEIGHBOURS.ordinal()];
        fitted.community = bestWeights[Signal.COMMUNITY.ordinal()];
        fitted.popularity = bestWeights[Signal.POPULARITY.ordinal()];
        fitted.negativeNeighbours = bestWeights[Signal.NEGATIVE_NEIGHBOURS.ordinal()];
        return new Result(fitted, best, baseNdcg, grid.size(), window.fresh().size(), true);
    }

    /**
     * {@link #fit} on {@code grid}, then once more on the grid refined around its choice ({@link
     * Grid#refine}): a finer optimum at a tenth of the cost of a grid that fine everywhere. The
     * result reports both grids' combinations.
     */
    public static Result fitRefined(List<Case> cases, Grid grid, Recommender.Weights base,
            int k) {
        return fitRefined(Window.fresh(cases), grid, base, k);
    }

    /**
     * {@link #fitRefined(List, Grid, Recommender.Weights, int)} by {@code window}'s objective.
     * The coarse choice is a point of the refined grid (and meets a guard it met), so the refined
     * fit never scores below it; a coarse fit that fell back to {@code base} is not refined.
     */
    public static Result fitRefined(Window window, Grid grid, Recommender.Weights base, int k) {
        Result coarse = fit(window, grid, base, k);
        if (!coarse.guardMet()) {
            return coarse;
        }
        Result fine = fit(window, grid.refine(coarse.weights()), base, k);
        Result best = fine.ndcg() > coarse.ndcg() ? fine : coarse;
        return new Result(best.weights(), best.ndcg(), coarse.baseNdcg(),
                coarse.combinations() + fine.combinations(), window.fresh().size(), true);
    }

    /**
     * The same grid search for a ranking that is not linear in the weights (multi-interest
     * retrieval: each interest retrieves its own candidates): every combination of the grid is
     * applied to a copy of {@code base} and scored by {@code objective} (e.g. mean validation
     * NDCG@k). Ties go to the first in grid order, as in {@link #fit}.
     */
    public static Result search(Grid grid, Recommender.Weights base,
            java.util.function.ToDoubleFunction<Recommender.Weights> objective, int cases) {
        double baseScore = objective.applyAsDouble(base);
        double best = Double.NEGATIVE_INFINITY;
        Recommender.Weights bestWeights = null;
        for (double interests : grid.interests()) {
            for (double shortTerm : grid.shortTerm()) {
                for (double neighbours : grid.neighbours()) {
                    for (double community : grid.community()) {
                        for (double popularity : grid.popularity()) {
                            Recommender.Weights w = base.copy();
                            w.interests = interests;
                            w.shortTerm = shortTerm;
                            w.neighbours = neighbours;
                            w.community = community;
                            w.popularity = popularity;
                            double score = objective.applyAsDouble(w);
                            if (score > best) {
                                best = score;
                                bestWeights = w;
                            }
                        }
                    }
                }
            }
        }
        return new Result(bestWeights, best, baseScore, grid.size(), cases);
    }

    /** {@link Recommender.Signals#score} over the weighted signals only: the same sum. */
    private static double score(float[] row, double[] weights, int[] active) {
        double score = 0;
        for (int s : active) {
            score += weights[s] * row[s];
        }
        return score;
    }

    /**
     * The cases without the candidates that no grid point can put into a top {@code k}: the
     * grid scores every combination on every user's ~10,000 candidates, and most of them are
     * beaten by many others on every signal. A candidate goes when {@code k} others <i>dominate</i>
     * it — at least its value in every signal and an earlier item id — because with non-negative
     * weights (every grid's) a dominating candidate ranks before it under {@link
     * Recommender#rank} whatever the weights (a higher or equal score, and equal scores end on
     * community, popularity and id, where it is no worse). Such a candidate never enters a top
     * k, and never stands before a relevant item that is in one (that item would have k before
     * it), so every combination's NDCG@k is unchanged; relevant items are always kept. Each
     * candidate is checked against the strongest candidates first (by the sum of their
     * signals) and kept when {@code k} dominators are not among the first 1,000: a kept
     * candidate costs time, never a different figure.
     */
    public static List<Case> prune(List<Case> cases, int k) {
        List<Case> pruned = new ArrayList<>(cases.size());
        for (Case c : cases) {
            pruned.add(prune(c, k));
        }
        return pruned;
    }

    static Case prune(Case c, int k) {
        Recommender.Signals signals = c.signals();
        float[][] v = signals.values();
        List<String> ids = signals.items();
        int n = v.length;
        Integer[] strongest = new Integer[n];
        double[] sum = new double[n];
        for (int i = 0; i < n; i++) {
            strongest[i] = i;
            for (float x : v[i]) {
                sum[i] += x;
            }
        }
        java.util.Arrays.sort(strongest, (a, b) -> Double.compare(sum[b], sum[a]));
        java.util.Set<Integer> relevant = new java.util.HashSet<>();
        for (int r : c.relevantIndex()) {
            relevant.add(r);
        }
        int scan = Math.min(n, 1000);
        List<String> keptIds = new ArrayList<>();
        List<float[]> keptValues = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int dominators = 0;
            if (!relevant.contains(i)) {
                for (int j = 0; j < scan && dominators < k; j++) {
                    int d = strongest[j];
                    if (sum[d] < sum[i]) {
                        break; // a dominator's sum is at least as large
                    }
                    if (d != i && dominates(v[d], v[i]) && ids.get(d).compareTo(ids.get(i)) < 0) {
                        dominators++;
                    }
                }
            }
            if (dominators < k) {
                keptIds.add(ids.get(i));
                keptValues.add(v[i]);
            }
        }
        return new Case(new Recommender.Signals(keptIds, keptValues.toArray(new float[0][])),
                c.relevant());
    }

    private static boolean dominates(float[] d, float[] c) {
        for (int s = 0; s < c.length; s++) {
            if (d[s] < c[s]) {
                return false;
            }
        }
        return true;
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
        // the signals a combination weighs (skipping a 0 term leaves every sum exactly as is)
        int[] active = java.util.stream.IntStream.range(0, weights.length)
                .filter(s -> weights[s] != 0).toArray();
        // the users in parallel (the grid's combinations × users × candidates are the fit's
        // cost), summed in order: the same figure on any number of threads
        double[] perCase = java.util.stream.IntStream.range(0, cases.size()).parallel()
                .mapToDouble(c -> ndcg(cases.get(c), weights, active, k)).toArray();
        double total = 0;
        for (double ndcg : perCase) {
            total += ndcg;
        }
        return total / cases.size();
    }

    static double ndcg(Case c, double[] weights, int k) {
        return ndcg(c, weights, java.util.stream.IntStream.range(0, weights.length).toArray(), k);
    }

    /**
     * NDCG@k of one case without sorting its candidates: the grid scores every combination on
     * every user's ~10,000 candidates, and only the relevant items' positions count. A relevant
     * item's position is the number of candidates that rank before it ({@link Recommender#rank},
     * a strict order), counted until it reaches k; the scan stops when every relevant item has k
     * before it, which for most users comes after a few hundred candidates. The same figure as
     * {@link RankingMetrics#at} on {@link #topK} (BlendFitTest checks it).
     */
    private static double ndcg(Case c, double[] weights, int[] active, int k) {
        Recommender.Signals signals = c.signals();
        float[][] v = signals.values();
        int[] relevant = c.relevantIndex();
        int community = Signal.COMMUNITY.ordinal();
        int popularity = Signal.POPULARITY.ordinal();
        double[] relevantScore = new double[relevant.length];
        for (int j = 0; j < relevant.length; j++) {
            relevantScore[j] = score(v[relevant[j]], weights, active);
        }
        int[] before = new int[relevant.length];
        int open = relevant.length; // relevant items with fewer than k before them
        for (int cand = 0, n = v.length; cand < n && open > 0; cand++) {
            double score = score(v[cand], weights, active);
            for (int j = 0; j < relevant.length; j++) {
                if (before[j] >= k || cand == relevant[j]) {
                    continue;
                }
                double other = relevantScore[j];
                boolean ahead;
                int tier = score > 0 ? 0 : score == 0 ? 1 : 2;
                int otherTier = other > 0 ? 0 : other == 0 ? 1 : 2;
                if (tier != otherTier) {
                    ahead = tier < otherTier;
                } else if (tier != 1 && score != other) {
                    ahead = score > other;
                } else {
                    int r = relevant[j];
                    ahead = Recommender.rank(score, v[cand][community], v[cand][popularity],
                            signals.items().get(cand), other, v[r][community],
                            v[r][popularity], signals.items().get(r)) < 0;
                }
                if (ahead && ++before[j] >= k) {
                    open--;
                }
            }
        }
        double dcg = 0;
        for (int position : before) {
            if (position < k) {
                dcg += 1.0 / (Math.log(position + 2) / Math.log(2));
            }
        }
        double idcg = 0;
        for (int i = 0; i < Math.min(k, c.relevant().size()); i++) {
            idcg += 1.0 / (Math.log(i + 2) / Math.log(2));
        }
        return dcg / idcg;
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

    /** Three significant digits, no trailing zeros: a refined grid's midpoints (0.0173). */
    static String number(double v) {
        return new java.math.BigDecimal(v).round(new java.math.MathContext(3))
                .stripTrailingZeros().toPlainString();
    }

    /** The grid as text, for the report. */
    static String describe(Grid grid) {
        return String.format(Locale.ROOT, "interests %s × short-term %s × neighbours %s × "
                + "community %s × popularity %s × negative neighbours %s (%d combinations)",
                list(grid.interests()), list(grid.shortTerm()), list(grid.neighbours()),
                list(grid.community()), list(grid.popularity()),
                list(grid.negativeNeighbours()), grid.size());
    }

    /** Values as text, for the report: "{0, 0.25, 0.5, 1}". */
    static String describe(double[] values) {
        return list(values);
    }

    private static String list(double[] values) {
        return java.util.Arrays.stream(values).mapToObj(BlendFit::number)
                .collect(Collectors.joining(", ", "{", "}"));
    }
}
