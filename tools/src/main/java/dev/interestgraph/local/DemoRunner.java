package dev.interestgraph.local;

import static dev.interestgraph.config.InterestGraphOptions.*;

import dev.interestgraph.InterestGraphPipeline;
import dev.interestgraph.inspect.DeltaFollower;
import dev.interestgraph.inspect.UserGraphText;
import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.MovieLensDataset;
import dev.interestgraph.data.ReplayDataset;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.delta.DeltaMaterializer.UserView;
import dev.interestgraph.inference.EmbeddingBackends;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.startup.KafkaStartupChecks;
import dev.interestgraph.versions.ModelVersionAnnouncement;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * One demo run: Kafka (in-process or external), topics, the job on a local cluster with the
 * dashboard, the replay, live progress, the end of the job and the summary.
 *
 * <p>Two ways to run, because of how the job ends:
 * <ul>
 *   <li><b>As fast as possible</b> (default): the replay is produced first, then the job reads
 *       the topics up to their end offsets (bounded sources) and finishes on its own; the end of
 *       input flushes every pending slot. Progress shows the job reading.
 *   <li><b>Paced</b> ({@code --demo.speed N}): the job runs unbounded while the replay is
 *       produced. Once the replay is done and the job's consumer group has committed the input
 *       topics' end offsets (the sources commit on every checkpoint, so every record has been
 *       read and checkpointed), the job is stopped with a savepoint and {@code --drain}: the
 *       end-of-event-time watermark fires every pending flush. An input marked idle would ignore
 *       that watermark (FLINK-40499, open in Flink 1.20), so the catalogue must not go idle:
 *       the replay re-announces catalogue items as it goes and goes on until the job has
 *       drained (see {@link Replayer}). The events' partitions may go idle once the replay is
 *       over (the job can take longer than {@code watermark.idleness} to checkpoint the last
 *       events on a loaded machine); the temporal join then follows the catalogue alone.
 *   </ul>
 * </ul>
 * Ctrl-C stops either early with the same drain; what was not flushed stays in the savepoint.
 */
public final class DemoRunner {
    /** Event time per wall second of a fine-tuning demo, unless --demo.speed says otherwise. */
    private static final double FINE_TUNE_SPEED = 50_000;
    /**
     * How far ahead (in wall time of the paced replay) the tuner announces a version: more than
     * the loop takes (examples → batch → step → publish → announcement read, ~10 s here), or the
     * announcement arrives after the job's event time passed it (lateModelVersions).
     */
    private static final Duration FINE_TUNE_LEAD = Duration.ofSeconds(20);
    /** Share of positive events that become training examples: the CPU tuner's pace. */
    private static final String FINE_TUNE_EXAMPLE_SAMPLE = "0.5";
    private static final String TOPIC_LIST_HINT =
            "user-events, item-catalog, item-neighbors -> graph-deltas, dead-letters, "
                    + "item-embeddings, recommendations";

    private final DemoOptions o;
    private final PrintStream out;
    private final String runId = UUID.randomUUID().toString().substring(0, 8);
    private final AtomicBoolean stopRequested = new AtomicBoolean();
    private final CountDownLatch finished = new CountDownLatch(1);
    /** Where the fine-tuning summary reads the announcements. */
    private String announcementsBootstrap;
    private String announcementsTopic;

    public DemoRunner(DemoOptions options, PrintStream out) {
        this.o = options;
        this.out = out;
    }

    /** Asks a running demo to drain and summarise now (what Ctrl-C does). */
    public void requestStop() {
        stopRequested.set(true);
    }

