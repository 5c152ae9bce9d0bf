package dev.interestgraph.eval;

import dev.interestgraph.analytics.EaseModel;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.recommend.RankingMetrics;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * EASE^R as the evaluation's baseline: X = the liked items (rating ≥ 3.5) of every user's training
 * events; λ chosen on a validation window cut from the training part, never on the target. The
 * validation window: each user's training events (events[:b]) cut again at ⌊0.8·b⌋ — the model
 * is fitted on every user's events[:⌊0.8·b⌋] and scored (NDCG@10, same exclusions as the
 * evaluation) against each user's liked items of events[⌊0.8·b⌋:b].
 */
public final class EaseBaseline {
    /** λ values tried: around the 300 the field's MovieLens-size runs settle on. */
    public static final double[] LAMBDAS = {100, 300, 1000};
    /** Where each user's training events are cut again for validation. */
    public static final double VALIDATION_CUT = 0.8;
    /**
     * The stale condition's cut inside the training part: a / b of the evaluation (0.6 / 0.8) of
     * the validation cut, so that the stale graph lags the validation cut as "before the update"
     * lags b.
     */
    static final double STALE_CUT = VALIDATION_CUT * 0.6 / 0.8;

    private EaseBaseline() {}

    /**
     * EASE^R alone under the evaluation's protocol, without the job replays (minutes, not the
     * full evaluation's hour): {@code java -cp ... dev.interestgraph.eval.EaseBaseline
     * ../shared/data/ml-latest-small [λ,λ,...]}. Prints the validation, the chosen λ, the fit's
     * cost and the scores at K = 10 of the users with a relevant target.
     */
    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: EaseBaseline <MovieLens dir> [λ,λ,...]");
            System.exit(2);
        }
        double[] lambdas = args.length > 1 ? java.util.Arrays.stream(args[1].split(","))
                .mapToDouble(Double::parseDouble).toArray() : LAMBDAS;
        List<UserAction> replay = dev.interestgraph.data.MovieLensDataset
                .load(java.nio.file.Path.of(args[0]), 0).events().stream()
                .filter(e -> e.action == dev.interestgraph.model.Action.RATE)
                .collect(java.util.stream.Collectors.toList());
        TemporalSplit split = TemporalSplit.standard(replay);
        List<UserAction> training = split.afterUpdate();
        String tooLarge = tooLargeReason(training, EaseModel.PRACTICAL_MAX_ITEMS);
        if (tooLarge != null) {
            System.err.println("EASE^R not computed: " + tooLarge);
            System.exit(1);
        }
        Selection selection = selectLambda(training, lambdas, 10);
        System.out.printf("validation NDCG@10 by λ: %s → λ = %.0f (%,d items, %.1f s CPU per fit)%n",
                selection.validationNdcg(), selection.lambda(), selection.validationItems(),
                selection.cpuSecondsPerFit());
        negativesOnValidation(selection, training);
        long started = System.nanoTime();
        double cpu = cpuSeconds();
        EaseModel model = EaseModel.fit(likedByUser(training), selection.lambda());
        System.out.printf("final model: %,d items, dense matrices %,d MB, fit %.1f s CPU "
                + "(%.1f s wall)%n", model.items().size(),
                EaseModel.denseBytes(model.items().size()) / 1_000_000, cpuSeconds() - cpu,
                (System.nanoTime() - started) / 1e9);
        Map<String, Set<String>> liked = likedByUser(training);
        Map<String, Set<String>> seen = seenByUser(training);
        RankingMetrics.Summary summary = new RankingMetrics.Summary();
        split.relevantTargets().forEach((user, targets) -> summary.add(RankingMetrics.at(10,
                model.recommend(liked.getOrDefault(user, Set.of()),
                        seen.getOrDefault(user, Set.of()), 10), targets)));
        System.out.printf("after update (at b), K = 10, %d users: P %.4f R %.4f NDCG %.4f "
                + "HR %.4f%n", summary.users(), summary.precision(), summary.recall(),
                summary.ndcg(), summary.hitRate());
        neighbourSignalCheck(model, split, training, liked, seen);
    }

    /**
     * What the neighbour signal our recommender takes from EASE keeps of EASE^R's own ranking
     * (the other weights 0), one difference at a time, on the target (K = 10): EASE^R's full
     * rows; their positive part only; each item's top {@code 1000} positive weights (the
     * evaluation's neighbour table, summed over the liked items as EASE^R does); and the same
     * table summed over every rated item weighted as the graph weighs a rating's edge (0–5 stars
     * → −1…+1, positive only; no decay, no per-user normalisation, which changes no ranking
     * without other signals).
     */
    static void neighbourSignalCheck(EaseModel model, TemporalSplit split,
            List<UserAction> training, Map<String, Set<String>> liked,
            Map<String, Set<String>> seen) {
        Map<String, Map<String, Double>> starWeights = new HashMap<>();
        for (UserAction event : training) {
            if (event.action == dev.interestgraph.model.Action.RATE && event.itemId != null) {
                starWeights.computeIfAbsent(event.userId, u -> new HashMap<>())
                        .put(event.itemId, (event.value - 2.5) / 2.5); // the latest rating
            }
        }
        Map<String, Map<String, Float>> table = model.neighbours(1000);
        Map<String, RankingMetrics.Summary> rows = new java.util.LinkedHashMap<>();
        List.of("EASE^R (full rows)", "positive B_ij only (full rows)",
                "top 1000 positive per item (the neighbour table), liked items",
                "top 1000 positive per item, edges weighted by stars").forEach(
                        name -> rows.put(name, new RankingMetrics.Summary()));
        List<RankingMetrics.Summary> summaries = new ArrayList<>(rows.values());
        split.relevantTargets().forEach((user, targets) -> {
            Set<String> userLiked = liked.getOrDefault(user, Set.of());
            Set<String> exclude = seen.getOrDefault(user, Set.of());
            summaries.get(0).add(RankingMetrics.at(10,
                    model.recommend(userLiked, exclude, 10, false), targets));
            summaries.get(1).add(RankingMetrics.at(10,
                    model.recommend(userLiked, exclude, 10, true), targets));
            Map<String, Double> binary = new HashMap<>();
            userLiked.forEach(item -> binary.put(item, 1.0));
            summaries.get(2).add(RankingMetrics.at(10, sumNeighbours(table, binary, exclude, 10),
                    targets));
            Map<String, Double> stars = new HashMap<>();
            starWeights.getOrDefault(user, Map.of()).forEach((item, w) -> {
                if (w > 0) {
                    stars.put(item, w);
                }
            });
            summaries.get(3).add(RankingMetrics.at(10, sumNeighbours(table, stars, exclude, 10),
                    targets));
        });
        System.out.println("| neighbour signal (other weights 0) | NDCG@10 | R@10 |");
        System.out.println("|---|---|---|");
        rows.forEach((name, m) -> System.out.printf("| %s | %.4f | %.4f |%n", name, m.ndcg(),
                m.recall()));
    }

    /**
     * Whether EASE neighbour tables should keep negative weights ({@code
     * analytics.ease.negatives}), decided on the validation window only (the model fitted on
     * every user's events[:⌊0.8·b⌋] at the chosen λ, targets their liked items of
     * events[⌊0.8·b⌋:b]; the target events[b:] are never read): the neighbour signal alone,
     * each item's top 1000 positive weights with and without its 1000 most negative ones, summed
     * over the liked items (as EASE^R sums) and over the rated items weighted by stars as the
     * graph weighs them (−1…+1, positive only). Two conditions, as the evaluation has two
     * phases: <b>fresh</b>, the user's items up to the validation cut (like "after the update":
     * ranked right after the graph's cut), and <b>stale</b>, the user's items up to an earlier cut
     * in the same proportion as a to b (events[:⌊0.6·b⌋], like "before the update": a graph
     * that has not seen the user's latest events), the same model and targets. Returns NDCG@10
     * and R@10 per row.
     */
    static Map<String, double[]> negativesOnValidation(Selection selection,
            List<UserAction> training) {
        TemporalSplit inner = selection.inner();
        TemporalSplit stale = new TemporalSplit(training, STALE_CUT, VALIDATION_CUT);
        Map<String, double[]> rows = new LinkedHashMap<>();
        for (boolean isStale : new boolean[] {false, true}) {
            List<UserAction> userEvents = isStale ? stale.beforeUpdate() : inner.afterUpdate();
            Map<String, Set<String>> liked = likedByUser(userEvents);
            Map<String, Set<String>> seen = seenByUser(userEvents);
            Map<String, Map<String, Double>> stars = starWeights(userEvents);
            for (boolean negatives : new boolean[] {false, true}) {
                Map<String, Map<String, Float>> table = selection.validationModel()
                        .neighbours(1000, negatives);
                RankingMetrics.Summary binary = new RankingMetrics.Summary();
                RankingMetrics.Summary starred = new RankingMetrics.Summary();
                inner.relevantTargets().forEach((user, targets) -> {
                    Set<String> exclude = seen.getOrDefault(user, Set.of());
                    Map<String, Double> ones = new HashMap<>();
                    liked.getOrDefault(user, Set.of()).forEach(item -> ones.put(item, 1.0));
                    binary.add(RankingMetrics.at(10, sumNeighbours(table, ones, exclude, 10),
                            targets));
                    starred.add(RankingMetrics.at(10, sumNeighbours(table,
                            stars.getOrDefault(user, Map.of()), exclude, 10), targets));
                });
                String which = (isStale ? "stale (items up to ⌊0.6·b⌋): " : "fresh: ")
                        + (negatives ? "top 1000 positive + 1000 most negative per item"
                                : "top 1000 positive per item");
                rows.put(which + ", liked items", new double[] {binary.ndcg(), binary.recall()});
                rows.put(which + ", edges weighted by stars",
                        new double[] {starred.ndcg(), starred.recall()});
            }
        }
        System.out.printf("validation window (λ = %.0f, %d users), neighbour signal alone:%n",
                selection.lambda(), inner.relevantTargets().size());
        System.out.println("| neighbour table (other weights 0) | NDCG@10 | R@10 |");
        System.out.println("|---|---|---|");
        rows.forEach((name, m) -> System.out.printf("| %s | %.4f | %.4f |%n", name, m[0], m[1]));
        return rows;
    }

    /** User → item → the weight the graph gives a rating's edge (the latest; 0–5 → −1…+1), > 0. */
    static Map<String, Map<String, Double>> starWeights(List<UserAction> events) {
        Map<String, Map<String, Double>> weights = new HashMap<>();
        for (UserAction event : events) {
            if (event.action == dev.interestgraph.model.Action.RATE && event.itemId != null) {
                weights.computeIfAbsent(event.userId, u -> new HashMap<>())
                        .put(event.itemId, (event.value - 2.5) / 2.5);
            }
        }
        weights.values().forEach(m -> m.values().removeIf(w -> w <= 0));
        return weights;
    }

    /** Σ weight(i)·table(i → j) over the user's items; top k by score, ties by item id. */
    static List<String> sumNeighbours(Map<String, Map<String, Float>> table,
            Map<String, Double> weights, Set<String> exclude, int k) {
        Map<String, Double> scores = new HashMap<>();
        weights.forEach((item, w) -> table.getOrDefault(item, Map.of()).forEach((other, b) -> {
            if (!exclude.contains(other)) {
                scores.merge(other, w * b, Double::sum);
            }
        }));
        return scores.entrySet().stream()
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed()
                        .thenComparing(Map.Entry.comparingByKey()))
                .limit(k).map(Map.Entry::getKey).collect(java.util.stream.Collectors.toList());
    }

    /**
     * The validation: NDCG@10 per λ, the chosen λ, its model (null in {@code Evaluation.Result}:
     * dropped once the blend is fitted), and the mean time of one fit.
     */
    public record Selection(double lambda, Map<Double, Double> validationNdcg,
            EaseModel validationModel, int validationItems, double secondsPerFit,
            double cpuSecondsPerFit, TemporalSplit inner) {}

    /** CPU time of this thread, in seconds: what a fit costs on a machine others load too. */
    static double cpuSeconds() {
        return java.lang.management.ManagementFactory.getThreadMXBean()
                .getCurrentThreadCpuTime() / 1e9;
    }

    /** Chooses λ on the validation window inside {@code training} (every user's events[:b]). */
    public static Selection selectLambda(List<UserAction> training, double[] lambdas, int k) {
        TemporalSplit inner = new TemporalSplit(training, VALIDATION_CUT, VALIDATION_CUT);
        List<UserAction> fitEvents = inner.afterUpdate();
        Map<String, Set<String>> liked = likedByUser(fitEvents);
        Map<String, Set<String>> seen = seenByUser(fitEvents);
        Map<String, Set<String>> targets = inner.relevantTargets();
        Map<Double, Double> ndcg = new LinkedHashMap<>();
        EaseModel best = null;
        double bestNdcg = Double.NEGATIVE_INFINITY;
        double seconds = 0;
        double cpu = 0;
        for (double lambda : lambdas) {
            long started = System.nanoTime();
            double cpuStarted = cpuSeconds();
            EaseModel model = EaseModel.fit(liked, lambda);
            seconds += (System.nanoTime() - started) / 1e9;
            cpu += cpuSeconds() - cpuStarted;
            double total = 0;
            for (Map.Entry<String, Set<String>> user : targets.entrySet()) {
                total += RankingMetrics.at(k, model.recommend(
                        liked.getOrDefault(user.getKey(), Set.of()),
                        seen.getOrDefault(user.getKey(), Set.of()), k), user.getValue()).ndcg;
            }
            double mean = targets.isEmpty() ? 0 : total / targets.size();
            ndcg.put(lambda, mean);
            if (mean > bestNdcg) { // ties: the smaller λ (first)
                bestNdcg = mean;
                best = model;
            }
        }
        return new Selection(best.lambda(), ndcg, best, best.items().size(),
                seconds / lambdas.length, cpu / lambdas.length, inner);
    }

    /**
     * Why EASE^R cannot be fitted on {@code events} (every user's training events), or null when
     * it can: the dense model takes 16·n² bytes and O(n³) time in the n items liked at least
     * once, and beyond {@code maxItems} ({@link EaseModel#PRACTICAL_MAX_ITEMS} in the
     * evaluation, as in the analytics job) it would exhaust the heap or run for hours. The
     * validation window's model is fitted on a prefix of the same events, so it is never larger.
     */
    public static String tooLargeReason(Collection<UserAction> events, int maxItems) {
        int items = EaseModel.itemCount(likedByUser(events));
        if (items <= maxItems) {
            return null;
        }
        long bytes = EaseModel.denseBytes(items);
        return String.format("%,d items are liked at least once in every user's events[:b], "
                + "more than the dense model's limit of %,d (`--eval.ease-max-items`, default "
                + "EaseModel.PRACTICAL_MAX_ITEMS = %,d): it would need %s of heap (16·n² bytes) "
                + "and O(n³) time; `--eval.max-users` bounds the catalogue", items, maxItems,
                EaseModel.PRACTICAL_MAX_ITEMS, bytes >= 1e9 ? String.format("%,.1f GB", bytes / 1e9)
                        : String.format("%,.0f MB", bytes / 1e6));
    }

    /** User → distinct liked items (rating ≥ 3.5, or a positive action): the rows of X. */
    public static Map<String, Set<String>> likedByUser(Collection<UserAction> events) {
        Map<String, Set<String>> liked = new TreeMap<>();
        for (UserAction event : events) {
            if (TemporalSplit.isRelevant(event) && event.itemId != null
                    && !event.itemId.isEmpty()) {
                liked.computeIfAbsent(event.userId, u -> new java.util.LinkedHashSet<>())
                        .add(event.itemId);
            }
        }
        return liked;
    }

    static Map<String, Set<String>> seenByUser(Collection<UserAction> events) {
        Map<String, Set<String>> seen = new HashMap<>();
        for (UserAction event : events) {
            if (event.itemId != null && !event.itemId.isEmpty()) {
                seen.computeIfAbsent(event.userId, u -> new java.util.HashSet<>())
                        .add(event.itemId);
            }
        }
        return seen;
    }
}
