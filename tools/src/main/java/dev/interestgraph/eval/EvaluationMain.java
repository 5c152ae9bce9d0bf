package dev.interestgraph.eval;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.analytics.AnalyticsOutput;
import dev.interestgraph.analytics.GraphAnalyticsJob;
import dev.interestgraph.analytics.GraphSnapshot;
import dev.interestgraph.data.MovieLensDataset;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.inference.EmbeddingBackends;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.recommend.Recommender;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;

/**
 * {@code make eval DATA=...}: replays a dataset through the real job and writes
 * docs/evaluation.md and docs/evaluation-prequential.png.
 *
 * <p>Options: {@code --eval.data DIR} (a MovieLens release in any of its layouts, see
 * MovieLensDataset; without it the generated dataset with planted drift), {@code --eval.out DIR}
 * (default docs), {@code --eval.sweep true|false}, {@code --eval.prequential-sample N}, {@code
 * --eval.ease true|false} (EASE^R, EASE neighbours and the fitted blend; default true), {@code
 * --eval.ease-lambdas 100,300,1000}, {@code --eval.ease-max-items N} (beyond N liked items the
 * EASE rows are reported as not computed; default EaseModel.PRACTICAL_MAX_ITEMS), {@code
 * --eval.blend true|false}, {@code --eval.blend-objective guarded|fresh|mean} (what the blend fit
 * maximises, {@link BlendFit.Objective}; default guarded), {@code --eval.blend-floor
 * item-item|hand-set} (a guarded fit's stale floor, {@link BlendFit.Floor}; default item-item),
 * {@code --eval.blend-floor-margin 1} (the item-item floor's margin in standard errors across
 * users, {@link BlendFit.StaleFloor}), {@code --eval.blend-ease-lambdas 100,300,1000} (the λ
 * values of the EASE neighbour table the blend fit chooses among besides EASE^R's own; default
 * none: EASE^R's λ only),
 * {@code --eval.blend-ease-neighbours
 * 20,100,300,1000} (the EASE neighbours per item the blend fit chooses among), {@code
 * --eval.blend-windows 2} (validation windows the blend fits pool, {@link
 * Evaluation#withBlendWindows}; 1 is the λ validation's window alone), {@code --eval.gelly true|false} (the Gelly rows; default true), and
 * for reduced runs {@code --eval.max-users N} (the first N users by id, all their events); job
 * options ({@code --graph.prune-threshold 0.1}) apply to every replay.
 */
public final class EvaluationMain {
    private EvaluationMain() {}