    public DemoResult run() throws Exception {
        Thread hook = new Thread(this::onCtrlC, "demo-ctrl-c");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return runInternal();
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down (Ctrl-C): the hook is running and waits for us
            }
            DeltaTap.forget(runId);
        }
    }

    private void onCtrlC() {
        out.println();
        out.println("Ctrl-C: draining the job and printing the summary ...");
        requestStop();
        try {
            finished.await(3, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private DemoResult runInternal() throws Exception {
        long start = System.nanoTime();
        ReplayDataset data = o.dataset();
        out.println("Data: " + data.describe());
        LocalKafkaBroker broker = null;
        TunerProcess tuner = null;
        try {
            String bootstrap;
            if (o.externalKafka()) {
                bootstrap = o.job.get(KAFKA_BOOTSTRAP);
                out.println("Kafka (external): " + bootstrap);
            } else {
                broker = startBroker();
                bootstrap = broker.bootstrapServers();
                out.println("Kafka broker (in-process, KRaft): " + bootstrap);
            }
            if (o.fineTune) {
                tuner = startTuner(bootstrap);
            }
            Configuration config = jobConfig(bootstrap, tuner);
            announcementsBootstrap = bootstrap;
            announcementsTopic = config.get(TOPIC_MODEL_VERSIONS);
            Properties client = InterestGraphOptions.kafkaClientProperties(config);
            client.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            createTopics(broker, client, config);
            // what InterestGraphJob's main checks before submission: topics, transaction limits
            KafkaStartupChecks.check(config);
            out.printf("Topics at %s: %s%n", bootstrap, TOPIC_LIST_HINT);
            return runJob(data, config, client, bootstrap, start);
        } finally {
            if (tuner != null) {
                tuner.close();
            }
            if (broker != null) {
                broker.close();
            }
        }
    }

    private DemoResult runJob(ReplayDataset data, Configuration config, Properties client,
            String bootstrap, long start) throws Exception {
        int port = config.get(RestOptions.PORT);
        Path savepoints = Files.createTempDirectory("interest-graph-demo-savepoints-");
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(config);
        env.setParallelism(o.parallelism);
        InterestGraphPipeline.Outputs outputs =
                new InterestGraphPipeline(config, EmbeddingBackends.fromConfig(config)).build(env);
        outputs.deltas.addSink(new DeltaTap(runId)).name("demo: delta check (local only)")
                .uid("demo-delta-check");

        String events = config.get(TOPIC_EVENTS);
        String items = config.get(TOPIC_ITEMS);
        String group = config.get(KAFKA_GROUP_ID);
        String endpoint = config.get(TRITON_ENDPOINT);
        out.println(endpoint == null || endpoint.isBlank()
                ? "Inference: embedded server (all-MiniLM-L6-v2 on ONNX Runtime, over gRPC)"
                : "Inference: Triton at " + endpoint);

        try (Admin admin = Admin.create(client);
                KafkaProducer<byte[], byte[]> producer = producer(client);
                DeltaFollower follower = new DeltaFollower(bootstrap, config.get(TOPIC_DELTAS),
                        InterestGraphOptions.kafkaClientProperties(config))) {
            InputProgress progress = new InputProgress(admin, group, events, items);
            Replayer replayer = new Replayer(producer, items, events, o.speed, o.maxGap);
            boolean paced = o.speed > 0;
            if (!paced) {
                replayer.replay(data, stopRequested);
                out.printf("Replayed %,d items and %,d events into %s and %s%n",
                        replayer.itemsSent(), replayer.eventsSent(), items, events);
            }
            JobClient job = env.executeAsync("interest-graph demo");
            long jobStart = System.nanoTime();
            DashboardProbe dashboard = new DashboardProbe("http://localhost:" + port);
            out.printf("Flink dashboard: %s  (job %s)%n", dashboard.base(), job.getJobID());
            out.printf("Follow the deltas: make deltas ARGS=\"--follow --kafka.bootstrap %s\"%n",
                    bootstrap);

            // set once the job has ended: the catalogue's heartbeats go on until then
            AtomicBoolean jobOver = new AtomicBoolean();
            Thread replay = daemon("demo-replay", () -> {
                if (paced) {
                    replayer.replay(data, stopRequested);
                    replayer.keepCatalogueActive(data, jobOver);
                }
            });
            AtomicBoolean stopFollower = new AtomicBoolean();
            Thread consume = daemon("demo-delta-follower", () -> {
                try {
                    while (!stopFollower.get()) {
                        follower.poll(Duration.ofMillis(200));
                    }
                } catch (IllegalStateException e) {
                    // the run failed and closed the consumer under us: nothing left to follow
                }
            });
            replay.start();
            consume.start();

            boolean early;
            try {
                early = watch(job, replayer, progress, follower, dashboard,
                        data.events().size(), start, paced);
                stopAndWait(job, early, paced, producer, config, data, progress, savepoints);
            } finally {
                jobOver.set(true);
            }
            double jobSeconds = (System.nanoTime() - jobStart) / 1e9;
            if (replayer.heartbeats() > 0) {
                out.printf("(the paced replay re-announced %,d catalogue items to keep the "
                        + "catalogue's watermark moving)%n", replayer.heartbeats());
            }
            // read_committed end offsets stop at the first open transaction, so "caught up"
            // alone can come before the final commit: wait until the consumer has applied
            // everything the job emitted (or give up after a minute and say so below)
            DeltaMaterializer emitted = DeltaTap.graphs(runId);
            long waitFrom = System.nanoTime();
            try {
                awaitCondition("the delta topic to hold every delta the job emitted",
                        Duration.ofSeconds(60), () -> follower.caughtUp() && follower.read(
                                g -> g.appliedCount()) >= tappedCount(emitted));
            } catch (IllegalStateException e) {
                out.println("Warning: " + e.getMessage());
            }
            long waitedMs = (System.nanoTime() - waitFrom) / 1_000_000;
            if (waitedMs > 2000) {
                out.printf("(the last deltas became visible %.1f s after the job ended)%n",
                        waitedMs / 1000.0);
            }
            stopFollower.set(true);
            consume.join(10_000);
            replay.join(10_000);

            // a bounded job that finished has read its topics to the end offsets it started
            // with, which hold the whole replay; the last offset commit may not have happened
            long processed = !early && !paced ? replayer.eventsSent() : progress.processed();
            double seconds = (System.nanoTime() - start) / 1e9;
            DeltaMaterializer tapped = DeltaTap.graphs(runId);
            DemoResult result;
            synchronized (tapped) {
                result = follower.read(graphs -> summarize(data, graphs, tapped, replayer,
                        processed,
                        follower.consumed(), countDeadLetters(bootstrap, config), early,
                        seconds, jobSeconds, dashboard));
                printSummary(result, data, follower, dashboard);
            }
            linger(bootstrap);
            return result;
        }
    }

    /**
     * Drains a paced or interrupted run (stop with a savepoint and {@code --drain}: the end of
     * event time flushes every pending slot) and waits for the job to end.
     */
    private void stopAndWait(JobClient job, boolean early, boolean paced,
            KafkaProducer<byte[], byte[]> producer, Configuration config, ReplayDataset data,
            InputProgress progress, Path savepoints) throws Exception {
        if (early || paced) {
            out.println(early ? "Stopping early: draining what was read ..."
                    : "Replay processed; draining the job (stop with savepoint, end of "
                            + "event time) ...");
            if (config.get(FINE_TUNE_ENABLED)) {
                announceNoMoreVersions(producer, config, data.events().stream()
                        .mapToLong(e -> e.eventTimeMs).max().orElse(0));
                // read and checkpointed, so processed before the savepoint's barrier
                awaitCondition("the job to read the closing heartbeat", Duration.ofSeconds(60),
                        () -> allRead(progress, announcementsTopic));
            }
            job.stopWithSavepoint(true, savepoints.toUri().toString(),
                    SavepointFormatType.CANONICAL).get(3, TimeUnit.MINUTES);
        }
        job.getJobExecutionResult().get(2, TimeUnit.MINUTES);
    }

    /** Shows progress until the replay is processed, a stop is requested or time runs out. */
    private boolean watch(JobClient job, Replayer replayer, InputProgress progress,
            DeltaFollower follower, DashboardProbe dashboard, long total, long start,
            boolean paced) throws Exception {
        boolean interactive = !o.headless && System.console() != null;
        long lastLine = start - TimeUnit.SECONDS.toNanos(10); // the first line at once
        long rateFrom = start;
        long rateCount = 0;
        double rate = 0;
        CompletableFuture<JobExecutionResult> ended = job.getJobExecutionResult();
        // what the job has read, processed and emitted as it happens (its metrics over REST);
        // the committed counts below move only at checkpoints
        JobProgressProbe live = new JobProgressProbe(dashboard.base());
        // the input topics' end offsets once the replay is done (the catalogue's heartbeats
        // after it need not be read before the drain)
        Map<TopicPartition, Long> replayEnd = null;
        while (true) {
            long now = System.nanoTime();
            long processed = progress.processed();
            // the local cluster goes away with the job, so ask only while the job has not ended
            boolean jobEnded = ended.isDone();
            JobProgressProbe.Progress jobNow = jobEnded ? live.last()
                    : live.read(job.getJobID().toString());
            long read = Math.max(processed, jobNow.consumed());
            if (now - rateFrom > TimeUnit.SECONDS.toNanos(3)) {
                rate = (read - rateCount) / ((now - rateFrom) / 1e9);
                rateFrom = now;
                rateCount = read;
            }
            if (!jobEnded) { // the REST API lists the job only while it is up
                dashboard.probe(job.getJobID().toString());
            }
            String line = ProgressLine.format(new ProgressLine.Snapshot(replayer.eventsSent(),
                    total, jobNow.consumed(), jobNow.processed(), jobNow.deltasEmitted(), processed,
                    follower.consumed(), follower.read(g -> (long) g.users().size()), rate,
                    (now - start) / 1e9), 30);
            if (interactive) {
                out.print("\r" + line + "   ");
                out.flush();
            } else if (now - lastLine > TimeUnit.SECONDS.toNanos(5)) {
                out.println(line);
                lastLine = now;
            }
            if (jobEnded) {
                ended.get(); // throws the job's failure
            }
            if (paced && replayEnd == null && replayer.done()) {
                replayEnd = progress.replayEnd();
            }
            boolean finished = paced ? replayEnd != null && progress.reached(replayEnd)
                    : jobEnded;
            if (finished) {
                if (interactive) {
                    out.println();
                }
                out.println(paced ? line : "Job finished: read the topics to their end.");
                return stopRequested.get();
            }
            if (stopRequested.get()) {
                out.println();
                return true;
            }
            if (jobEnded) {
                throw new IllegalStateException("the job ended on its own before the replay was "
                        + "processed");
            }
            if (!o.timeout.isZero() && now - start > o.timeout.toNanos()) {
                throw new IllegalStateException("the demo did not finish within " + o.timeout);
            }
            // the refresh interval of the progress line; the loop's conditions decide the end
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
        }
    }

    private DemoResult summarize(ReplayDataset data, DeltaMaterializer graphs, DeltaMaterializer tapped,
            Replayer replayer, long processed, long consumed, long deadLetters, boolean early,
            double seconds, double jobSeconds, DashboardProbe dashboard) {
        Map<String, UserView> users = graphs.users();
        long edges = users.values().stream().mapToLong(u -> u.edges().size()).sum();
        long interests = users.values().stream().mapToLong(u -> u.interests().size()).sum();
        Map<String, Long> lastEvent = new HashMap<>();
        data.events().subList(0, (int) replayer.eventsSent()).forEach(e ->
                lastEvent.merge(e.userId, e.eventTimeMs, Math::max));
        long behind = lastEvent.entrySet().stream().filter(e -> {
            UserView view = users.get(e.getKey());
            return view == null || view.eventTimeMs() < e.getValue();
        }).count();
        return new DemoResult(replayer.itemsSent(), replayer.eventsSent(), processed, consumed,
                graphs.appliedCount(), tapped.appliedCount(), deadLetters, users.size(), edges,
                interests, DemoResult.sameGraphs(graphs, tapped), behind, early, seconds,
                jobSeconds,
                dashboard.overviewAnswered(), dashboard.jobsListedJob(), dashboard.jobName(),
                dashboard.vertexNames(), o.fineTune ? versionsAnnounced() : List.of(),
                o.fineTune ? profilesByVersion(graphs) : Map.of());
    }

    private void printSummary(DemoResult r, ReplayDataset data, DeltaFollower follower,
            DashboardProbe dashboard) {
        double perUser = Math.max(1, r.users());
        out.println();
        out.println("Summary (materialised from the delta topic, read_committed)"
                + (r.stoppedEarly() ? " - stopped early" : ""));
        out.printf("  events     replayed %,d (+ %,d items) | processed %,d | job %.1f s, %,.0f "
                + "events/s (model start included) | demo %.1f s%n", r.eventsReplayed(),
                r.itemsReplayed(), r.eventsProcessed(), r.jobSeconds(),
                r.eventsProcessed() / Math.max(0.001, r.jobSeconds()), r.seconds());
        out.printf("  deltas     consumed %,d | applied %,d | emitted by the job %,d | dead "
                + "letters %,d%n", r.deltasConsumed(), r.deltasApplied(), r.deltasEmittedByJob(),
                r.deadLetters());
        out.printf("  graphs     users %,d | edges %,d (%.1f per user) | interests %.1f per "
                + "user | equal to the job's output: %s%n", r.users(), r.edges(),
                r.edges() / perUser, r.interests() / perUser, r.graphsEqualJob() ? "yes" : "NO");
        if (r.usersBehindTheirLastEvent() > 0) {
            out.printf("  note       %,d users' graphs do not yet account for their last event%n",
                    r.usersBehindTheirLastEvent());
        }
        if (o.fineTune) {
            out.printf("  fine-tune  versions announced: %s | users' profiles by encoder version: "
                    + "%s%n", r.versionsAnnounced().isEmpty() ? "none"
                            : String.join(", ", r.versionsAnnounced()), r.profilesByVersion());
        }
        out.printf("  dashboard  %s: /overview %s, /jobs listed the job %s (%d vertices)%n",
                dashboard.base(), r.dashboardOverviewAnswered() ? "answered" : "no answer",
                r.dashboardListedJob() ? "yes" : "no", r.dashboardVertices().size());
        Map<String, String> titles = data.items().stream()
                .collect(Collectors.toMap(i -> i.itemId, i -> i.title, (a, b) -> b));
        Function<String, String> names = o.generated() ? id -> id
                : id -> titles.getOrDefault(id, id);
        UserGraphText text = new UserGraphText(names, 5);
        List<UserView> sample = follower.read(g -> g.users().values().stream()
                .sorted(Comparator.comparingInt((UserView u) -> -u.edges().size())
                        .thenComparing(u -> u.userId))
                .limit(Math.max(0, o.sampleUsers)).toList());
        if (o.generated()) { // planted users read best in id order
            sample = sample.stream().sorted(Comparator.comparingInt(u -> u.userId.length()))
                    .toList();
        }
        for (UserView user : sample) {
            out.println();
            out.print(text.text(user, data.plantedFor(user.userId).map(p -> "(" + p + ")")
                    .orElse("")));
        }
    }

    /**
     * The replay is over: a heartbeat on the announcements topic (the latest version again, from
     * just after the last event) says that no other version applies to the replay, so that the
     * announcements' stream is active and past every event when the job drains. An input idle at
     * the drain drops the final watermark (FLINK-40499, open in Flink 1.20): the records the
     * pinning still held would then be released only after the savepoint, by a final checkpoint
     * that the idle source declines, and their deltas would stay uncommitted. Not later than the
     * last event: the announcements' watermark must not carry the job's event time past the
     * events' (at the end of time every user's idle expiry would fire).
     */
    private void announceNoMoreVersions(KafkaProducer<byte[], byte[]> producer,
            Configuration config, long lastEventMs) throws Exception {
        long at = lastEventMs + 1;
        String valid = config.get(FINE_TUNE_BASE_VERSION); // the version valid at that time
        long validFrom = Long.MIN_VALUE;
        for (var record : Topics.readAll(announcementsBootstrap, announcementsTopic)) {
            var announcement = ModelVersionAnnouncement.Deserializer.parse(record.value());
            if (announcement != null && announcement.model.equals(config.get(TRITON_MODEL))
                    && announcement.appliesFromMs <= at && announcement.appliesFromMs >= validFrom) {
                valid = announcement.version;
                validFrom = announcement.appliesFromMs;
            }
        }
        ModelVersionAnnouncement heartbeat = new ModelVersionAnnouncement(
                config.get(TRITON_MODEL), valid, at, -1);
        producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(
                announcementsTopic, heartbeat.toJson().getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .get(30, TimeUnit.SECONDS);
    }

    /** The versions the tuner announced ("2 (step 30)", ...), the closing heartbeat left out. */
    private List<String> versionsAnnounced() {
        List<String> announced = new java.util.ArrayList<>();
        for (var record : Topics.readAll(announcementsBootstrap, announcementsTopic)) {
            var announcement = ModelVersionAnnouncement.Deserializer.parse(record.value());
            if (announcement != null && announcement.step >= 0) {
                announced.add(announcement.version + " (step " + announcement.step + ")");
            }
        }
        return announced;
    }

    /** Users per encoder version of their long-term profile. */
    private static Map<String, Long> profilesByVersion(DeltaMaterializer graphs) {
        return graphs.users().values().stream()
                .flatMap(u -> u.profile().stream())
                .filter(p -> p.getLongTermCount() > 0)
                .collect(Collectors.groupingBy(p -> p.getModelVersion(), java.util.TreeMap::new,
                        Collectors.counting()));
    }

    private void linger(String bootstrap) {
        if (!o.linger || o.externalKafka() || stopRequested.get()) {
            return;
        }
        out.printf("%nKafka stays up at %s for `make deltas`; Ctrl-C ends the demo.%n",
                bootstrap);
        while (!stopRequested.get()) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // waiting for Ctrl-C
        }
    }

    // ------------------------------------------------------------------------------- set-up

    private LocalKafkaBroker startBroker() {
        LocalKafkaBroker.Builder builder = LocalKafkaBroker.builder();
        if (o.kafkaPort > 0) {
            if (portFree(o.kafkaPort)) {
                builder.port(o.kafkaPort);
            } else {
                out.printf("Port %d is busy: the broker takes a free port.%n", o.kafkaPort);
            }
        }
        return builder.start();
    }

    /**
     * The fine-tuning loop's other half: the Python tuner (PyTriton) publishing item_encoder
     * versions into a model repository that the embedded server serves from, announcing them on
     * the model-versions topic ahead of the job's event time. The job must run while versions
     * are announced, so the replay is paced.
     */
    private TunerProcess startTuner(String bootstrap) throws Exception {
        if (o.speed == 0) {
            o.speed = FINE_TUNE_SPEED;
            out.printf("Fine-tuning: paced replay (--demo.speed %.0f), so that the running job "
                    + "sees the versions the tuner publishes%n", o.speed);
        }
        Path repository = Files.createTempDirectory("interest-graph-demo-models-");
        // announce a version a few wall seconds of replay ahead of what it was trained on, so
        // that it reaches the job before the job's event time does (docs/fine-tuning.md)
        long leadMs = (long) (o.speed * FINE_TUNE_LEAD.toMillis());
        out.printf("Fine-tuning: starting item_encoder_tuner (PyTriton) - a new item_encoder "
                + "version every %d steps, announced %.1f h of event time ahead ...%n",
                o.fineTuneSteps, leadMs / 3_600_000.0);
        TunerProcess tuner = TunerProcess.builder().repository(repository)
                .publishEverySteps(o.fineTuneSteps).appliesFromLeadMs(leadMs)
                .announceTopic(o.job.getString(TOPIC_MODEL_VERSIONS.key(),
                        TOPIC_MODEL_VERSIONS.defaultValue()))
                .kafkaBootstrapServers(bootstrap).start();
        out.printf("Tuner: %s, model repository %s%n", tuner.endpoint(), repository);
        return tuner;
    }

    private Configuration jobConfig(String bootstrap, TunerProcess tuner) throws IOException {
        Configuration config = new Configuration();
        config.addAll(o.job);
        config.set(KAFKA_BOOTSTRAP, bootstrap);
        if (tuner != null) {
            config.set(FINE_TUNE_ENABLED, true);
            setIfAbsent(config, InterestGraphOptions.FINE_TUNE_EXAMPLE_SAMPLE.key(),
                    FINE_TUNE_EXAMPLE_SAMPLE);
            // The job may end its replay more than 30 s behind it (training, re-basing). An input
            // idle at the drain drops the final watermark (FLINK-40499, open in 1.20), and the
            // records still waiting for it would stay in the savepoint: no idleness in the demo.
            setIfAbsent(config, WATERMARK_IDLENESS.key(), "10 min");
            setIfAbsent(config, FINE_TUNE_TUNER_ENDPOINT.key(), tuner.endpoint());
            setIfAbsent(config, EMBEDDED_MODEL_REPOSITORY.key(), tuner.repository().toString());
        }
        boolean paced = o.speed > 0;
        // fast: the replay is in before the job starts, which reads to the end and finishes;
        // paced: the job runs while the replay is produced and the demo drains it at the end
        config.set(KAFKA_BOUNDED, !paced);
        setIfAbsent(config, "execution.checkpointing.interval", "2 s");
        // the progress line reads the job's metrics through the REST API: fresh every second
        setIfAbsent(config, "metrics.fetcher.update-interval", "1000");
        setIfAbsent(config, "state.backend.type", "hashmap");
        // an idle input ignores the final watermark, and the last flushes would be lost (see the
        // class comment). Fast: the catalogue source finishes before the events are read; paced:
        // the replay, and its heartbeats until the job has drained, keep the catalogue moving.
        // a group of its own: the progress counts this run's commits only
        setIfAbsent(config, KAFKA_GROUP_ID.key(), "interest-graph-demo-" + runId);
        if (o.externalKafka()) {
            setIfAbsent(config, KAFKA_TRANSACTIONAL_ID_PREFIX.key(), "interest-graph-demo-"
                    + runId);
        }
        int port = o.port;
        if (port == 0 || !portFree(port)) {
            if (port != 0) {
                out.printf("Port %d is busy: the dashboard takes a free port.%n", port);
            }
            port = freePort();
        }
        config.set(RestOptions.PORT, port);
        InterestGraphPipeline.applyRuntimeDefaults(config);
        InterestGraphOptions.validate(config);
        return config;
    }

    private void createTopics(LocalKafkaBroker broker, Properties client, Configuration config)
            throws Exception {
        List<String> plain = List.of(config.get(TOPIC_EVENTS), config.get(TOPIC_ITEMS),
                config.get(TOPIC_DEAD_LETTERS));
        // the deltas carry their event time (the demo's data is years old): with CreateTime the
        // broker's retention check would delete them (KafkaStartupChecks refuses such a topic)
        Map<String, String> appendTime = Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG,
                "LogAppendTime");
        List<String> compacted = new java.util.ArrayList<>(List.of(
                config.get(TOPIC_ITEM_NEIGHBORS), config.get(TOPIC_RECOMMENDATIONS)));
        if (!config.get(TOPIC_ITEM_EMBEDDINGS).isBlank()) {
            compacted.add(config.get(TOPIC_ITEM_EMBEDDINGS));
        }
        // announcements are ordered: one partition
        List<String> ordered = config.get(FINE_TUNE_ENABLED)
                ? List.of(config.get(TOPIC_MODEL_VERSIONS)) : List.of();
        if (broker != null) {
            plain.forEach(t -> broker.createTopic(t, 2));
            broker.createTopic(config.get(TOPIC_DELTAS), 2, appendTime);
            compacted.forEach(t -> broker.createCompactedTopic(t, 2));
            ordered.forEach(t -> broker.createTopic(t, 1));
            return;
        }
        try (Admin admin = Admin.create(client)) { // external: create what is missing
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            for (String topic : plain) {
                createIfMissing(admin, existing, new NewTopic(topic, 2, (short) -1));
            }
            createIfMissing(admin, existing, new NewTopic(config.get(TOPIC_DELTAS), 2, (short) -1)
                    .configs(appendTime));
            for (String topic : ordered) {
                createIfMissing(admin, existing, new NewTopic(topic, 1, (short) -1));
            }
            for (String topic : compacted) {
                createIfMissing(admin, existing, new NewTopic(topic, 2, (short) -1).configs(
                        Map.of(TopicConfig.CLEANUP_POLICY_CONFIG,
                                TopicConfig.CLEANUP_POLICY_COMPACT)));
            }
        }
    }

    private static void createIfMissing(Admin admin, Set<String> existing, NewTopic topic)
            throws Exception {
        if (existing.contains(topic.name())) {
            return;
        }
        try {
            admin.createTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
    }

    private static KafkaProducer<byte[], byte[]> producer(Properties client) {
        Properties props = new Properties();
        props.putAll(client);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 10);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static long countDeadLetters(String bootstrap, Configuration config) {
        return Topics.readAll(bootstrap, config.get(TOPIC_DEAD_LETTERS)).size();
    }

    private static long tappedCount(DeltaMaterializer tapped) {
        synchronized (tapped) {
            return tapped.appliedCount();
        }
    }

    private static Thread daemon(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        return thread;
    }

    private static void setIfAbsent(Configuration config, String key, String value) {
        if (!config.containsKey(key)) {
            config.setString(key, value);
        }
    }

    private static boolean portFree(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName("0.0.0.0"))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static boolean allRead(InputProgress progress, String topic) {
        try {
            return progress.allRead(List.of(topic));
        } catch (Exception e) {
            return false; // asked again until the timeout
        }
    }

    private static void awaitCondition(String what, Duration timeout,
            java.util.function.BooleanSupplier condition) {
        LocalKafkaBroker.awaitCondition(what, timeout, condition);
    }

    /**
     * How far the job's Kafka sources have read, from the offsets their consumer group commits
     * on each checkpoint: a record counts as processed once a checkpoint has passed it.
     */
    static final class InputProgress {
        private final Admin admin;
        private final String group;
        private final String events;
        private final String items;

        InputProgress(Admin admin, String group, String events, String items) {
            this.admin = admin;
            this.group = group;
            this.events = events;
            this.items = items;
        }

        /** Events read and checkpointed (committed offsets minus each log's start). */
        long processed() throws Exception {
            Map<TopicPartition, Long> committed = committed();
            Map<TopicPartition, Long> earliest = offsets(events, OffsetSpec.earliest());
            long sum = 0;
            for (Map.Entry<TopicPartition, Long> e : earliest.entrySet()) {
                sum += Math.max(0, committed.getOrDefault(e.getKey(), e.getValue()) - e.getValue());
            }
            return sum;
        }

        /** Both input topics' end offsets now. */
        Map<TopicPartition, Long> replayEnd() throws Exception {
            Map<TopicPartition, Long> ends = offsets(events, OffsetSpec.latest());
            ends.putAll(offsets(items, OffsetSpec.latest()));
            return ends;
        }

        /** Whether the job read and checkpointed the topics to their ends. */
        boolean allRead(List<String> topics) throws Exception {
            Map<TopicPartition, Long> ends = new HashMap<>();
            for (String topic : topics) {
                ends.putAll(offsets(topic, OffsetSpec.latest()));
            }
            return reached(ends);
        }

        /** Whether the job read and checkpointed its partitions up to these offsets. */
        boolean reached(Map<TopicPartition, Long> ends) throws Exception {
            Map<TopicPartition, Long> committed = committed();
            for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
                if (end.getValue() > 0 && committed.getOrDefault(end.getKey(), 0L)
                        < end.getValue()) {
                    return false;
                }
            }
            return true;
        }

        private Map<TopicPartition, Long> committed() throws Exception {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            Map<TopicPartition, Long> result = new HashMap<>();
            offsets.forEach((p, m) -> {
                if (m != null) {
                    result.put(p, m.offset());
                }
            });
            return result;
        }

        private Map<TopicPartition, Long> offsets(String topic, OffsetSpec spec)
                throws Exception {
            var partitions = admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(10, TimeUnit.SECONDS).get(topic).partitions();
            Map<TopicPartition, OffsetSpec> request = new HashMap<>();
            partitions.forEach(p -> request.put(new TopicPartition(topic, p.partition()), spec));
            Map<TopicPartition, Long> result = new HashMap<>();
            admin.listOffsets(request).all().get(10, TimeUnit.SECONDS)
                    .forEach((p, info) -> result.put(p, info.offset()));
            return result;
        }
    }
}
