package dev.interestgraph.eval;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.MovieLensDataset;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.inference.EmbeddedInferenceServer;
import dev.interestgraph.local.Topics;
import dev.interestgraph.local.TunerProcess;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.recommend.RankingMetrics;
import dev.interestgraph.recommend.Recommender;
import dev.interestgraph.versions.ModelVersionAnnouncement;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;

/**
 * {@code make eval-fine-tune DATA=...}: the prequential evaluation with fine-tuning of the item
 * encoder off and on (issue 10), written to docs/evaluation-fine-tuning.md.
 *
 * <ul>
 *   <li><b>off</b>: one bounded run of the real job over the replay (frozen encoder, version 1);
 *   <li><b>on</b>, per weight decay: <i>pass 1</i> runs the job over the same replay with
 *       fine-tuning and training on against the real tuner ({@link TunerProcess}, lead 0), which
 *       trains on the job's (context → positive) examples and announces versions with
 *       applies_from = trained event time + 1; <i>pass 2</i>, the measured run, replays the same
 *       events with fine-tuning on and training off, reading pass 1's announcements and serving the
 *       tuner's versions from the embedded server. A bounded run does not see announcements made
 *       while it runs, so two passes give what the live loop gives when announcements arrive on
 *       time.
 * </ul>
 *
 * Both conditions are scored from their one full replay: the before/after graphs of a user are
 * the deltas up to the user's cut (not separate replays of events[:a] and events[:b] as {@code
 * make eval}); candidates are scored with the item vectors of the version of the user's graph.
 *
 * <p>Options: {@code --eval.data DIR} (required), {@code --eval.out DIR} (default docs), {@code
 * --eval.max-users N} (the N lowest user ids; 0 = all), {@code --eval.publish-every-steps N}
 * (default 50), {@code --eval.weight-decays 0,10} (default 0), {@code --eval.batch-size N}
 * (fine-tune.batch-size, default 32), {@code --eval.learning-rate X} (the tuner's AdamW learning
 * rate, default 5e-5, its own default), {@code --eval.uniformity-weight X} (the weight of the
 * tuner's uniformity term, default {@link Recipe#UNIFORMITY_WEIGHT}), {@code --eval.temperature X}
 * (InfoNCE's τ, default 0.05), {@code --eval.warmup-steps N} (the tuner's learning-rate warm-up,
 * default {@link Recipe#WARMUP_STEPS}), {@code --eval.prequential-sample N} (default 3000); job
 * options apply to every run (e.g. {@code --fine-tune.example-sample 0.5}).
 *
 * <p>Pass 1 runs at the tuner's pace: on a CPU a step of 32 examples takes seconds, and a
 * checkpoint barrier waits behind the training batches ahead of it, trained one at a time. Pass 1
 * therefore gets a checkpoint timeout that such a wait fits ({@link #pass1Options}), which bounds
 * its training to about half an hour.
 */
public final class FineTuneEvaluationMain {
    private FineTuneEvaluationMain() {}

    private static final int COSINE_PAIRS = 5000;

    /**
     * Pass 1's Kafka transaction timeout: the in-process broker's {@code
     * transaction.max.timeout.ms} ({@link dev.interestgraph.local.LocalKafkaBroker}). The sinks'
     * transactions stay open until a checkpoint completes, so the checkpoint timeout below must
     * end well before it ({@code KafkaStartupChecks.checkCheckpointsEndBeforeTransactions}:
     * interval + 2 × timeout ≤ this).
     */
    static final Duration PASS1_TRANSACTION_TIMEOUT = Duration.ofHours(1);