    public static void main(String[] args) throws Exception {
        Configuration options = InterestGraphOptions.fromArgs(args);
        String data = options.getString("eval.data", "");
        Path out = Path.of(options.getString("eval.out", "docs"));
        boolean sweep = Boolean.parseBoolean(options.getString("eval.sweep", "true"));
        int sample = options.getInteger("eval.prequential-sample", 3000);
        boolean withEase = Boolean.parseBoolean(options.getString("eval.ease", "true"));
        boolean withBlend = withEase
                && Boolean.parseBoolean(options.getString("eval.blend", "true"));
        boolean withGelly = Boolean.parseBoolean(options.getString("eval.gelly", "true"));
        double[] lambdas = java.util.Arrays.stream(options.getString("eval.ease-lambdas",
                        java.util.Arrays.stream(EaseBaseline.LAMBDAS).mapToObj(d -> "" + d)
                                .collect(Collectors.joining(","))).split(","))
                .mapToDouble(v -> Double.parseDouble(v.trim())).toArray();
        int maxUsers = options.getInteger("eval.max-users", 0);
        // the dense EASE model's limit; a machine with more heap may raise it (16·n² bytes)
        int easeMaxItems = options.getInteger("eval.ease-max-items",
                dev.interestgraph.analytics.EaseModel.PRACTICAL_MAX_ITEMS);
        boolean validationOnly =
                Boolean.parseBoolean(options.getString("eval.validation-only", "false"));
        List<Recommender.NeighbourEvidence> evidence = java.util.Arrays.stream(options.getString(
                        "eval.blend-evidence", "").split(","))
                .map(String::trim).filter(v -> !v.isEmpty())
                .map(v -> Recommender.NeighbourEvidence.valueOf(v.toUpperCase(java.util.Locale.ROOT)
                        .replace('-', '_')))
                .collect(Collectors.toList());
        // the blend fit's objective (BlendFit.Objective): fresh validation graphs (what the
        // operator ranks from), the mean of fresh and stale ones, or fresh among the weights
        // that reach a floor on stale graphs (--eval.blend-floor)
        if (options.containsKey("eval.blend-stale")) {
            throw new IllegalArgumentException("--eval.blend-stale was replaced by "
                    + "--eval.blend-objective fresh|mean|guarded (true was mean)");
        }
        BlendFit.Objective blendObjective = BlendFit.Objective.parse(
                options.getString("eval.blend-objective", BlendFit.Objective.GUARDED.option()));
        // a guarded fit's stale floor: by default item-item's stale validation NDCG@10 (the
        // "before the update" goal) plus a margin in its standard errors across users
        BlendFit.Floor blendFloor = BlendFit.Floor.parse(
                options.getString("eval.blend-floor", BlendFit.Floor.ITEM_ITEM.option()));
        double blendFloorMargin = Double.parseDouble(options.getString("eval.blend-floor-margin",
                String.valueOf(Evaluation.DEFAULT_FLOOR_MARGIN)));
        // the EASE neighbours per item the blend fit chooses among with its weights: on the
        // validation window 100 beat the evaluation's 1,000 and the analytics job's 20
        // (docs/evaluation-ease.md), so the fit chooses among them, on every run's own window
        int[] blendEaseNeighbours = java.util.Arrays.stream(options.getString(
                        "eval.blend-ease-neighbours", BLEND_EASE_NEIGHBOURS).split(","))
                .map(String::trim).filter(v -> !v.isEmpty()).mapToInt(Integer::parseInt)
                .toArray();
        // the λ values of the blend's EASE neighbour table chosen with its weights besides
        // EASE^R's own λ (which EASE^R's validation NDCG chooses): none by default. The lever
        // paid on the validation window (λ = 300: +0.0034 there) but the blend fit runs once
        // per λ, and with three it took make eval from 838 s to 2,278 s on this machine, a cost
        // that grows with the users of a larger data set; and its one full run did not carry the
        // gain to the target (docs/evaluation-ease.md, "The stale floor from the goal")
        double[] blendEaseLambdas = java.util.Arrays.stream(options.getString(
                        "eval.blend-ease-lambdas", "").split(","))
                .map(String::trim).filter(v -> !v.isEmpty()).mapToDouble(Double::parseDouble)
                .toArray();
        // validation windows the blend fits pool: one more cut of the training part, so that the
        // choice rests on twice the cases (docs/evaluation-ease.md, "Two validation windows")
        int blendWindows = options.getInteger("eval.blend-windows",
                Evaluation.DEFAULT_BLEND_WINDOWS);
        Configuration jobOptions = jobOptions(options);

        List<ItemVersion> items;
        List<UserAction> replay;
        String dataVersion;
        if (data.isEmpty()) {
            SyntheticDataset generated = SyntheticDataset.builder().users(300).itemsPerTopic(40)
                    .eventsPerUser(60).spanMs(Duration.ofDays(120).toMillis()).build();
            items = generated.items();
            replay = generated.events();
            dataVersion = "generated (SyntheticDataset: 300 users, 8 topics × 40 items, 60 events "
                    + "per user over 120 days, planted drift half-way, seed 42)";
        } else {
            MovieLensDataset movieLens = MovieLensDataset.load(Path.of(data), 0);
            items = movieLens.items();
            // the protocol scores ratings: tags (COMMENT events) are left out of the replay
            replay = movieLens.events().stream().filter(e -> e.action == Action.RATE)
                    .collect(Collectors.toList());
            // the directory name only: the report stays free of this machine's paths
            dataVersion = movieLens.version();
        }
        if (maxUsers > 0) {
            java.util.Set<String> kept = replay.stream().map(e -> e.userId).distinct()
                    .sorted(java.util.Comparator.comparing((String u) -> u.length())
                            .thenComparing(u -> u))
                    .limit(maxUsers).collect(Collectors.toSet());
            replay = replay.stream().filter(e -> kept.contains(e.userId))
                    .collect(Collectors.toList());
            dataVersion += String.format(" — REDUCED RUN: the first %d users by id", maxUsers);
        }
        System.out.printf("Evaluation: %,d items, %,d events, %,d users%n", items.size(),
                replay.size(), replay.stream().map(e -> e.userId).distinct().count());

        // the operator's options (recommend.weight.*, defaults Recommender.Weights'): the rows
        // score what the streaming job would run with the same options
        Recommender.Weights weights = InterestGraphOptions.recommenderWeights(jobOptions);
        weights.halfLifeMs = InterestGraphOptions.graphParameters(jobOptions).edgeHalfLifeMs;
        long started = System.nanoTime();
        Evaluation.Result result;
        Map<String, float[]> embeddings;
        // the real model embeds the catalogue in the first replay; the later replays of the same
        // items are answered from its vectors (CachingEmbeddings: identical vectors, minutes less)
        CachingEmbeddings cachedModel =
                new CachingEmbeddings(EmbeddingBackends.fromConfig(jobOptions));
        try (JobReplay job = new JobReplay(2, cachedModel)) {
            // the blend fit replays each validation window twice: fresh and stale graphs
            Step step = new Step(3 + (sweep ? 1 : 0) + (withBlend ? 2 * blendWindows : 0));
            // the job computes the item embeddings; every scoring reuses them
            Map<String, float[]> computed = new HashMap<>();
            Evaluation.GraphSource viaJob = events -> {
                step.start("job replay of " + String.format("%,d", events.size()) + " events");
                JobReplay.Result run = job.run(items, events, jobOptions);
                computed.putAll(run.itemEmbeddings);
                step.done(String.format("%.0f s, %,d deltas (%,d texts embedded so far)",
                        run.seconds, run.deltas.size(), cachedModel.cached()));
                return run.deltas;
            };
            Path analyticsDir = Files.createTempDirectory("interest-graph-eval-analytics");
            Map<String, String> itemTexts = new HashMap<>();
            items.forEach(item -> itemTexts.put(item.itemId, item.text()));
            int[] analyticsRuns = {0};
            Evaluation.GraphAnalytics gelly = (graphs, ranking) -> {
                GraphAnalyticsJob.Settings settings = new GraphAnalyticsJob.Settings();
                settings.ranking = ranking;
                settings.neighborsPerItem = NEIGHBOURS_PER_ITEM; // as many as the cosine table
                long analysisStarted = System.nanoTime();
                AnalyticsOutput output = GraphAnalyticsJob.runLocally(
                        GraphSnapshot.of(graphs, itemTexts),
                        analyticsDir.resolve("run-" + (++analyticsRuns[0])), settings, 2,
                        analyticsRuns[0]);
                System.out.printf("      Gelly analytics (%s) on %,d users' graphs: %.0f s, "
                        + "%,d items with neighbours, %,d communities%n", ranking, graphs.size(),
                        (System.nanoTime() - analysisStarted) / 1e9,
                        output.items().size() - output.health().itemsWithoutNeighbors(),
                        output.health().communities());
                return output;
            };
            Evaluation evaluation =
                    new Evaluation(items, replay, computed, weights, NEIGHBOURS_PER_ITEM, sample);
            if (withGelly) {
                evaluation.withGraphAnalytics(gelly);
            }
            if (withEase) {
                evaluation.withEase(lambdas).withEaseMaxItems(easeMaxItems).withEaseNegatives(
                        jobOptions.get(InterestGraphOptions.ANALYTICS_EASE_NEGATIVES));
            }
            if (withBlend) {
                // the validation graphs from the in-process replay of the operator's logic
                // (GraphReplay, proven equal to the job by GraphReplayTest): a fourth job replay
                // would add minutes for the same deltas
                Evaluation.GraphSource validation = events -> {
                    step.start("validation graphs (in-process replay) of "
                            + String.format("%,d", events.size()) + " events");
                    List<dev.interestgraph.proto.v2.GraphDelta> deltas = GraphReplay.source(
                            InterestGraphOptions.graphParameters(jobOptions),
                            catalogue(items, computed)).deltas(events);
                    step.done(String.format("%,d deltas", deltas.size()));
                    return deltas;
                };
                evaluation.withBlendFit(validation, BlendFit.Grid.standard())
                        .withBlendEvidence(evidence).withBlendObjective(blendObjective)
                        .withBlendFloor(blendFloor, blendFloorMargin)
                        .withBlendEaseLambdas(blendEaseLambdas)
                        .withBlendEaseNeighbours(blendEaseNeighbours)
                        .withBlendWindows(blendWindows);
            }
            if (validationOnly) {
                // the job embeds the whole catalogue in its first replay, whatever the events:
                // a few events give the validation replays their item vectors
                viaJob.deltas(replay.subList(0, Math.min(100, replay.size())));
                Evaluation.Result validated = evaluation.validate();
                System.out.println(validated.ease != null ? easeSection(validated)
                        : EvaluationReport.notComputed(validated));
                return;
            }
            result = evaluation.evaluate(viaJob, true);
            embeddings = computed;
            String sweepTable = "";
            if (sweep) {
                step.start("parameter sweep (in-process replay of the same operator logic)");
                sweepTable = Sweep.run(items, replay, embeddings, jobOptions, weights);
                step.done("");
            }
            write(out, result, dataVersion, jobOptions, weights, sweepTable,
                    (System.nanoTime() - started) / 1e9);
        }
        System.out.println("Wrote " + out.resolve("evaluation.md") + " and "
                + out.resolve("evaluation-prequential.png"));
    }

