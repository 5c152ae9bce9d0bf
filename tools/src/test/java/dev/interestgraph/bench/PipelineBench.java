package dev.interestgraph.bench;

import static dev.interestgraph.config.InterestGraphOptions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.interestgraph.InterestGraphPipeline;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.usergraph.UserGraphFunction;
import dev.interestgraph.inference.EmbeddingBackends;
import dev.interestgraph.ingest.InputDeserializationSchema;
import dev.interestgraph.ingest.InputLimits;
import dev.interestgraph.ingest.InputRecord;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v1.UserEvent;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.DiscardingSink;
import org.apache.flink.streaming.api.functions.sink.RichSinkFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.TimeUtils;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The end-to-end part of {@code make bench}: the real job (in-process Kafka broker, embedded
 * inference server, item-enrich, user-graph, exactly-once Kafka sink) on a local MiniCluster,
 * every figure next to a bare Flink baseline run in the same process on the same events.
 *
 * <ul>
 *   <li><b>throughput</b>: events/s of the job over the generated replay, at each backend and
 *       parallelism, in a steady-state window (after the item catalogue is embedded and a
 *       warm-up), against a bare keyed counter reading the same first N events of the same
 *       topic through the same deserializer, and against the {@link SameShapeBarePipeline}
 *       (the job's dataflow shape without its work); with the delta bytes per input event the
 *       broker received in the window ({@link TopicVolume});
 *   <li><b>replay</b>: the job's default configuration (RocksDB, incremental checkpoints every
 *       10 s, partitioned index/filters) with 256 MB of managed memory per slot over the
 *       10-million-event topic: rate per 10-s interval and stalls, checkpoint duration and size;
 *   <li><b>freshness</b>: event → delta latency at a paced input rate, at-least-once and
 *       exactly-once, against the same-shape bare pipeline (and, with {@code
 *       fresh.bare=same-shape,keyed-map}, issue 9's Kafka → keyed map → Kafka pipeline), plus a
 *       PNG over time; the graph job in each {@code graph.ordering} of {@code fresh.orderings}
 *       (at-least-once; default event-time and arrival) and {@code fresh.eo-orderings}
 *       (exactly-once; default event-time), with {@code fresh.emit-interval} (event-time slots,
 *       default 100 ms) and {@code fresh.arrival-emit-interval} (arrival coalescing, default 0);
 *   <li><b>state</b>: snapshot size of the user-graph operator against the number of users.
 * </ul>
 * Every figure is printed as one line starting with its name (THROUGHPUT, VOLUME, REPLAY,
 * CHECKPOINT, FRESHNESS, STATE) so that two runs can be compared with {@code grep}; the figures
 * issue 16's Goals table and docs/capacity.md need also go to a {@link BenchFigures}.
 */
final class PipelineBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ITEMS_TOPIC = "bench-items";
    private static final String EVENTS_TOPIC = "bench-events";
    private static final int PARTITIONS = 2;

    private final Map<String, String> o;
    private final BenchFigures figures;
    private final List<String> summary = new ArrayList<>();
    private final Path work;
    private LocalKafkaBroker kafka;
    private E2EWorkload workload;
    /** End offsets of the events topic after the first {@code e2e.events} events. */
    private Map<TopicPartition, Long> throughputEnd;
    private int runs;

    PipelineBench(Map<String, String> options) throws IOException {
        this(options, new BenchFigures());
    }

    /** Fills {@code figures} with what it measures (issue 16's Goals table, capacity inputs). */
    PipelineBench(Map<String, String> options, BenchFigures figures) throws IOException {
        this.o = options;
        this.figures = figures;
        this.work = Files.createTempDirectory("interest-graph-bench-");
    }

    private String opt(String key, String fallback) {
        return o.getOrDefault(key, fallback);
    }

    private int intOpt(String key, int fallback) {
        return Integer.parseInt(opt(key, String.valueOf(fallback)));
    }

    private long longOpt(String key, long fallback) {
        return Long.parseLong(opt(key, String.valueOf(fallback)));
    }

    private boolean part(String name) {
        return Arrays.asList(opt("parts", "throughput,replay,freshness,state").split(","))
                .contains(name);
    }

    /** Runs the chosen parts; returns the one-line summaries. */
    List<String> run() throws Exception {
        try {
            if (part("state")) {
                state();
            }
            if (part("throughput") || part("replay")) {
                kafka = broker();
                load();
                if (part("throughput")) {
                    throughput();
                }
                if (part("replay")) {
                    replay();
                }
            }
            if (part("freshness")) {
                if (kafka == null) {
                    kafka = broker();
                }
                freshness();
            }
        } finally {
            if (kafka != null) {
                kafka.close();
            }
            org.apache.commons.io.FileUtils.deleteQuietly(work.toFile());
        }
        return summary;
    }

    private static LocalKafkaBroker broker() {
        // check retention every 30 s instead of 5 min (see the deltas topic's retention.bytes)
        return LocalKafkaBroker.builder()
                .brokerConfig("log.retention.check.interval.ms", "30000").start();
    }

    private void line(String format, Object... args) {
        String text = String.format(Locale.ROOT, format, args);
        summary.add(text);
        System.out.println(">>> " + text);
    }

    // ------------------------------------------------------------------------------ loading

    private void load() throws Exception {
        long events = longOpt("e2e.events", 5_000_000);
        long replayEvents = part("replay") ? Math.max(events, longOpt("replay.events", 10_000_000))
                : events;
        workload = new E2EWorkload(intOpt("e2e.users", 50_000), intOpt("e2e.itemsPerTopic", 100),
                replayEvents, intOpt("e2e.eventTimeRate", 10_000), 42);
        kafka.createTopic(ITEMS_TOPIC, PARTITIONS);
        kafka.createTopic(EVENTS_TOPIC, PARTITIONS);
        long start = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer =
                E2EWorkload.bulkProducer(kafka.bootstrapServers())) {
            workload.produceItems(producer, ITEMS_TOPIC);
            workload.produceEvents(producer, EVENTS_TOPIC, 0, events);
            throughputEnd = endOffsets(EVENTS_TOPIC);
            if (replayEvents > events) {
                workload.produceEvents(producer, EVENTS_TOPIC, events, replayEvents);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long bytes = Files.walk(kafka.dataDir()).filter(Files::isRegularFile)
                .mapToLong(p -> p.toFile().length()).sum();
        long eventsTopicBytes;
        try (org.apache.kafka.clients.admin.Admin admin = kafka.newAdmin()) {
            eventsTopicBytes = TopicVolume.logDirBytes(admin, EVENTS_TOPIC);
        }
        figures.inputBytesPerEvent = (double) eventsTopicBytes / replayEvents;
        line("VOLUME input topic %s: %,d B in the broker's log dirs for %,d events = %.1f B per "
                + "event (record batches as stored, keys and overhead included)", EVENTS_TOPIC,
                eventsTopicBytes, replayEvents, figures.inputBytesPerEvent);
        line("LOAD %,d items and %,d events (protobuf, %d partitions, %,d users) into the "
                + "in-process broker in %.1f s (%,.0f ev/s, %,d MB on disk); throughput runs "
                + "use the first %,d", workload.items(), replayEvents, PARTITIONS, workload.users,
                seconds, replayEvents / seconds, bytes >> 20, events);
    }

    private Map<TopicPartition, Long> endOffsets(String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props,
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic).forEach(p ->
                    partitions.add(new TopicPartition(topic, p.partition())));
            return new HashMap<>(consumer.endOffsets(partitions));
        }
    }

    // ------------------------------------------------------------------------------ configs

    /** Cluster and job options shared by the job and its baseline in one comparison. */
    private Configuration cluster(String backend, int parallelism, String runId) {
        Configuration config = new Configuration();
        config.setString("execution.checkpointing.dir",
                work.resolve("checkpoints").resolve(runId).toUri().toString());
        InterestGraphPipeline.applyRuntimeDefaults(config);
        config.setString("state.backend.type", "heap".equals(backend) ? "hashmap" : "rocksdb");
        config.setString("taskmanager.numberOfTaskSlots", String.valueOf(parallelism));
        config.setString("taskmanager.memory.managed.size",
                (intOpt("e2e.managedMbPerSlot", 256) * parallelism) + "mb");
        config.setString("restart-strategy.type", "none");
        config.set(RestOptions.PORT, freePort());
        config.set(RestOptions.BIND_PORT, String.valueOf(config.get(RestOptions.PORT)));
        config.set(KAFKA_BOOTSTRAP, kafka.bootstrapServers());
        config.set(INPUT_FORMAT, InputFormat.PROTOBUF);
        return config;
    }

    /** The job's options for a run over the shared topics, with its own output topics. */
    private Configuration job(Configuration cluster, String runId, String eventsTopic,
            int parallelism) {
        Configuration config = new Configuration(cluster);
        prefixTopics(config, runId + "-");
        config.set(TOPIC_EVENTS, eventsTopic);
        config.set(TOPIC_ITEMS, ITEMS_TOPIC);
        config.set(KAFKA_TRANSACTION_TIMEOUT, Duration.ofMinutes(5));
        // ~6 KB per event: let the broker drop old delta segments so that a long replay (10 M
        // events ≈ 60 GB of deltas) cannot fill the disk; nothing reads them back
        kafka.createTopic(config.get(TOPIC_DELTAS), parallelism, Map.of(
                "retention.bytes", String.valueOf(512L << 20), "segment.bytes",
                String.valueOf(128L << 20)));
        kafka.createTopic(config.get(TOPIC_DEAD_LETTERS), 1);
        kafka.createCompactedTopic(config.get(TOPIC_ITEM_EMBEDDINGS), parallelism);
        // the unbounded (freshness) runs carry the recommend operator: without its topic the
        // first recommendation it writes (a user whose last edge went) blocks the sink's
        // producer on metadata, and back-pressure stops the whole job after ~25 K events
        kafka.createTopic(config.get(TOPIC_RECOMMENDATIONS), parallelism);
        return config;
    }

    private void deleteTopics(Configuration config) {
        try (org.apache.kafka.clients.admin.Admin admin = kafka.newAdmin()) {
            admin.deleteTopics(List.of(config.get(TOPIC_DELTAS), config.get(TOPIC_DEAD_LETTERS),
                    config.get(TOPIC_ITEM_EMBEDDINGS), config.get(TOPIC_RECOMMENDATIONS)))
                    .all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.err.println("could not delete the run's topics: " + e);
        }
    }

    private static StreamExecutionEnvironment env(Configuration config, int parallelism) {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(config);
        env.setParallelism(parallelism);
        return env;
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------------------ throughput

    private void throughput() throws Exception {
        for (String backend : opt("tput.backends", "heap,rocksdb").split(",")) {
            for (String p : opt("tput.parallelism", "1,2").split(",")) {
                int parallelism = Integer.parseInt(p);
                if ("rocksdb".equals(backend) && parallelism == 2 && part("replay")) {
                    continue; // the replay part is this configuration, measured longer
                }
                Double counter = baseline("counter") ? counterRun(backend, parallelism) : null;
                SameShapeRun same = baseline("same-shape")
                        ? sameShapeRun(backend, parallelism) : null;
                GraphRun graph = graphRun(backend, parallelism, intOpt("tput.window", 30), 10);
                throughputLine(backend, parallelism, graph, counter, same);
            }
        }
    }

    /**
     * Which bare baselines the throughput runs measure: {@code tput.baselines}, by default the
     * same-shape pipeline only (issue 16's baseline); {@code counter,same-shape} adds issue 9's
     * keyed counter (~25 s per configuration, which a 20-minute {@code make bench} cannot spare
     * on a busy machine).
     */
    private boolean baseline(String name) {
        return Arrays.asList(opt("tput.baselines", "same-shape").split(","))
                .contains(name);
    }

    private void throughputLine(String backend, int parallelism, GraphRun graph, Double counter,
            SameShapeRun same) {
        long events = longOpt("e2e.events", 5_000_000);
        if (counter != null) {
            line("THROUGHPUT %s p=%d graph=%,.0f ev/s counter=%,.0f ev/s ratio=%.3f (graph: "
                    + "steady %d s window, %,d of %,d events consumed, %,.2f deltas/event; "
                    + "counter: 10–90 %% of %,d events)", backend, parallelism, graph.rate,
                    counter, graph.rate / counter, graph.windowSeconds, graph.consumed,
                    workload.events, graph.deltasPerEvent, events);
        }
        if (same != null) {
            line("THROUGHPUT %s p=%d graph=%,.0f ev/s same-shape=%,.0f ev/s ratio=%.3f "
                    + "(same-shape bare pipeline: 2 sources, keyBy item + keyBy user, ValueState "
                    + "read-modify-write, EXACTLY_ONCE sink of %d B per event, %,.0f B per event "
                    + "on the broker; %,d events in %d s from 10 %% of %,d)", backend,
                    parallelism, graph.rate, same.rate, graph.rate / same.rate,
                    SameShapeBarePipeline.RECORD_BYTES, same.bytesPerEvent, same.events,
                    same.seconds, events);
        }
        line("VOLUME %s p=%d deltas: %,d B in %,d records for %,d events in the window = %,.0f B "
                + "per input event, %,.0f B per delta, %.1f× the input topic's %.1f B per event "
                + "(broker BytesIn of the delta topic)", backend, parallelism, graph.deltaBytes,
                graph.deltaRecords, graph.windowEvents,
                (double) graph.deltaBytes / Math.max(1, graph.windowEvents),
                (double) graph.deltaBytes / Math.max(1, graph.deltaRecords),
                (double) graph.deltaBytes / Math.max(1, graph.windowEvents)
                        / figures.inputBytesPerEvent, figures.inputBytesPerEvent);
        if (graph.checkpoints != null) {
            line("CHECKPOINT %s p=%d %s", backend, parallelism, graph.checkpoints);
        }
        BenchFigures.Throughput t = new BenchFigures.Throughput();
        t.backend = backend;
        t.parallelism = parallelism;
        t.graph = graph.rate;
        t.counter = counter;
        t.sameShape = same == null ? null : same.rate;
        t.sameShapeBytesPerEvent = same == null ? null : same.bytesPerEvent;
        t.deltaBytes = graph.deltaBytes;
        t.deltaRecords = graph.deltaRecords;
        t.events = graph.windowEvents;
        figures.throughput.add(t);
    }

    /** What a same-shape bare run measured. */
    static final class SameShapeRun {
        double rate;
        long events;
        int seconds;
        double bytesPerEvent;
    }

    /**
     * The same-shape bare pipeline ({@link SameShapeBarePipeline}) over the first e2e.events
     * events, EXACTLY_ONCE sink, the cluster settings of the job's run: steady rate from 10 % of
     * the events to 90 % or {@code tput.bareWindow} seconds, whichever comes first.
     */
    private SameShapeRun sameShapeRun(String backend, int parallelism) throws Exception {
        String runId = "same-shape" + (++runs);
        Configuration config = cluster(backend, parallelism, runId);
        String output = runId + "-out";
        kafka.createTopic(output, parallelism);
        StreamExecutionEnvironment env = env(config, parallelism);
        SameShapeBarePipeline.Settings settings = new SameShapeBarePipeline.Settings();
        settings.bootstrap = kafka.bootstrapServers();
        settings.eventsTopic = EVENTS_TOPIC;
        settings.itemsTopic = ITEMS_TOPIC;
        settings.outputTopic = output;
        settings.transactionalIdPrefix = runId;
        settings.eventsEnd = throughputEnd;
        settings.exactlyOnce = true;
        SameShapeBarePipeline.build(env, config, settings);
        long total = throughputEnd.values().stream().mapToLong(Long::longValue).sum();
        SameShapeBarePipeline.EVENTS.reset();
        JobClient job = env.executeAsync("same-shape bare " + runId);
        SameShapeRun run = new SameShapeRun();
        try {
            long[] steady = steadyRate(SameShapeBarePipeline.EVENTS, total, job,
                    intOpt("tput.bareWindow", 20));
            run.events = steady[0];
            run.seconds = (int) Math.round(steady[1] / 1e9);
            run.rate = steady[0] / (steady[1] / 1e9);
            long counted = SameShapeBarePipeline.EVENTS.sum();
            run.bytesPerEvent = (double) TopicVolume.appendedBytes(output).bytes
                    / Math.max(1, counted);
        } finally {
            if (!done(job)) {
                job.cancel().get(60, TimeUnit.SECONDS);
            }
            try {
                job.getJobExecutionResult().get(60, TimeUnit.SECONDS);
            } catch (Exception expected) {
                // cancelled
            }
            try (org.apache.kafka.clients.admin.Admin admin = kafka.newAdmin()) {
                admin.deleteTopics(List.of(output)).all().get(30, TimeUnit.SECONDS);
            }
        }
        return run;
    }

    /**
     * Polls {@code counter} while the job runs: {events, nanoseconds} from the moment it passed
     * 10 % of {@code total} to the moment it passed 90 %, or {@code maxSeconds} after the 10 %
     * mark, whichever comes first.
     */
    private static long[] steadyRate(LongAdder counter, long total, JobClient job, int maxSeconds)
            throws Exception {
        long t10 = 0;
        long c10 = 0;
        long maxNs = TimeUnit.SECONDS.toNanos(maxSeconds);
        while (true) {
            long count = counter.sum();
            long now = System.nanoTime();
            if (t10 == 0 && count >= total / 10) {
                t10 = now;
                c10 = count;
            }
            if (t10 != 0 && (count >= total * 9 / 10 || now - t10 >= maxNs)) {
                return new long[] {count - c10, now - t10};
            }
            if (done(job)) {
                throw new IllegalStateException("the job ended before 90 % of its events: "
                        + count + " of " + total);
            }
            Thread.sleep(20);
        }
    }

    /** Bare keyed counter over the first e2e.events events; steady rate between 10 and 90 %. */
    private double counterRun(String backend, int parallelism) throws Exception {
        String runId = "counter" + (++runs);
        Configuration config = cluster(backend, parallelism, runId);
        StreamExecutionEnvironment env = env(config, parallelism);
        KafkaSource<InputRecord> source = KafkaSource.<InputRecord>builder()
                .setBootstrapServers(kafka.bootstrapServers())
                .setTopics(EVENTS_TOPIC)
                .setGroupId(runId)
                .setDeserializer(InputDeserializationSchema.forUserEvents(InputFormat.PROTOBUF,
                        InputLimits.from(config)))
                .setProperty("isolation.level", "read_committed")
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setBounded(OffsetsInitializer.offsets(throughputEnd))
                .build();
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "user-events source")
                .filter(r -> r.userAction != null).name("parsed")
                .keyBy(r -> r.userAction.userId)
                .process(new CountingCounter()).name("bare keyed counter")
                .addSink(new DiscardingSink<>()).name("discard");
        long total = throughputEnd.values().stream().mapToLong(Long::longValue).sum();
        CountingCounter.COUNT.reset();
        JobClient job = env.executeAsync("bare keyed counter " + runId);
        long t10 = 0;
        long t90 = 0;
        long c10 = 0;
        long c90 = 0;
        while (true) {
            long count = CountingCounter.COUNT.sum();
            long now = System.nanoTime();
            if (t10 == 0 && count >= total / 10) {
                t10 = now;
                c10 = count;
            }
            if (t90 == 0 && count >= total * 9 / 10) {
                t90 = now;
                c90 = count;
            }
            if (done(job)) {
                break;
            }
            Thread.sleep(20);
        }
        job.getJobExecutionResult().get();
        if (t90 == 0 || t90 == t10) {
            throw new IllegalStateException("the counter did not get through its events");
        }
        return (c90 - c10) / ((t90 - t10) / 1e9);
    }

    /** The Flink floor ({@link KeyedCounterFunction}), counted for the rate. */
    static final class CountingCounter extends KeyedCounterFunction<InputRecord> {
        private static final long serialVersionUID = 1L;
        static final LongAdder COUNT = new LongAdder();

        @Override
        public void processElement(InputRecord record, Context ctx, Collector<Long> out)
                throws Exception {
            super.processElement(record, ctx, out);
            COUNT.increment();
        }
    }

    /** What a windowed run of the job measured. */
    static final class GraphRun {
        double rate;
        long consumed;
        int windowSeconds;
        double deltasPerEvent;
        String checkpoints;
        /** Bytes and records the broker appended to the delta topic in the window. */
        long deltaBytes;
        long deltaRecords;
        /** Events consumed in the window. */
        long windowEvents;
        /** Checkpoint figures (REST API), for the capacity inputs; null when none completed. */
        Double checkpointFullBytes;
        Double checkpointIncrementalBytes;
        Double checkpointAvgMs;
        Double checkpointMaxMs;
        Double checkpointUserGraphFullBytes;
        /** Events consumed per interval of the window (events/s). */
        final List<Double> intervalRates = new ArrayList<>();
    }

    /** Counts deltas and remembers the newest flushed event time (the replay position). */
    static final class ProgressTap extends RichSinkFunction<DeltaRecord> {
        private static final long serialVersionUID = 1L;
        static final AtomicLong MAX_EVENT_TIME = new AtomicLong(Long.MIN_VALUE);
        static final LongAdder DELTAS = new LongAdder();

        @Override
        public void invoke(DeltaRecord record, Context context) {
            DELTAS.increment();
            long t = record.eventTimeMs;
            if (t > MAX_EVENT_TIME.get()) {
                MAX_EVENT_TIME.accumulateAndGet(t, Math::max);
            }
        }
    }

    /**
     * The real job over the events topic (bounded at its end), measured in a steady window:
     * from {@code warmup} s after the first delta for {@code window} s. The events consumed by a
     * time are those at or before the newest flushed event time (events are in event-time
     * order, and a flush happens only once the watermark has passed it).
     */
    private GraphRun graphRun(String backend, int parallelism, int window, int interval)
            throws Exception {
        String runId = "graph" + (++runs);
        Configuration config = job(cluster(backend, parallelism, runId), runId, EVENTS_TOPIC,
                parallelism);
        config.set(KAFKA_BOUNDED, true);
        // no idleness: no event is joined before the whole catalogue is embedded (warm cache)
        config.set(WATERMARK_IDLENESS, Duration.ofHours(1));
        StreamExecutionEnvironment env = env(config, parallelism);
        InterestGraphPipeline.Outputs outputs = new InterestGraphPipeline(config,
                EmbeddingBackends.fromConfig(config)).build(env);
        outputs.deltas.addSink(new ProgressTap()).name("bench: progress tap");
        ProgressTap.MAX_EVENT_TIME.set(Long.MIN_VALUE);
        ProgressTap.DELTAS.reset();

        JobClient job = env.executeAsync("interest-graph bench " + runId);
        GraphRun run = new GraphRun();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
            while (ProgressTap.DELTAS.sum() == 0) {
                if (System.nanoTime() > deadline || done(job)) {
                    throw new IllegalStateException("the job emitted no delta: " + runId);
                }
                Thread.sleep(50);
            }
            Thread.sleep(TimeUnit.SECONDS.toMillis(intOpt("tput.warmup", 8)));
            long startNs = System.nanoTime();
            long startEvents = consumed();
            long startDeltas = ProgressTap.DELTAS.sum();
            String deltasTopic = config.get(TOPIC_DELTAS);
            TopicVolume.Appended startVolume = TopicVolume.appendedBytes(deltasTopic);
            long lastNs = startNs;
            long lastEvents = startEvents;
            long endNs = startNs + TimeUnit.SECONDS.toNanos(window);
            while (System.nanoTime() < endNs && lastEvents < workload.events
                    && !done(job)) {
                Thread.sleep(Math.min(TimeUnit.SECONDS.toMillis(interval),
                        Math.max(1, TimeUnit.NANOSECONDS.toMillis(endNs - System.nanoTime()))));
                long now = System.nanoTime();
                long events = consumed();
                if (now - lastNs >= TimeUnit.SECONDS.toNanos(interval) / 2) {
                    run.intervalRates.add((events - lastEvents) / ((now - lastNs) / 1e9));
                }
                lastNs = now;
                lastEvents = events;
            }
            run.windowSeconds = (int) Math.round((lastNs - startNs) / 1e9);
            run.rate = (lastEvents - startEvents) / ((lastNs - startNs) / 1e9);
            run.consumed = lastEvents;
            run.deltasPerEvent = (ProgressTap.DELTAS.sum() - startDeltas)
                    / (double) Math.max(1, lastEvents - startEvents);
            TopicVolume.Appended volume = TopicVolume.appendedBytes(deltasTopic)
                    .minus(startVolume);
            run.deltaBytes = volume.bytes;
            run.deltaRecords = volume.records;
            run.windowEvents = lastEvents - startEvents;
            run.checkpoints = checkpointStats(config, job, run);
        } finally {
            if (!done(job)) {
                job.cancel().get(60, TimeUnit.SECONDS);
            }
            try {
                job.getJobExecutionResult().get(60, TimeUnit.SECONDS);
            } catch (Exception expected) {
                // cancelled
            }
            deleteTopics(config);
        }
        return run;
    }

    /** Whether the job has ended (a local cluster shuts down with its job, then it cannot say). */
    private static boolean done(JobClient job) {
        try {
            return job.getJobStatus().get(10, TimeUnit.SECONDS).isTerminalState();
        } catch (Exception e) {
            return true;
        }
    }

    private long consumed() {
        return workload.eventsUpTo(ProgressTap.MAX_EVENT_TIME.get());
    }

    // ------------------------------------------------------------------------------ replay

    private void replay() throws Exception {
        int interval = 10;
        GraphRun run = graphRun("rocksdb", 2, intOpt("replay.window", 120), interval);
        List<Double> rates = new ArrayList<>(run.intervalRates);
        double[] sorted = rates.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double median = sorted.length == 0 ? 0 : sorted[sorted.length / 2];
        long stalls = rates.stream().filter(r -> r < 0.25 * median).count();
        line("REPLAY rocksdb p=2 managed=%d MB/slot (job defaults: incremental checkpoints every "
                + "10 s, partitioned index/filters): %,d of %,d events consumed; rate per %d s "
                + "min=%,.0f median=%,.0f max=%,.0f ev/s; stalls (intervals < 25 %% of median)=%d",
                intOpt("e2e.managedMbPerSlot", 256), run.consumed, workload.events, interval,
                sorted.length == 0 ? 0 : sorted[0], median,
                sorted.length == 0 ? 0 : sorted[sorted.length - 1], stalls);
        figures.checkpointRun = String.format(Locale.ROOT, "rocksdb p=2, %d MB managed memory "
                + "per slot, incremental checkpoints every 10 s, %,d events over %,d users in "
                + "%d s", intOpt("e2e.managedMbPerSlot", 256), run.consumed, workload.users,
                run.windowSeconds);
        figures.checkpointFullBytes = run.checkpointFullBytes;
        figures.checkpointIncrementalBytes = run.checkpointIncrementalBytes;
        figures.checkpointAvgMs = run.checkpointAvgMs;
        figures.checkpointMaxMs = run.checkpointMaxMs;
        figures.checkpointUserGraphFullBytes = run.checkpointUserGraphFullBytes;
        figures.checkpointRunRate = run.rate;
        // users with state: event i goes to a uniformly drawn user, so after n events
        // users·(1 − e^(−n/users)) of them have one
        figures.checkpointRunUsers = (int) Math.round(workload.users
                * (1 - Math.exp(-(double) run.consumed / workload.users)));
        if (part("throughput")) {
            Double counter = baseline("counter") ? counterRun("rocksdb", 2) : null;
            SameShapeRun same = baseline("same-shape") ? sameShapeRun("rocksdb", 2) : null;
            throughputLine("rocksdb", 2, run, counter, same);
        } else if (run.checkpoints != null) {
            line("CHECKPOINT rocksdb p=2 %s", run.checkpoints);
        }
    }

    /** Checkpoint statistics from the job's REST API (what the dashboard shows). */
    private String checkpointStats(Configuration config, JobClient job, GraphRun run) {
        String base = "http://localhost:" + config.get(RestOptions.PORT);
        String id = job.getJobID().toString();
        JsonNode stats = rest(base + "/jobs/" + id + "/checkpoints");
        if (stats == null) {
            return null;
        }
        if (Boolean.getBoolean("bench.debug")) {
            System.out.println("checkpoints: " + stats.path("history"));
            JsonNode v = rest(base + "/jobs/" + id);
            if (v != null) {
                for (JsonNode vertex : v.path("vertices")) {
                    System.out.println("vertex " + vertex.path("id").asText() + " "
                            + vertex.path("name").asText());
                }
            }
            for (JsonNode h : stats.path("history")) {
                System.out.println("detail: " + rest(base + "/jobs/" + id
                        + "/checkpoints/details/" + h.path("id").asLong()));
            }
        }
        JsonNode latest = stats.path("latest").path("completed");
        JsonNode summary = stats.path("summary");
        String userGraph = "n/a";
        JsonNode vertices = rest(base + "/jobs/" + id);
        if (!latest.isMissingNode() && !latest.isNull() && vertices != null) {
            JsonNode detail = rest(base + "/jobs/" + id + "/checkpoints/details/"
                    + latest.path("id").asLong());
            for (JsonNode vertex : vertices.path("vertices")) {
                if (vertex.path("name").asText().contains("user-graph") && detail != null) {
                    JsonNode task = detail.path("tasks").path(vertex.path("id").asText());
                    userGraph = String.format(Locale.ROOT, "%.1f MB full / %.1f MB incremental",
                            task.path("state_size").asLong() / 1e6,
                            task.path("checkpointed_size").asLong() / 1e6);
                    run.checkpointUserGraphFullBytes = (double) task.path("state_size").asLong();
                }
            }
        }
        String inProgress = "";
        for (JsonNode h : stats.path("history")) {
            if ("IN_PROGRESS".equals(h.path("status").asText())) {
                inProgress = String.format(Locale.ROOT, "; #%d in progress for %,d ms, %d of %d "
                        + "subtasks acknowledged", h.path("id").asLong(),
                        System.currentTimeMillis() - h.path("trigger_timestamp").asLong(),
                        h.path("num_acknowledged_subtasks").asLong(),
                        h.path("num_subtasks").asLong());
            }
        }
        if (!latest.isMissingNode() && !latest.isNull()) {
            run.checkpointFullBytes = (double) latest.path("state_size").asLong();
            // incremental bytes per checkpoint: the mean over the completed checkpoints the
            // REST history keeps (the latest alone swings with RocksDB's compactions)
            long incremental = 0;
            int completed = 0;
            for (JsonNode h : stats.path("history")) {
                if ("COMPLETED".equals(h.path("status").asText())) {
                    incremental += h.path("checkpointed_size").asLong();
                    completed++;
                }
            }
            run.checkpointIncrementalBytes = completed == 0 ? null
                    : (double) incremental / completed;
            run.checkpointAvgMs = (double) summary.path("end_to_end_duration").path("avg").asLong();
            run.checkpointMaxMs = (double) summary.path("end_to_end_duration").path("max").asLong();
        }
        return String.format(Locale.ROOT, "completed=%d failed=%d; end-to-end duration "
                + "avg=%,d ms max=%,d ms; latest (#%d): full state %.1f MB, this checkpoint "
                + "%.1f MB, took %,d ms; user-graph operator: %s%s",
                stats.path("counts").path("completed").asLong(),
                stats.path("counts").path("failed").asLong(),
                summary.path("end_to_end_duration").path("avg").asLong(),
                summary.path("end_to_end_duration").path("max").asLong(),
                latest.path("id").asLong(), latest.path("state_size").asLong() / 1e6,
                latest.path("checkpointed_size").asLong() / 1e6,
                latest.path("end_to_end_duration").asLong(), userGraph, inProgress);
    }

    private static JsonNode rest(String url) {
        try {
            HttpResponse<String> response = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                            .GET().build(), HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? JSON.readTree(response.body()) : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            System.err.println("REST " + url + ": " + e);
            return null;
        }
    }

    // ------------------------------------------------------------------------------ freshness

    /** Latencies of one freshness run: (ms since the first measured event, latency ms). */
    static final class Latencies {
        final String name;
        final List<long[]> points = new ArrayList<>();
        /** Per user, the event times sent and not yet delivered by an output record. */
        final Map<String, Deque<Long>> pending =
                new ConcurrentHashMap<>();
        /** Measured events no output record delivered by the end of the run. */
        long undelivered;
        /** Graph runs: the delta topic's and the input topic's volume on the broker. */
        long deltaBytes;
        long deltaRecords;
        long inputEvents;
        long inputBytes;

        Latencies(String name) {
            this.name = name;
        }

        long[] sorted() {
            return points.stream().mapToLong(p -> p[1]).sorted().toArray();
        }

        long spanMs() {
            return points.stream().mapToLong(p -> p[0]).max().orElse(0);
        }

        long p50Between(long fromMs, long toMs) {
            return pct(points.stream().filter(p -> p[0] >= fromMs && p[0] < toMs)
                    .mapToLong(p -> p[1]).sorted().toArray(), 0.5);
        }

        static long pct(long[] sorted, double q) {
            return sorted.length == 0 ? -1
                    : sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
        }
    }

    private void freshness() throws Exception {
        if (workload == null) {
            workload = new E2EWorkload(intOpt("e2e.users", 50_000),
                    intOpt("e2e.itemsPerTopic", 100), 0, 10_000, 42);
        }
        if (endOffsetsOrEmpty(ITEMS_TOPIC)) {
            kafka.createTopic(ITEMS_TOPIC, PARTITIONS);
            try (KafkaProducer<byte[], byte[]> producer =
                    E2EWorkload.bulkProducer(kafka.bootstrapServers())) {
                workload.produceItems(producer, ITEMS_TOPIC);
            }
        }
        List<Latencies> all = new ArrayList<>();
        // the bare pipelines to compare with: the first one is the Goals table's baseline
        List<String> bares = Arrays.asList(opt("fresh.bare", "same-shape").split(","));
        figures.freshnessBaseline = bares.get(0);
        for (boolean exactlyOnce : new boolean[] {false, true}) {
            String mode = exactlyOnce ? "exactly-once" : "at-least-once";
            List<Latencies> bareRuns = new ArrayList<>();
            for (String kind : bares) {
                bareRuns.add(freshnessRun(exactlyOnce, kind));
            }
            all.addAll(bareRuns);
            String orderings = exactlyOnce ? opt("fresh.eo-orderings", "event-time")
                    : opt("fresh.orderings", "event-time,arrival");
            for (String ordering : orderings.split(",")) {
                freshnessOfGraph(exactlyOnce, graphOrdering(ordering.trim()), bares, bareRuns,
                        all);
            }
        }
        String png = opt("png", "../docs/benchmarks-freshness.png");
        latencyChart(all, png);
        line("FRESHNESS chart written to %s", png);
    }

    /** The event-time slot of the graph runs in event-time order (a latency-tuned 100 ms). */
    private Duration freshEmitInterval() {
        return TimeUtils.parseDuration(opt("fresh.emit-interval", "100 ms"));
    }

    /** The coalescing interval of the graph runs in arrival order (0: a delta per action). */
    private Duration freshArrivalEmitInterval() {
        return TimeUtils.parseDuration(opt("fresh.arrival-emit-interval", "0 ms"));
    }

    /** A {@code fresh.orderings} value in the option's own spelling (event-time, arrival). */
    private static GraphOrdering graphOrdering(String name) {
        for (GraphOrdering ordering : GraphOrdering.values()) {
            if (ordering.toString().equals(name)) {
                return ordering;
            }
        }
        throw new IllegalArgumentException("fresh.orderings / fresh.eo-orderings: event-time or "
                + "arrival, not " + name);
    }

    /** One graph run in {@code ordering} and its FRESHNESS lines against the bare runs. */
    private void freshnessOfGraph(boolean exactlyOnce, GraphOrdering ordering, List<String> bares,
            List<Latencies> bareRuns, List<Latencies> all) throws Exception {
        boolean arrival = ordering == GraphOrdering.ARRIVAL;
        // event-time lines keep the words of the runs before arrival order existed (grep)
        String mode = (exactlyOnce ? "exactly-once" : "at-least-once") + (arrival
                ? String.format(Locale.ROOT, " arrival order (%d ms coalescing)",
                        freshArrivalEmitInterval().toMillis())
                : "");
        String slots = arrival
                ? String.format(Locale.ROOT, "arrival order, %d ms processing-time coalescing",
                        freshArrivalEmitInterval().toMillis())
                : String.format(Locale.ROOT, "%d ms flush slots", freshEmitInterval().toMillis());
        Latencies graph = freshnessRun(exactlyOnce, "graph", ordering);
        all.add(graph);
        long[] g = graph.sorted();
        Long p99 = Latencies.pct(g, 0.99);
        Long bareP99 = Latencies.pct(bareRuns.get(0).sorted(), 0.99);
        if (exactlyOnce) {
            figures.freshEoBare = bareP99;
            if (arrival) {
                figures.freshEoArrival = p99;
            } else {
                figures.freshEoGraph = p99;
            }
        } else {
            figures.freshAloBare = bareP99;
            if (arrival) {
                figures.freshAloArrival = p99;
            } else {
                figures.freshAloGraph = p99;
            }
        }
        if (graph.deltaBytes > 0) {
            line("VOLUME freshness %s deltas: %,d B in %,d records for %,d input events = "
                    + "%,.0f B per input event, %.1f× the input topic (%,d B on the broker"
                    + "; latency-tuned: %s, %,d users at %,d ev/s)", mode,
                    graph.deltaBytes, graph.deltaRecords, graph.inputEvents,
                    (double) graph.deltaBytes / graph.inputEvents,
                    (double) graph.deltaBytes / Math.max(1, graph.inputBytes),
                    graph.inputBytes, slots, intOpt("fresh.users", 10_000),
                    intOpt("fresh.rate", 5_000));
        }
        // a run whose deltas stop early (the job stalled or fell far behind) measured only
        // the start of the window: say so next to its figures
        long windowMs = TimeUnit.SECONDS.toMillis(intOpt("fresh.seconds", 30)
                - intOpt("fresh.warmup", 5));
        if (graph.spanMs() < windowMs * 8 / 10) {
            line("FRESHNESS %s WARNING: the graph's deltas cover only %.1f s of the %.1f s "
                    + "window (%,d events delivered, %,d not by the end): the job stalled "
                    + "or fell behind, its latency figures describe the start of the window "
                    + "only", mode, graph.spanMs() / 1000.0, windowMs / 1000.0, g.length,
                    graph.undelivered);
        }
        for (int k = 0; k < bares.size(); k++) {
            Latencies bare = bareRuns.get(k);
            long[] b = bare.sorted();
            line("FRESHNESS %s (bare = %s) graph p50 first/last 5 s of the window=%d/%d ms "
                    + "bare %d/%d ms (last well above first: a backlog grew, the run fell "
                    + "behind)", mode, bares.get(k), graph.p50Between(0, 5_000),
                    graph.p50Between(graph.spanMs() - 5_000, Long.MAX_VALUE),
                    bare.p50Between(0, 5_000),
                    bare.p50Between(bare.spanMs() - 5_000, Long.MAX_VALUE));
            line("FRESHNESS %s (bare = %s) graph p50=%d p99=%d max=%d ms bare p50=%d p99=%d "
                    + "max=%d ms ratio(p99)=%.2f (%,d ev/s for %d s, %,d users, p=2, %s, %s; "
                    + "latency per input event; graph delivered %,d events (%,d not by the "
                    + "end), bare %,d)", mode, bares.get(k),
                    Latencies.pct(g, 0.5), Latencies.pct(g, 0.99),
                    Latencies.pct(g, 1), Latencies.pct(b, 0.5), Latencies.pct(b, 0.99),
                    Latencies.pct(b, 1),
                    (double) Latencies.pct(g, 0.99) / Math.max(1, Latencies.pct(b, 0.99)),
                    intOpt("fresh.rate", 5_000), intOpt("fresh.seconds", 30),
                    intOpt("fresh.users", 10_000), opt("fresh.backend", "heap"),
                    exactlyOnce ? "1 s checkpoints, read_committed"
                            : "10 ms buffer timeout, read_uncommitted",
                    g.length, graph.undelivered, b.length);
        }
    }

    private boolean endOffsetsOrEmpty(String topic) {
        try (org.apache.kafka.clients.admin.Admin admin = kafka.newAdmin()) {
            return !admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** One freshness run of {@code kind}: graph, same-shape or keyed-map (the bare ones). */
    private Latencies freshnessRun(boolean exactlyOnce, String kind) throws Exception {
        return freshnessRun(exactlyOnce, kind, GraphOrdering.EVENT_TIME);
    }

    /** As above; a graph run in {@code ordering} (graph.ordering: event-time or arrival). */
    private Latencies freshnessRun(boolean exactlyOnce, String kind, GraphOrdering ordering)
            throws Exception {
        boolean arrival = ordering == GraphOrdering.ARRIVAL;
        int parallelism = 2;
        boolean graph = "graph".equals(kind);
        String runId = "fresh-" + kind + (++runs);
        String eventsTopic = runId + "-events";
        kafka.createTopic(eventsTopic, PARTITIONS);
        Configuration config = cluster(opt("fresh.backend", "heap"), parallelism, runId);
        config.setString("execution.buffer-timeout.interval", "10 ms");
        config.setString("execution.checkpointing.interval", exactlyOnce ? "1 s" : "10 s");
        config.setString("execution.checkpointing.mode",
                exactlyOnce ? "EXACTLY_ONCE" : "AT_LEAST_ONCE");
        config.setString("pipeline.auto-watermark-interval", "20 ms");
        String outputTopic;
        StreamExecutionEnvironment env;
        Configuration jobConfig = null;
        if (graph) {
            jobConfig = job(config, runId, eventsTopic, parallelism);
            // the paced producer writes in event-time order per partition: a tight bound is
            // right here; flush slots of 100 ms instead of 1 s (fresh.emit-interval)
            jobConfig.set(WATERMARK_OUT_OF_ORDERNESS, Duration.ofMillis(50));
            // arrival order: no watermark wait; the same bound still drives item-enrich's
            // unknown-version actions and the maintenance timers
            jobConfig.set(GRAPH_ORDERING, ordering);
            jobConfig.set(EMIT_INTERVAL,
                    arrival ? freshArrivalEmitInterval() : freshEmitInterval());
            jobConfig.set(WATERMARK_IDLENESS, Duration.ofSeconds(1));
            env = env(jobConfig, parallelism);
            new InterestGraphPipeline(jobConfig, EmbeddingBackends.fromConfig(jobConfig))
                    .build(env);
            outputTopic = jobConfig.get(TOPIC_DELTAS);
        } else {
            outputTopic = runId + "-out";
            kafka.createTopic(outputTopic, parallelism);
            env = env(config, parallelism);
            if ("same-shape".equals(kind)) {
                SameShapeBarePipeline.Settings settings = new SameShapeBarePipeline.Settings();
                settings.bootstrap = kafka.bootstrapServers();
                settings.eventsTopic = eventsTopic;
                settings.itemsTopic = ITEMS_TOPIC;
                settings.outputTopic = outputTopic;
                settings.transactionalIdPrefix = runId;
                settings.exactlyOnce = exactlyOnce;
                // as the graph job's freshness runs (no event-time operator depends on them)
                settings.outOfOrderness = Duration.ofMillis(50);
                settings.idleness = Duration.ofSeconds(1);
                SameShapeBarePipeline.build(env, config, settings);
            } else if ("keyed-map".equals(kind)) {
                barePipeline(env, config, eventsTopic, outputTopic, runId, exactlyOnce);
            } else {
                throw new IllegalArgumentException("fresh.bare: same-shape or keyed-map, not "
                        + kind);
            }
        }
        Latencies latencies = new Latencies((graph ? (arrival ? "graph arrival " : "graph ")
                : kind + " bare ")
                + (exactlyOnce ? "exactly-once" : "at-least-once"));
        AtomicBoolean stop = new AtomicBoolean();
        long warmupMs = TimeUnit.SECONDS.toMillis(intOpt("fresh.warmup", 5));
        AtomicLong measureFrom = new AtomicLong(Long.MAX_VALUE);
        Thread consumer = new Thread(() -> consume(outputTopic, exactlyOnce, graph, stop,
                measureFrom, latencies), "bench-latency-consumer");
        JobClient job = env.executeAsync("freshness " + runId);
        try {
            consumer.start();
            if (graph) {
                awaitItemEmbeddings(jobConfig.get(TOPIC_ITEM_EMBEDDINGS));
            }
            int rate = intOpt("fresh.rate", 5_000);
            int seconds = intOpt("fresh.seconds", 30);
            long startMs = System.currentTimeMillis();
            measureFrom.set(startMs + warmupMs);
            paced(eventsTopic, rate, seconds, latencies.pending);
            Thread.sleep(exactlyOnce ? 4_000 : 2_000); // the tail: commits, last flushes
        } finally {
            stop.set(true);
            consumer.join(30_000);
            if (!done(job)) {
                job.cancel().get(60, TimeUnit.SECONDS);
            }
            try {
                job.getJobExecutionResult().get(60, TimeUnit.SECONDS);
            } catch (Exception expected) {
                // cancelled
            }
            if (jobConfig != null) {
                // the whole run's delta volume against its input topic, as the issue measured
                // it on the paced demo (the input topic holds exactly this run's events)
                TopicVolume.Appended deltas =
                        TopicVolume.appendedBytes(jobConfig.get(TOPIC_DELTAS));
                latencies.deltaBytes = deltas.bytes;
                latencies.deltaRecords = deltas.records;
                latencies.inputEvents = (long) intOpt("fresh.rate", 5_000)
                        * intOpt("fresh.seconds", 30);
                try (org.apache.kafka.clients.admin.Admin admin = kafka.newAdmin()) {
                    latencies.inputBytes = TopicVolume.logDirBytes(admin, eventsTopic);
                }
                deleteTopics(jobConfig);
            }
        }
        for (Deque<Long> pending : latencies.pending.values()) {
            for (long eventTime : pending) {
                if (eventTime >= measureFrom.get()) {
                    latencies.undelivered++;
                }
            }
        }
        for (long[] p : latencies.points) {
            p[0] -= measureFrom.get();
        }
        return latencies;
    }

    private void awaitItemEmbeddings(String topic) throws Exception {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.GROUP_ID_CONFIG, topic + "-watch");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        int seen = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props,
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            while (seen < workload.items()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the catalogue was not embedded in time");
                }
                seen += consumer.poll(Duration.ofMillis(100)).count();
            }
        }
    }

    /**
     * Writes events at a fixed rate, each stamped with the wall-clock time of its send, and
     * records each event's time under its user (before the send, so that no output can
     * overtake it) for the consumer to match.
     */
    private void paced(String topic, int rate, int seconds,
            Map<String, Deque<Long>> pending) {
        E2EWorkload fresh = new E2EWorkload(intOpt("fresh.users", 10_000),
                workload.itemsPerTopic, 0, rate, workload.seed);
        long total = (long) rate * seconds;
        long start = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer =
                E2EWorkload.pacedProducer(kafka.bootstrapServers())) {
            for (long i = 0; i < total; i++) {
                long due = start + i * 1_000_000_000L / rate;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                UserEvent event = fresh.event(i, System.currentTimeMillis(), Long.MAX_VALUE);
                pending.computeIfAbsent(event.getUserId(),
                        u -> new ConcurrentLinkedDeque<>())
                        .addLast(event.getEventTimeMs());
                producer.send(new ProducerRecord<>(topic, E2EWorkload.bytes(event.getUserId()),
                        event.toByteArray()));
            }
        }
    }

    /**
     * Reads the output and records the latency of every input event it delivers: an output
     * record keyed by user {@code u} and covering event time {@code T} delivers every event of
     * {@code u} sent at or before {@code T} not delivered yet, each with latency = poll time −
     * its own event time. A delta covers up to its record timestamp (the delta sink writes the
     * delta's event time, the newest event it carries), so a delta that coalesces several events
     * counts each at its own latency, and nothing here reads the delta's format; a bare record
     * covers the event time in its first 8 bytes.
     */
    private void consume(String topic, boolean readCommitted, boolean graph, AtomicBoolean stop,
            AtomicLong measureFrom, Latencies latencies) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                readCommitted ? "read_committed" : "read_uncommitted");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.GROUP_ID_CONFIG, topic + "-latency");
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props,
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            while (!stop.get()) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(5))) {
                    long now = System.currentTimeMillis();
                    if (record.key() == null || !graph && record.value().length < Long.BYTES) {
                        continue;
                    }
                    long covered = graph ? record.timestamp()
                            : ByteBuffer.wrap(record.value()).getLong();
                    Deque<Long> pending = latencies.pending.get(
                            new String(record.key(), StandardCharsets.UTF_8));
                    Long eventTime;
                    while (pending != null && (eventTime = pending.peekFirst()) != null
                            && eventTime <= covered) {
                        pending.pollFirst();
                        if (eventTime >= measureFrom.get()) {
                            latencies.points.add(new long[] {eventTime, now - eventTime});
                        }
                    }
                }
            }
        }
    }

    /** The bare pipeline: Kafka → keyed map (one ValueState update) → Kafka. */
    private void barePipeline(StreamExecutionEnvironment env, Configuration config,
            String eventsTopic, String outputTopic, String runId, boolean exactlyOnce) {
        KafkaSource<InputRecord> source = KafkaSource.<InputRecord>builder()
                .setBootstrapServers(kafka.bootstrapServers())
                .setTopics(eventsTopic)
                .setGroupId(runId)
                .setDeserializer(InputDeserializationSchema.forUserEvents(InputFormat.PROTOBUF,
                        InputLimits.from(config)))
                .setProperty("isolation.level", "read_committed")
                .setStartingOffsets(OffsetsInitializer.earliest())
                .build();
        Properties producer = new Properties();
        producer.setProperty("transaction.timeout.ms", "300000");
        KafkaSink<Stamp> sink = KafkaSink.<Stamp>builder()
                .setBootstrapServers(kafka.bootstrapServers())
                .setRecordSerializer(new StampSerializer(outputTopic))
                .setDeliveryGuarantee(exactlyOnce ? DeliveryGuarantee.EXACTLY_ONCE
                        : DeliveryGuarantee.AT_LEAST_ONCE)
                .setTransactionalIdPrefix(runId)
                .setKafkaProducerConfig(producer)
                .build();
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "user-events source")
                .filter(r -> r.userAction != null).name("parsed")
                .keyBy(r -> r.userAction.userId)
                .process(new StampFunction()).name("bare keyed map")
                .sinkTo(sink).name("bare sink");
    }

    /** Output of the bare pipeline: the user and the event time it answers. */
    public static final class Stamp {
        public String userId;
        public long eventTimeMs;
        public long count;

        public Stamp() {}
    }

    static final class StampFunction extends KeyedProcessFunction<String, InputRecord, Stamp> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> count;

        @Override
        public void open(Configuration parameters) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
        }

        @Override
        public void processElement(InputRecord record, Context ctx, Collector<Stamp> out)
                throws Exception {
            Long current = count.value();
            long next = current == null ? 1L : current + 1;
            count.update(next);
            Stamp stamp = new Stamp();
            stamp.userId = record.userAction.userId;
            stamp.eventTimeMs = record.userAction.eventTimeMs;
            stamp.count = next;
            out.collect(stamp);
        }
    }

    static final class StampSerializer implements KafkaRecordSerializationSchema<Stamp> {
        private static final long serialVersionUID = 1L;
        private final String topic;

        StampSerializer(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(Stamp stamp, KafkaSinkContext context,
                Long timestamp) {
            return new ProducerRecord<>(topic, E2EWorkload.bytes(stamp.userId),
                    ByteBuffer.allocate(16).putLong(stamp.eventTimeMs).putLong(stamp.count)
                            .array());
        }
    }

    private static void latencyChart(List<Latencies> runs, String path) throws IOException {
        XYChart chart = new XYChartBuilder().width(1000).height(560)
                .title("Event → delta latency at a fixed input rate (p99 per second)")
                .xAxisTitle("seconds into the measured window")
                .yAxisTitle("latency (ms, log scale)").build();
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setMarkerSize(4);
        for (Latencies run : runs) {
            Map<Long, List<Long>> bySecond = new java.util.TreeMap<>();
            for (long[] p : run.points) {
                bySecond.computeIfAbsent(p[0] / 1000, k -> new ArrayList<>()).add(p[1]);
            }
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (Map.Entry<Long, List<Long>> second : bySecond.entrySet()) {
                long[] sorted = second.getValue().stream().mapToLong(Long::longValue).sorted()
                        .toArray();
                x.add((double) second.getKey());
                y.add((double) Math.max(1, Latencies.pct(sorted, 0.99)));
            }
            if (!x.isEmpty()) {
                chart.addSeries(run.name + " p99", x, y).setMarker(SeriesMarkers.CIRCLE);
            }
        }
        Path out = Path.of(path).toAbsolutePath().normalize();
        Files.createDirectories(out.getParent());
        String base = out.toString();
        BitmapEncoder.saveBitmap(chart, base.endsWith(".png")
                ? base.substring(0, base.length() - 4) : base, BitmapEncoder.BitmapFormat.PNG);
    }

    // ------------------------------------------------------------------------------ state

    /**
     * Snapshot size of the user-graph operator (heap backend, a full snapshot: the serialized
     * graphs, the empty pending buffers and the timers) after the same number of events per user,
     * for growing numbers of users.
     */
    private void state() throws Exception {
        int eventsPerUser = intOpt("state.eventsPerUser", 10);
        List<long[]> points = new ArrayList<>();
        for (String u : opt("state.users", "10000,20000,40000").split(",")) {
            int users = Integer.parseInt(u);
            List<EnrichedAction> events = BenchData.events(users, eventsPerUser, 200, 42);
            KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> harness =
                    new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(
                            new UserGraphFunction(GraphParameters.defaults())),
                            action -> action.userId, Types.STRING);
            harness.setStateBackend(new HashMapStateBackend());
            harness.setCheckpointStorage(new org.apache.flink.runtime.state.storage
                    .FileSystemCheckpointStorage(work.resolve("state-" + users).toUri()));
            harness.open();
            long maxTime = Long.MIN_VALUE;
            int n = 0;
            for (EnrichedAction event : events) {
                harness.processElement(new StreamRecord<>(event, event.eventTimeMs));
                maxTime = Math.max(maxTime, event.eventTimeMs);
                if (++n % 1000 == 0) {
                    harness.processWatermark(maxTime - 5_000);
                    harness.getOutput().clear();
                }
            }
            harness.processWatermark(Long.MAX_VALUE);
            harness.getOutput().clear();
            long start = System.nanoTime();
            OperatorSubtaskState snapshot = harness.snapshot(1, maxTime);
            long snapshotMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            long bytes = 0;
            for (KeyedStateHandle handle : snapshot.getManagedKeyedState()) {
                bytes += handle.getStateSize();
            }
            harness.close();
            points.add(new long[] {users, bytes});
            line("STATE users=%,d events/user=%d user-graph snapshot=%,d B (%,.0f B/user), "
                    + "snapshot took %,d ms (heap, full)", users, eventsPerUser, bytes,
                    (double) bytes / users, snapshotMs);
        }
        // least squares bytes = a + b·users
        double n = points.size();
        double sx = 0;
        double sy = 0;
        double sxx = 0;
        double sxy = 0;
        for (long[] p : points) {
            sx += p[0];
            sy += p[1];
            sxx += (double) p[0] * p[0];
            sxy += (double) p[0] * p[1];
        }
        double b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        double a = (sy - b * sx) / n;
        double ssTot = 0;
        double ssRes = 0;
        double maxDev = 0;
        for (long[] p : points) {
            double fit = a + b * p[0];
            ssRes += (p[1] - fit) * (p[1] - fit);
            ssTot += (p[1] - sy / n) * (p[1] - sy / n);
            maxDev = Math.max(maxDev, Math.abs(p[1] - fit) / p[1]);
        }
        long[] first = points.get(0);
        long[] last = points.get(points.size() - 1);
        figures.stateSlopeBytesPerUser = b;
        figures.stateLinearity = ((double) last[1] / last[0]) / ((double) first[1] / first[0]);
        line("STATE linear fit bytes = %,.0f + %,.1f × users, R²=%.5f, max deviation %.2f %%; "
                + "bytes/user at %,d vs %,d users = %.3f (1.000 = linear)", a, b,
                1 - ssRes / ssTot, maxDev * 100, last[0], first[0],
                ((double) last[1] / last[0]) / ((double) first[1] / first[0]));
    }
}