    /**
     * Pass 1's checkpoint timeout, the longest that {@link #PASS1_TRANSACTION_TIMEOUT} allows (a
     * replay otherwise has Flink's 10 min). The replay reads its events far faster than a CPU
     * tuner trains, and a barrier waits until the batches ahead of it are trained. Measured (150
     * users, 75 steps, 2026-12-05): pass 1's first checkpoint completed after 300 s, when the
     * training was done, also with Flink's buffer debloating on (tried in that run): what the
     * barrier waits for is not the network buffers' examples but, most likely, the batches the
     * training batcher releases together when the watermark passes their windows (every full
     * batch goes through the async operator's one slot before the next record is read). The
     * 2026-12-04 attempt (60
     * users, every example) trained longer than 10 min: its checkpoint expired and the job, which
     * tolerates no failed checkpoint, failed. The replay restarts nothing (restart strategy none),
     * so its checkpoints only commit the sinks' transactions: a long one costs nothing else. Pass 1
     * must train within this bound; sample the examples ({@code --fine-tune.example-sample}) to fit.
     */
    static final Duration PASS1_CHECKPOINT_TIMEOUT = Duration.ofMinutes(29);

    /** What pass 1 adds to the job options: a checkpoint timeout that the training fits. */
    static Configuration pass1Options() {
        Configuration pass1 = new Configuration();
        pass1.set(InterestGraphOptions.KAFKA_TRANSACTION_TIMEOUT, PASS1_TRANSACTION_TIMEOUT);
        pass1.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, PASS1_CHECKPOINT_TIMEOUT);
        return pass1;
    }

    /** The tuner's training recipe (docs/evaluation-fine-tuning.md: how it was chosen). */
    static final class Recipe {
        /**
         * The evaluation's uniformity weight unless {@code --eval.uniformity-weight} says
         * otherwise: chosen on held-out users' content-only NDCG (scripts/recipe-probe.py).
         */
        static final double UNIFORMITY_WEIGHT = 0.5;

        /** The evaluation's warm-up steps unless {@code --eval.warmup-steps} says otherwise. */
        static final int WARMUP_STEPS = 0;

        final double learningRate;
        final double uniformityWeight;
        final double temperature;
        final int warmupSteps;

        Recipe(double learningRate, double uniformityWeight, double temperature, int warmupSteps) {
            this.learningRate = learningRate;
            this.uniformityWeight = uniformityWeight;
            this.temperature = temperature;
            this.warmupSteps = warmupSteps;
        }
    }

    /** One condition's figures. */
    static final class Condition {
        String name;
        Evaluation.Result result;
        double jobSeconds;
        double jobCpuSeconds;
        // fine-tuning on only
        double weightDecay = Double.NaN;
        double trainSeconds;
        double trainJobCpuSeconds;
        double tunerCpuSeconds;
        long steps;
        List<ModelVersionAnnouncement> announcements = List.of();
        Map<String, Double> randomPairCosine = new LinkedHashMap<>();
        String tunerFailure;
    }

    public static void main(String[] args) throws Exception {
        Configuration options = InterestGraphOptions.fromArgs(args);
        String data = options.getString("eval.data", "");
        if (data.isEmpty()) {
            throw new IllegalArgumentException("--eval.data DIR (a MovieLens data set) is required");
        }
        Path out = Path.of(options.getString("eval.out", "docs"));
        int maxUsers = options.getInteger("eval.max-users", 0);
        int publishEvery = options.getInteger("eval.publish-every-steps", 50);
        int batchSize = options.getInteger("eval.batch-size", 32);
        Recipe recipe = new Recipe(options.getDouble("eval.learning-rate", 5e-5),
                options.getDouble("eval.uniformity-weight", Recipe.UNIFORMITY_WEIGHT),
                options.getDouble("eval.temperature", 0.05),
                options.getInteger("eval.warmup-steps", Recipe.WARMUP_STEPS));
        int sample = options.getInteger("eval.prequential-sample", 3000);
        List<Double> decays = new ArrayList<>();
        for (String d : options.getString("eval.weight-decays", "0").split(",")) {
            decays.add(Double.parseDouble(d.trim()));
        }
        Configuration jobOptions = new Configuration();
        options.toMap().forEach((k, v) -> {
            if (!k.startsWith("eval.")) {
                jobOptions.setString(k, v);
            }
        });

        MovieLensDataset movieLens = MovieLensDataset.load(Path.of(data), 0);
        List<ItemVersion> items = movieLens.items();
        List<UserAction> ratings = movieLens.events().stream()
                .filter(e -> e.action == Action.RATE).collect(Collectors.toList());
        List<UserAction> replay = firstUsers(ratings, maxUsers);
        long users = replay.stream().map(e -> e.userId).distinct().count();
        String dataVersion = movieLens.version()
                + (maxUsers > 0 ? String.format("; **subset: the %d lowest user ids**", maxUsers)
                        : "");
        System.out.printf("Fine-tuning evaluation: %,d items, %,d events, %,d users%n",
                items.size(), replay.size(), users);

        Recommender.Weights weights = new Recommender.Weights();
        weights.halfLifeMs = InterestGraphOptions.graphParameters(jobOptions).edgeHalfLifeMs;
        long started = System.nanoTime();
        List<Condition> conditions = new ArrayList<>();
        Path work = Files.createTempDirectory("interest-graph-eval-fine-tune");
        try (JobReplay job = new JobReplay(2)) {
            // ---- off: the frozen encoder
            Condition off = new Condition();
            off.name = "off (frozen encoder)";
            System.out.println("[off] job replay ...");
            double cpu0 = jvmCpuSeconds();
            JobReplay.Result offRun = job.run(items, replay, jobOptions);
            off.jobSeconds = offRun.seconds;
            off.jobCpuSeconds = jvmCpuSeconds() - cpu0;
            Map<String, float[]> frozen = offRun.itemEmbeddings;
            System.out.printf("      %.0f s, %,d deltas, %,d item vectors%n", offRun.seconds,
                    offRun.deltas.size(), frozen.size());
            off.result = evaluation(items, replay, frozen, weights, sample)
                    .evaluate(events -> offRun.deltas, true);
            off.randomPairCosine.put("1", meanRandomPairCosine(frozen));
            conditions.add(off);
            print(off);

            int run = 0;
            for (double decay : decays) {
                run++;
                Condition on = new Condition();
                on.name = "on, weight decay " + format(decay);
                on.weightDecay = decay;
                Path repository = work.resolve("tuner-" + run);
                String versionsTopic = "fine-tune-eval-model-versions-" + run;
                job.createTopic(versionsTopic, 1);
                Configuration fineTune = new Configuration();
                fineTune.addAll(jobOptions);
                fineTune.set(InterestGraphOptions.FINE_TUNE_ENABLED, true);
                fineTune.set(InterestGraphOptions.TOPIC_MODEL_VERSIONS, versionsTopic);
                fineTune.set(InterestGraphOptions.FINE_TUNE_BATCH_SIZE, batchSize);
                fineTune.setString(InterestGraphOptions.EMBEDDED_MODEL_REPOSITORY.key(),
                        repository.toString());

                // ---- pass 1: the job trains the tuner, which announces versions
                System.out.printf("[on, wd %s] pass 1: job + tuner training ...%n", format(decay));
                Files.createDirectories(out);
                try (TunerProcess tuner = TunerProcess.builder().repository(repository)
                        .publishEverySteps(publishEvery).appliesFromLeadMs(0)
                        .weightDecay(decay).learningRate(recipe.learningRate)
                        .uniformityWeight(recipe.uniformityWeight)
                        .temperature(recipe.temperature).warmupSteps(recipe.warmupSteps)
                        .keepVersions(100_000)
                        .announceTopic(versionsTopic)
                        .kafkaBootstrapServers(job.bootstrapServers())
                        .log(work.resolve("tuner-" + run + ".log")).start()) {
                    Configuration pass1 = new Configuration();
                    pass1.addAll(fineTune);
                    pass1.set(InterestGraphOptions.FINE_TUNE_TRAINING_ENABLED, true);
                    pass1.set(InterestGraphOptions.FINE_TUNE_TUNER_ENDPOINT, tuner.endpoint());
                    pass1.addAll(pass1Options());
                    double tunerCpu0 = tuner.cpuTime().toMillis() / 1e3;
                    double jobCpu0 = jvmCpuSeconds();
                    JobReplay.Result trained = job.run(items, replay, pass1);
                    on.trainSeconds = trained.seconds;
                    on.trainJobCpuSeconds = jvmCpuSeconds() - jobCpu0;
                    on.tunerCpuSeconds = tuner.cpuTime().toMillis() / 1e3 - tunerCpu0;
                    if (!tuner.isAlive()) {
                        on.tunerFailure = tuner.outputTail();
                    }
                }
                on.steps = tunerStep(repository);
                on.announcements = announcements(job.bootstrapServers(), versionsTopic);
                System.out.printf("      %.0f s, %d steps, %d versions announced, tuner CPU %.0f s%n",
                        on.trainSeconds, on.steps, on.announcements.size(), on.tunerCpuSeconds);

                // ---- pass 2: the measured run, following pass 1's announcements
                System.out.printf("[on, wd %s] pass 2: measured replay ...%n", format(decay));
                Configuration pass2 = new Configuration();
                pass2.addAll(fineTune);
                pass2.set(InterestGraphOptions.FINE_TUNE_TRAINING_ENABLED, false);
                double cpu1 = jvmCpuSeconds();
                JobReplay.Result measured = job.run(items, replay, pass2);
                on.jobSeconds = measured.seconds;
                on.jobCpuSeconds = jvmCpuSeconds() - cpu1;
                System.out.printf("      %.0f s, %,d deltas%n", measured.seconds,
                        measured.deltas.size());
                Map<String, Map<String, float[]>> byVersion = new HashMap<>();
                byVersion.put("1", frozen);
                Path models = repository.resolve("item_encoder");
                Map<String, String> texts = new HashMap<>();
                for (ItemVersion item : items) { // the latest text of every item the job embedded
                    if (frozen.containsKey(item.itemId)) {
                        texts.put(item.itemId, item.text());
                    }
                }
                Evaluation.VersionedEmbeddings versioned = version -> byVersion.computeIfAbsent(
                        version, v -> EmbeddedInferenceServer.versionVectors(models.resolve(v), texts));
                on.result = evaluation(items, replay, frozen, weights, sample)
                        .withVersionedEmbeddings(versioned)
                        .evaluate(events -> measured.deltas, true);
                on.randomPairCosine.put("1", meanRandomPairCosine(frozen));
                if (!on.announcements.isEmpty()) {
                    String last = on.announcements.get(on.announcements.size() - 1).version;
                    on.randomPairCosine.put(last, meanRandomPairCosine(versioned.of(last)));
                }
                byVersion.clear();
                conditions.add(on);
                print(on);
                // written after every condition: a long run that stops still leaves its figures
                Files.writeString(out.resolve("evaluation-fine-tuning.md"), markdown(conditions,
                        dataVersion, replay.size(), users, items.size(), publishEvery, batchSize,
                        jobOptions, (System.nanoTime() - started) / 1e9, recipe, reproduce(args)),
                        StandardCharsets.UTF_8);
            }
        } finally {
            org.apache.commons.io.FileUtils.deleteQuietly(work.toFile()); // the tuners' repositories
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        Files.createDirectories(out);
        Path report = out.resolve("evaluation-fine-tuning.md");
        Files.writeString(report, markdown(conditions, dataVersion, replay.size(), users,
                items.size(), publishEvery, batchSize, jobOptions, seconds, recipe,
                reproduce(args)),
                StandardCharsets.UTF_8);
        System.out.println("Wrote " + report + " (" + Math.round(seconds) + " s)");
    }

    private static Evaluation evaluation(List<ItemVersion> items, List<UserAction> replay,
            Map<String, float[]> embeddings, Recommender.Weights weights, int sample) {
        return new Evaluation(items, replay, embeddings, weights,
                EvaluationMain.NEIGHBOURS_PER_ITEM, sample).withPrequentialInterestsOnly();
    }

    /** The events of the {@code maxUsers} lowest user ids (numeric order), in replay order. */
    static List<UserAction> firstUsers(List<UserAction> events, int maxUsers) {
        if (maxUsers <= 0) {
            return events;
        }
        Comparator<String> numeric = Comparator.<String>comparingInt(String::length)
                .thenComparing(Comparator.naturalOrder());
        Set<String> kept = events.stream().map(e -> e.userId).distinct().sorted(numeric)
                .limit(maxUsers).collect(Collectors.toSet());
        return events.stream().filter(e -> kept.contains(e.userId)).collect(Collectors.toList());
    }

    /** Mean cosine of random distinct item pairs (fixed seed; vectors L2-normalised). */
    static double meanRandomPairCosine(Map<String, float[]> vectors) {
        List<String> ids = new ArrayList<>(vectors.keySet());
        ids.sort(Comparator.naturalOrder());
        if (ids.size() < 2) {
            return Double.NaN;
        }
        Random random = new Random(42);
        double sum = 0;
        for (int i = 0; i < COSINE_PAIRS; i++) {
            int a = random.nextInt(ids.size());
            int b = random.nextInt(ids.size() - 1);
            if (b >= a) {
                b++;
            }
            float[] x = vectors.get(ids.get(a));
            float[] y = vectors.get(ids.get(b));
            double dot = 0;
            for (int d = 0; d < x.length; d++) {
                dot += (double) x[d] * y[d];
            }
            sum += dot;
        }
        return sum / COSINE_PAIRS;
    }

    /** The tuner's step from its progress file ({@code {"step": N, ...}}, encoder/tuner.py). */
    static long tunerStep(Path repository) {
        Path state = repository.resolve("item_encoder_tuner").resolve("state")
                .resolve("tuner-progress.json");
        try {
            return stepOf(Files.readString(state, StandardCharsets.UTF_8));
        } catch (IOException e) {
            System.err.println("cannot read the tuner's step from " + state + ": " + e);
            return -1;
        }
    }

    /** The top-level "step" of the tuner's progress JSON (its first key). */
    static long stepOf(String json) {
        int start = json.indexOf("{\"step\"");
        Matcher m = Pattern.compile("\\{\"step\":\\s*(\\d+)").matcher(json);
        return start >= 0 && m.find(start) ? Long.parseLong(m.group(1)) : -1;
    }

    private static List<ModelVersionAnnouncement> announcements(String bootstrap, String topic) {
        List<ModelVersionAnnouncement> list = new ArrayList<>();
        Topics.readAll(bootstrap, topic).forEach(r -> {
            ModelVersionAnnouncement a = ModelVersionAnnouncement.Deserializer.parse(r.value());
            if (a != null) {
                list.add(a);
            }
        });
        return list;
    }

    private static double jvmCpuSeconds() {
        return ProcessHandle.current().info().totalCpuDuration().orElse(Duration.ZERO)
                .toMillis() / 1e3;
    }

    private static void print(Condition c) {
        RankingMetrics.Summary p = c.result.prequential.overall.get("updated graph");
        RankingMetrics.Summary pi =
                c.result.prequential.overall.get(Evaluation.PREQUENTIAL_INTERESTS_ONLY);
        System.out.printf("  %s: prequential NDCG@10 %.4f R@10 %.4f; interests only NDCG@10 %.4f "
                + "R@10 %.4f; interests/user %.2f; cosine %s%n", c.name, p.ndcg(), p.recall(),
                pi.ndcg(), pi.recall(), c.result.interestsPerUserAfter, c.randomPairCosine);
    }

    static String format(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }

    private static String markdown(List<Condition> conditions, String dataVersion, int events,
            long users, int items, int publishEvery, int batchSize, Configuration jobOptions,
            double seconds, Recipe recipe, String reproduce) {
        StringBuilder md = new StringBuilder();
        md.append("# Evaluation: fine-tuning the item encoder on vs off\n\n");
        md.append("Generated by `make eval-fine-tune DATA=...` "
                + "(`dev.interestgraph.eval.FineTuneEvaluationMain`) on ")
                .append(LocalDate.now()).append("; the tables are the program's, the reading "
                        + "below them is written by hand.\n\n");
        md.append("## Set-up\n\n");
        md.append(String.format("- Data: %s; %,d rating events, %,d users, %,d items.%n",
                dataVersion, events, users, items));
        md.append("- **Off**: one bounded run of the real job (local cluster, in-process Kafka, "
                + "embedded inference server, all-MiniLM-L6-v2 frozen = version 1).\n");
        md.append(String.format("- **On**: pass 1 replays the same events with `fine-tune.enabled` "
                + "and training on against the real tuner (`TunerProcess`: serve_pytriton.py, "
                + "PyTriton, the whole encoder fine-tuned in PyTorch with AdamW, fp32 on the CPU, batch "
                + "%d, lr %s%s, τ %s, uniformity weight %s, "
                + "a version every %d "
                + "steps, applies_from = highest trained event time + 1, lead 0; checkpoint "
                + "timeout %d min and Kafka transactions %d min: a barrier waits behind the "
                + "training batches ahead of it); pass 2, the "
                + "measured run, replays them again with `fine-tune.training.enabled false`, "
                + "reading pass 1's announcements (every record pinned to the version valid at "
                + "its event time; users re-based at a switch) and the embedded server serving "
                + "the tuner's versions. Equal to the live loop when announcements arrive on "
                + "time.%n", batchSize, format(recipe.learningRate),
                recipe.warmupSteps == 0 ? "" : " with a linear warm-up over " + recipe.warmupSteps
                        + " steps",
                format(recipe.temperature),
                format(recipe.uniformityWeight), publishEvery,
                PASS1_CHECKPOINT_TIMEOUT.toMinutes(), PASS1_TRANSACTION_TIMEOUT.toMinutes()));
        md.append("- Scoring: `Evaluation` as in `make eval` (per user a = ⌊0.6·n⌋, b = ⌊0.8·n⌋, "
                + "relevant = rating ≥ 3.5; prequential: each sampled relevant target event "
                + "ranked against the user's graph just before it), **but** both conditions "
                + "derive the before/after graphs from their one full replay (deltas up to the "
                + "user's cut) rather than separate replays of events[:a] and events[:b], so the "
                + "figures are not those of docs/evaluation.md. Candidate items are scored with "
                + "the item vectors of the encoder version of the user's graph (that version's "
                + "ONNX model on the item texts). Gelly rows not computed.\n");
        md.append("- With a single target per prequential event, Recall@10 = HR@10.\n");
        md.append("- Job options: ").append(jobOptions.toMap().isEmpty() ? "defaults"
                : jobOptions.toMap().toString()).append(".\n");
        md.append(String.format("- Run time: %.0f s in all on the shared 2-core machine.%n%n",
                seconds));

        md.append("## Prequential (NDCG@10, Recall@10)\n\n");
        md.append("| fine-tuning | updated graph NDCG@10 | updated graph R@10 | interests only "
                + "NDCG@10 | interests only R@10 | frozen at split NDCG@10 | popularity NDCG@10 "
                + "| events |\n|---|---|---|---|---|---|---|---|\n");
        for (Condition c : conditions) {
            Map<String, RankingMetrics.Summary> o = c.result.prequential.overall;
            RankingMetrics.Summary u = o.get("updated graph");
            RankingMetrics.Summary i = o.get(Evaluation.PREQUENTIAL_INTERESTS_ONLY);
            md.append(String.format("| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %d |%n",
                    c.name, u.ndcg(), u.recall(), i.ndcg(), i.recall(),
                    o.get("graph frozen at the split").ndcg(), o.get(Evaluation.POPULARITY).ndcg(),
                    c.result.prequential.events));
        }
        md.append("\n## Before vs after the update (K = 10)\n\n");
        md.append("| fine-tuning | method | graph | NDCG@10 | R@10 | P@10 | HR@10 |\n"
                + "|---|---|---|---|---|---|---|\n");
        for (String method : List.of(Evaluation.OURS, Evaluation.INTERESTS_ONLY)) {
            for (String phase : List.of("before", "after")) {
                for (Condition c : conditions) {
                    RankingMetrics.Summary s = c.result.row(method, phase).at(10);
                    md.append(String.format("| %s | %s | %s | %.4f | %.4f | %.4f | %.4f |%n",
                            c.name, method, phase.equals("before") ? "before update (at a)"
                                    : "after update (at b)", s.ndcg(), s.recall(),
                            s.precision(), s.hitRate()));
                }
            }
        }
        md.append("\n## Graph shape and embedding space\n\n");
        md.append("| fine-tuning | interests per user (at b) | edges per user (at b) | users' "
                + "graphs by encoder version (at b) | mean cosine of random item pairs, by "
                + "version |\n|---|---|---|---|---|\n");
        for (Condition c : conditions) {
            md.append(String.format("| %s | %.2f | %.1f | %s | %s |%n", c.name,
                    c.result.interestsPerUserAfter, c.result.edgesPerUserAfter,
                    c.result.graphVersionsAfter.entrySet().stream()
                            .sorted(Comparator.comparingInt(e -> versionNumber(e.getKey())))
                            .map(e -> "v" + e.getKey() + ": " + e.getValue())
                            .collect(Collectors.joining(", ")),
                    c.randomPairCosine.entrySet().stream()
                            .map(e -> String.format("v%s %.3f", e.getKey(), e.getValue()))
                            .collect(Collectors.joining(", "))));
        }
        md.append("\n## Cost\n\n");
        md.append("| fine-tuning | measured job run, wall s | its JVM CPU s | pass 1 (training) "
                + "wall s | pass 1 JVM CPU s | tuner CPU s | training steps | steps/s (pass 1 "
                + "wall) | versions announced |\n|---|---|---|---|---|---|---|---|---|\n");
        for (Condition c : conditions) {
            boolean on = !Double.isNaN(c.weightDecay);
            md.append(String.format("| %s | %.0f | %.0f | %s | %s | %s | %s | %s | %s |%n",
                    c.name, c.jobSeconds, c.jobCpuSeconds,
                    on ? String.format("%.0f", c.trainSeconds) : "–",
                    on ? String.format("%.0f", c.trainJobCpuSeconds) : "–",
                    on ? String.format("%.0f", c.tunerCpuSeconds) : "–",
                    on ? String.valueOf(c.steps) : "–",
                    on && c.trainSeconds > 0 ? String.format("%.2f", c.steps / c.trainSeconds)
                            : "–",
                    on ? String.valueOf(c.announcements.size()) : "–"));
        }
        for (Condition c : conditions) {
            if (c.tunerFailure != null) { // also when it died before announcing anything
                md.append("\nThe tuner had exited (").append(c.name).append("): ")
                        .append(c.tunerFailure).append('\n');
            }
            if (c.announcements.isEmpty()) {
                continue;
            }
            md.append("\nVersions announced (").append(c.name).append("): ");
            md.append(c.announcements.stream().map(a -> String.format("v%s step %d from %s%s",
                    a.version, a.step, java.time.Instant.ofEpochMilli(a.appliesFromMs)
                            .toString().substring(0, 10), calibration(a)))
                    .collect(Collectors.joining("; "))).append(".\n");
        }
        md.append("\n## Reproduce\n\n```\nmake eval-fine-tune DATA=../shared/data/ml-latest-small")
                .append(reproduce.isEmpty() ? "" : " ARGS=\"" + reproduce + "\"").append("\n```\n");
        return md.toString();
    }

    /**
     * The announced cosine calibration (issue 19) and the join and merge thresholds the
     * user-graph maps by it, for the page; empty when the version was announced without one.
     */
    static String calibration(ModelVersionAnnouncement a) {
        if (a.cosineCalibration == null) {
            return "";
        }
        var k = a.cosineCalibration;
        var defaults = GraphParameters.defaults();
        return String.format(" (item-pair cosines %.3f ± %.3f, version 1 %.3f ± %.3f: join "
                + "threshold %.2f → %.3f, merge %.2f → %.3f)", k.mean, k.std, k.baseMean,
                k.baseStd, defaults.interestJoinThreshold, k.map(defaults.interestJoinThreshold),
                defaults.interestMergeThreshold, k.map(defaults.interestMergeThreshold));
    }

    /** The command line's options for the page's Reproduce line: all but data and output. */
    static String reproduce(String[] args) {
        List<String> kept = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if ((args[i].equals("--eval.data") || args[i].equals("--eval.out"))
                    && i + 1 < args.length) {
                i++;
                continue;
            }
            kept.add(args[i]);
        }
        return String.join(" ", kept);
    }

    private static int versionNumber(String version) {
        try {
            return Integer.parseInt(version);
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }
}