    private static void write(Path out, Evaluation.Result result, String dataVersion,
            Configuration jobOptions, Recommender.Weights weights, String sweepTable,
            double seconds) throws Exception {
        Files.createDirectories(out);
        EvaluationReport.plotPrequential(result.prequential,
                "Prequential NDCG@10: updated vs frozen interest graph",
                out.resolve("evaluation-prequential.png"));
        StringBuilder md = new StringBuilder();
        md.append("# Evaluation\n\n");
        md.append("Does updating the interest graph from fresh events improve recommendations? ")
                .append("Generated by `make eval DATA=...` (`dev.interestgraph.eval.EvaluationMain`)")
                .append("; do not edit by hand.\n\n");
        md.append("## Set-up\n\n");
        md.append("- Data: ").append(dataVersion).append(String.format(
                "; %,d events, %,d users, %,d items; %,d users scored (those with a relevant "
                        + "target).%n", result.events, result.users, result.items,
                result.scoredUsers));
        md.append("- Graphs: the real job (local cluster, in-process Kafka broker, embedded "
                + "inference server with all-MiniLM-L6-v2) replays the events in timestamp order "
                + "(stable tie-break); deltas read back with read_committed and materialised.\n");
        md.append("- Protocol: per user, events sorted by time, a = ⌊0.6·n⌋, b = ⌊0.8·n⌋. "
                + "**Before update** = the user's graph after events[:a] (frozen at the split); "
                + "**after update** = after events[:b]. Target = events[b:]; **relevant = rating "
                + "≥ 3.5**. Candidates exclude what the system has seen of the user up to the "
                + "graph's cut (the graph's items and the user's earlier events).\n");
        md.append("- Baselines, scored identically: popularity (interaction counts of every "
                + "user's events[:b]); binary item–item cosine (rating ≥ 3.5) over every user's "
                + "events[:b], scoring a candidate by its summed similarity to the user's liked "
                + "items; the graph frozen at the split (= ours, before update).\n");
        md.append("- Gelly rows: our recommender with the item–item neighbours of the graph "
                + "analytics job (GraphAnalyticsJob, Flink Gelly) instead of the cosine table, "
                + "computed from the snapshot of the materialised graphs at the phase's cut "
                + "(decayed, capped edges: what the streaming job holds), ranked by Adamic–Adar "
                + "or Jaccard, minimum support 2, top 1000 per item, with community popularity "
                + "for cold-start users. \"interests only\" is the same recommender without any "
                + "neighbours (one score: each item's best interest similarity, weighted by the "
                + "interest's weight, plus short-term profile and popularity); \"multi-interest "
                + "retrieval\" uses the same weights but retrieves candidates per interest "
                + "(cosine to its centroid plus popularity) and shares the K slots by interest "
                + "weight, largest remainders first (PinnerSage-style).\n");
        md.append(String.format("- Recommender: interests %.2f, short-term profile %.2f, graph "
                + "neighbours %.2f (item–item cosine, top 1000 per item), popularity %.2f, "
                + "community %.2f, negative neighbours %.2f (EASE's negative weights, where "
                + "the table has them), neighbour evidence %s; "
                + "candidates without a positive score are backfilled by their community "
                + "signal, then popularity (Recommender.rank, as in the streaming "
                + "operator).%n", weights.interests, weights.shortTerm, weights.neighbours,
                weights.popularity, weights.community, weights.negativeNeighbours,
                weights.evidence));
        if (result.ease != null) {
            md.append("- EASE rows: **EASE^R** (Steck 2019, B = I − P·diag(1/diag P), "
                    + "P = (XᵀX + λI)⁻¹, EJML's Cholesky inverse; `analytics.EaseModel`) with X = "
                    + "the liked items (rating ≥ 3.5) of every user's events[:b], a user scored by "
                    + "the sum of B's rows of their liked items up to the phase's cut, the same "
                    + "exclusions; **interest graph + EASE neighbours**: our recommender with B's "
                    + "top 1000 positive weights per item (scaled by the model's largest weight) "
                    + (jobOptions.get(InterestGraphOptions.ANALYTICS_EASE_NEGATIVES)
                            ? "and its 1000 most negative ones (analytics.ease.negatives) " : "")
                    + "in place of the cosine table; **EASE neighbours alone**: the same with every "
                    + "other weight 0 (what that neighbour signal keeps of EASE^R's ranking); "
                    + "**fitted blend**: the same with the weights and the number of EASE "
                    + "neighbours per item fitted on the validation window (below).\n");
        }
        md.append("- Job options: ").append(jobOptions.toMap().isEmpty() ? "defaults"
                : jobOptions.toMap().toString()).append(" (see configuration.md).\n");
        md.append(String.format("- Run time: %.0f s on this machine (2 cores).%n%n", seconds));
        md.append("## Before vs after the update\n");
        md.append(EvaluationReport.beforeAfterTable(result));
        if (result.ease != null) {
            md.append("\n## EASE^R and the fitted blend\n\n");
            md.append(easeSection(result));
        } else if (!result.notComputed.isEmpty()) {
            md.append("\n## EASE^R and the fitted blend\n\n");
            md.append(EvaluationReport.notComputed(result)).append("The slice and cold-item "
                    + "tables below have no rows for them. What a run on a larger catalogue "
                    + "needs: [evaluation-ease.md](evaluation-ease.md).\n");
        }
        if (result.contentFit != null) {
            md.append("\n## Weights without neighbours (interests only, multi-interest)\n\n");
            md.append(contentSection(result));
        }
        if (!result.sliceRows.isEmpty()) {
            md.append("\n## Slices\n\n");
            md.append("K = 10. **cold items**: the relevant target items with fewer than 5 "
                    + "interactions across all users before the phase's cut (every user's "
                    + "events[:a] before the update, events[:b] after), scored against those "
                    + "items only; **new users**: users with fewer than 5 events before their "
                    + "cut, all their targets; **rest**: the other users' non-cold relevant "
                    + "items. The ranked lists are the same as in the table above; a user "
                    + "without a relevant item in a slice is not scored in it. Content side = "
                    + "\"interests only\"; collaborative side = item-item cosine and EASE^R.\n\n");
            md.append(EvaluationReport.sliceTable(result));
        }
        if (!result.coldRows.isEmpty()) {
            md.append("\n## Cold items ranked among cold items (cold-start item protocol)\n\n");
            md.append("The slice table's cold rows are scored on the whole-catalogue lists, where "
                    + "warm items fill every top 10, so every method is near 0 there. This table "
                    + "is the standard cold-start item protocol: each user with a relevant cold "
                    + "target item (fewer than 5 interactions across all users before the "
                    + "phase's cut) is scored against their cold targets, with the candidates "
                    + "restricted to the cold items of the catalogue they have not seen (the "
                    + "same exclusions as above). K = 10. A method's own order counts for the "
                    + "cold items it gives a positive score (EASE^R: the items of its model); "
                    + "the remaining slots are filled, identically for every method, by "
                    + "interactions before the cut (descending), then item id: the popularity "
                    + "order among cold items, so a collaborative method that gives every cold "
                    + "item the same zero score ties with the popularity row rather than losing "
                    + "to it. Content side = \"interests only\", multi-interest retrieval and, "
                    + "in this table only, content kNN: each cold item scored by the mean cosine "
                    + "of its embedding with the 3 nearest of the user's liked items (3 fixed, "
                    + "not fitted; no interaction with the item is read); collaborative side = "
                    + "item-item cosine and EASE^R. The same lists are then scored against two "
                    + "parts of each user's cold targets (a user is counted in a part when they "
                    + "have a target in it): items **nobody interacted with** before the cut, "
                    + "which no collaborative model can score after the update (they reach its "
                    + "lists only through the fill; before it the collaborative tables are "
                    + "events[:b]'s, as in every \"before\" row), and items with **1-4 "
                    + "interactions**, which a collaborative model holds with little evidence. "
                    + "The two parts show where the embeddings carry the ranking and where a few "
                    + "interactions already beat them.\n\n");
            md.append(EvaluationReport.coldTable(result));
        }
        md.append("\n## Prequential\n\n");
        md.append("Each sampled relevant target event is ranked against the user's graph just "
                + "before it (materialised from the job's deltas with event time before the "
                + "event) and against the graph frozen at the user's cut b; candidates exclude "
                + "every item the user had interacted with before the event.\n\n");
        md.append(EvaluationReport.prequentialTable(result.prequential));
        md.append("\n![prequential NDCG@10](evaluation-prequential.png)\n");
        if (!sweepTable.isEmpty()) {
            md.append("\n## Parameter sweep\n\n").append(sweepTable);
        }
        md.append("\n## Reproduce\n\n```\nmake eval DATA=../shared/data/ml-latest-small\n```\n");
        Files.writeString(out.resolve("evaluation.md"), md.toString(), StandardCharsets.UTF_8);
    }

    /** λ validation, EASE's time and memory, and the fitted blend with its window. */
    static String easeSection(Evaluation.Result result) {
        EaseBaseline.Selection ease = result.ease;
        StringBuilder md = new StringBuilder();
        md.append("How each part is computed: [evaluation-ease.md](evaluation-ease.md). ");
        md.append("Validation window (never the target): each user's training events events[:b] "
                + "cut again at ⌊0.8·b⌋; models fitted on every user's events[:⌊0.8·b⌋], scored "
                + "(NDCG@10, the same exclusions) against each user's liked items of "
                + "events[⌊0.8·b⌋:b].\n\n");
        md.append("| λ | validation NDCG@10 |\n|---|---|\n");
        ease.validationNdcg().forEach((lambda, ndcg) -> md.append(String.format(
                "| %.0f%s | %.4f |%n", lambda, lambda == ease.lambda() ? " (chosen)" : "", ndcg)));
        if (result.easeItems > 0) {
            md.append(String.format("%nCost on this machine (EJML, one thread): the final model has "
                + "%,d items (liked at least once in events[:b]); its dense matrices take "
                + "%,.0f MB (16·n² bytes: the Gram matrix and its inverse, which becomes B); the "
                + "fit took %.1f s of CPU (%.1f s wall: the machine is shared); each validation "
                + "fit (%,d items) %.1f s of CPU (%.1f s wall).%n", result.easeItems,
                dev.interestgraph.analytics.EaseModel.denseBytes(result.easeItems) / 1e6,
                result.easeFitCpuSeconds, result.easeFitSeconds, ease.validationItems(),
                ease.cpuSecondsPerFit(), ease.secondsPerFit()));
        }
        if (result.blend != null) {
            BlendFit.Result blend = result.blend;
            md.append(String.format("%nFitted blend (our recommender with EASE neighbours; "
                    + "%s; %,d validation cases in two conditions: **fresh**, graphs of "
                    + "the in-process replay at each user's validation cut, as after the "
                    + "update; **stale**, graphs at 0.75 of the cut (⌊0.6·b⌋ for the first "
                    + "window), as before it — the same targets; "
                    + "objective: %s): "
                    + "grid %s (negative neighbours: the scale of EASE's negative weights), "
                    + "per neighbour evidence (%s), λ of the EASE model (%s) and EASE neighbours "
                    + "per item (%s), then one "
                    + "step finer around the best (the chosen "
                    + "value and the geometric midpoints to its grid neighbours: %d combinations "
                    + "per evidence); chosen **%s, evidence %s, %d EASE neighbours per item of "
                    + "the model at λ = %s**, "
                    + "validation NDCG@10 %.4f (fresh "
                    + "%.4f, stale %.4f; the default weights above: %.4f, fresh %.4f, stale "
                    + "%.4f; item–item cosine on the same cases: fresh %.4f, stale %.4f ± %.4f, "
                    + "one standard error across cases).%n%n",
                    windows(result), blend.cases(), objective(result),
                    BlendFit.describe(result.blendGrid),
                    result.blendChoices.stream().map(c -> c.evidence().name()).distinct()
                            .collect(Collectors.joining(", ")),
                    result.blendChoices.stream().map(c -> BlendFit.number(c.lambda()))
                            .distinct().collect(Collectors.joining(", ")),
                    result.blendChoices.stream().map(c -> "" + c.neighbours()).distinct()
                            .collect(Collectors.joining(", ")), blend.combinations(),
                    blend.describe(), blend.weights().evidence, result.blendEaseNeighbours,
                    BlendFit.number(result.blendEaseLambda),
                    blend.ndcg(),
                    result.blendFresh, result.blendStale, blend.baseNdcg(), result.baseFresh,
                    result.baseStale, result.itemItemFresh, result.itemItemStale.mean(),
                    result.itemItemStale.standardError()));
            if (result.blendStaleLead != null) {
                md.append(String.format("On the stale condition the chosen blend leads "
                        + "item–item cosine by %+.4f NDCG@10 ± %.4f (the standard error of the "
                        + "per-case difference, the same users and targets): the \"before the "
                        + "update\" goal as the validation windows measure it.%n%n",
                        result.blendStaleLead.mean(), result.blendStaleLead.standardError()));
            }
            md.append("| neighbour evidence | λ | EASE neighbours per item | negative weights × | "
                    + "best weights of the coarse grid | fresh NDCG@10 | stale NDCG@10 | mean |\n"
                    + "|---|---|---|---|---|---|---|---|\n");
            for (Evaluation.BlendChoice choice : result.blendChoices) {
                md.append(String.format("| %s | %s | %,d | %s | %s | %.4f | %.4f | %.4f |%n",
                        choice.evidence(), BlendFit.number(choice.lambda()), choice.neighbours(),
                        BlendFit.number(choice.negativeScale()),
                        choice.guardMet() ? BlendFit.Result.describe(choice.weights())
                                : "none reaches the stale floor (the hand-set weights)",
                        choice.fresh(), choice.stale(), choice.mean()));
            }
            if (!blend.guardMet()) {
                md.append(String.format("%nNo weights of the grid reach the stale floor "
                        + "(%.4f): the fitted blend is the hand-set weights.%n",
                        result.staleFloor));
            }
            if (result.blendCosine != null) {
                BlendFit.Result cosine = result.blendCosine;
                md.append(String.format("%nThe same fit with cosine neighbours (each window's, "
                        + "of every user's events up to its cut; the same cases) in place of EASE's — the scale of the \"interest "
                        + "graph (ours)\" row: chosen **%s**, validation NDCG@10 %.4f (the "
                        + "default weights above: %.4f). One set of defaults serves every "
                        + "neighbour model; where the two fits differ, the operator's "
                        + "recommend.weight.* options take the one for the model it runs.%n",
                        cosine.describe(), cosine.ndcg(), cosine.baseNdcg()));
            }
        }
        return md.toString();
    }

    /**
     * The blend fits' validation windows in words: each window's cut, its users, and where its
     * models come from ({@link Evaluation#withBlendWindows}).
     */
    static String windows(Evaluation.Result result) {
        List<Integer> users = result.blendWindowUsers;
        StringBuilder text = new StringBuilder(users.size() == 1 ? "one validation window"
                : users.size() + " validation windows, pooled (`--eval.blend-windows "
                        + users.size() + "`)");
        text.append(": ");
        double cut = EaseBaseline.VALIDATION_CUT;
        double end = 1;
        for (int k = 0; k < users.size(); k++) {
            text.append(k == 0 ? "" : "; ").append(String.format(
                    "graphs at ⌊%s·b⌋, targets the liked items of events[⌊%s·b⌋:%s], "
                            + "popularity, cosine and EASE neighbours of every user's "
                            + "events[:⌊%s·b⌋] (%,d users)", BlendFit.number(cut),
                    BlendFit.number(cut), end == 1 ? "b" : "⌊" + BlendFit.number(end) + "·b⌋",
                    BlendFit.number(cut), users.get(k)));
            end = cut;
            cut *= EaseBaseline.VALIDATION_CUT;
        }
        return text.toString();
    }

    /** The blend fit's objective, in words, with the option that selects it. */
    static String objective(Evaluation.Result result) {
        switch (result.blendObjective) {
            case FRESH:
                return "the fresh condition's NDCG@10 alone (`--eval.blend-objective fresh`)";
            case MEAN:
                return "the mean of both conditions' NDCG@10 (`--eval.blend-objective mean`)";
            default:
                return String.format("the fresh condition's NDCG@10 among the weights whose "
                        + "stale NDCG@10 is at least the **stale floor, %.4f** (%s; "
                        + "`--eval.blend-objective guarded`, the default; `fresh` and `mean` "
                        + "are the others)", result.staleFloor, floor(result));
        }
    }

    /** Where a guarded fit's stale floor came from, in words, with the options that set it. */
    static String floor(Evaluation.Result result) {
        BlendFit.StaleFloor itemItem = result.itemItemStale;
        if (result.blendFloor == BlendFit.Floor.HAND_SET) {
            return String.format("the default weights' stale NDCG@10, `--eval.blend-floor "
                    + "hand-set`; the item–item cosine recommender's on the same cases: %.4f",
                    itemItem.mean());
        }
        return String.format("the item–item cosine recommender's stale NDCG@10 on the same "
                + "cases, %.4f, plus %s × its standard error across cases (%.4f) — the goal "
                + "\"ours before the update stays ahead of item–item\" on the validation windows; "
                + "`--eval.blend-floor item-item` and `--eval.blend-floor-margin %s`, the "
                + "defaults; `--eval.blend-floor hand-set` holds the fit to the default weights' "
                + "stale NDCG@10 instead, here %.4f", itemItem.mean(),
                BlendFit.number(itemItem.margin()), itemItem.standardError(),
                BlendFit.number(itemItem.margin()), result.baseStale);
    }

    /**
     * The no-neighbour fits of issue 17: window, grids, chosen weights, their validation NDCG
     * next to the hand-set weights' and popularity's, and how to read the ablation rows.
     */
    static String contentSection(Evaluation.Result result) {
        BlendFit.Result content = result.contentFit;
        BlendFit.Result multi = result.multiInterestFit;
        StringBuilder md = new StringBuilder();
        md.append(String.format("A recommender deployed without neighbours runs with weights "
                + "fitted for that configuration, not with the full recommender's hand-set "
                + "ones. Window: the validation window above (every user's events[:b] cut again "
                + "at ⌊0.8·b⌋; graphs of the in-process replay at that cut, popularity of every "
                + "user's events[:⌊0.8·b⌋], targets the liked items of events[⌊0.8·b⌋:b]; %d "
                + "validation users), never the target. Neighbours and community are 0 (no item "
                + "graph).%n%n", content.cases()));
        md.append("| fit | grid | chosen | validation NDCG@10 | hand-set weights | popularity |\n"
                + "|---|---|---|---|---|---|\n");
        md.append(String.format("| interests only | %s, then one step finer around the choice "
                + "(%d combinations in all) | %s | %.4f | %.4f | %.4f |%n",
                BlendFit.describe(BlendFit.Grid.noNeighbours()), content.combinations(),
                content.describe(), content.ndcg(), content.baseNdcg(),
                result.validationPopularityNdcg));
        md.append(String.format("| multi-interest retrieval | %s | %s | %.4f | %.4f | %.4f |%n",
                BlendFit.describe(result.multiInterestGrid), multi.describe(), multi.ndcg(),
                multi.baseNdcg(), result.validationPopularityNdcg));
        md.append(String.format("%nRows of the table above: \"%s\" and \"%s\" score these "
                + "weights on the target; \"%s\" is the interests-only fit with popularity set "
                + "to 0 — the interests and the short-term profile alone — and \"%s\" is "
                + "popularity alone: the difference between them and the fitted row is what "
                + "each side adds.%n", Evaluation.INTERESTS_ONLY_FITTED,
                Evaluation.MULTI_INTEREST_FITTED, Evaluation.INTERESTS_ONLY_NO_POPULARITY,
                Evaluation.POPULARITY));
        return md.toString();
    }

    /** The job's own options among the command line's: every key but the eval.* ones. */
    static Configuration jobOptions(Configuration options) {
        Configuration jobOptions = new Configuration();
        options.toMap().forEach((k, v) -> {
            if (!k.startsWith("eval.")) {
                jobOptions.setString(k, v);
            }
        });
        return jobOptions;
    }

    /** The catalogue with the job's item vectors: what the in-process replay joins against. */
    static Map<String, ItemVersion> catalogue(List<ItemVersion> items,
            Map<String, float[]> embeddings) {
        Map<String, ItemVersion> catalogue = new HashMap<>();
        for (ItemVersion item : items) {
            ItemVersion embedded = new ItemVersion(item.itemId, item.title, item.description,
                    item.tags, item.updatedMs);
            embedded.embedding = embeddings.get(item.itemId);
            embedded.modelVersion = embedded.embedding == null ? null : "1";
            catalogue.put(item.itemId, embedded);
        }
        return catalogue;
    }

    /** Neighbours per item of both the cosine table and the Gelly job in the evaluation. */
    static final int NEIGHBOURS_PER_ITEM = 1000;

    /**
     * The EASE neighbours per item the blend fit chooses among by default: the analytics job's
     * default (20), the evaluation's (1,000) and two between.
     */
    static final String BLEND_EASE_NEIGHBOURS = "20,100,300," + NEIGHBOURS_PER_ITEM;

    /** Step counter with elapsed time, for the long replays. */
    static final class Step {
        private final int total;
        private int current;
        private long startedNanos;

        Step(int total) {
            this.total = total;
        }

        void start(String what) {
            current++;
            startedNanos = System.nanoTime();
            // wall-clock time too: the phases between steps (EASE, Gelly, scoring) show as gaps
            System.out.printf("[%d/%d] %s %s ...%n", current, total,
                    java.time.LocalTime.now(java.time.ZoneOffset.UTC)
                            .truncatedTo(java.time.temporal.ChronoUnit.SECONDS), what);
        }

        void done(String detail) {
            System.out.printf("      done in %.0f s %s%n", (System.nanoTime() - startedNanos) / 1e9,
                    detail);
        }
    }
}
