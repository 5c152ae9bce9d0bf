package dev.interestgraph.faults;

import dev.interestgraph.InterestGraphPipeline;
import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.EventJson;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.sink.DeltaSerializationSchema;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.local.Topics;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v1.GraphDelta;
import dev.interestgraph.testing.HashingTestEmbedder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import static org.assertj.core.api.Assertions.assertThat;


/** Runs of the real job against the in-process broker, and the checks the fault tests share. */
final class FaultTestSupport {
    static final long DAY = 24L * 3600 * 1000;
    static final Duration OUT_OF_ORDERNESS = InterestGraphOptions.WATERMARK_OUT_OF_ORDERNESS
            .defaultValue();
    static final Duration DEADLINE = Duration.ofSeconds(90);

    private FaultTestSupport() {}

    /**
     * A replay: a generated dataset, split into slices that are produced one after the other,
     * and a sentinel a day after the last event that moves event time past all of them.
     */
    static final class Replay {
        final SyntheticDataset data;
        final long sentinelMs;

        Replay(SyntheticDataset data) {
            this.data = data;
            this.sentinelMs = data.events().get(data.events().size() - 1).eventTimeMs + DAY;
        }

        /** The last watermark the job reaches: the sentinel less the out-of-orderness bound. */
        long finalWatermark() {
            return sentinelMs - OUT_OF_ORDERNESS.toMillis() - 1;
        }

        /** The events cut into {@code n} consecutive slices of (almost) equal size. */
        List<List<UserAction>> slices(int n) {
            List<List<UserAction>> slices = new ArrayList<>();
            List<UserAction> events = data.events();
            for (int i = 0; i < n; i++) {
                slices.add(events.subList(i * events.size() / n, (i + 1) * events.size() / n));
            }
            return slices;
        }
    }

    /** How a run creates its topics: {@code LocalKafkaBroker::createTopic} and the like. */
    @FunctionalInterface
    interface TopicCreator {
        void create(String name, int partitions, Map<String, String> configs);
    }

    /**
     * One run of the job with its own topics (a prefix per run) and its own transactional ids, so
     * that runs in one broker never see each other's data or transactions.
     */
    static final class Run {
        final String bootstrap;
        final String prefix;
        final FaultTap.Probe probe;
        final Configuration config = new Configuration();
        /** Runtime settings of this run's jobs, over the fault runs' own (checkpoints, ...). */
        final Configuration runtimeOverrides = new Configuration();

        Run(LocalKafkaBroker kafka, String prefix) {
            this(kafka.bootstrapServers(), kafka::createTopic, prefix);
        }

        /** A run on any Kafka: its bootstrap servers and how it creates a topic. */
        Run(String bootstrap, TopicCreator createTopic, String prefix) {
            this.bootstrap = bootstrap;
            this.prefix = prefix;
            this.probe = FaultTap.newProbe(prefix);
            // two partitions per input topic: each source reader of a parallelism-2 job owns one
            for (String topic : List.of("user-events", "item-catalog")) {
                createTopic.create(prefix + topic, 2, Map.of());
            }
            // as deployed (deploy/, KafkaStartupChecks): the deltas carry their event time (2023
            // here), which CreateTime with the default 7-day retention would delete at the
            // broker's first retention check, 30 s after its start, and every 5 min after that
            createTopic.create(prefix + "graph-deltas", 2,
                    Map.of("message.timestamp.type", "LogAppendTime"));
            createTopic.create(prefix + "dead-letters", 1, Map.of());
            config.set(InterestGraphOptions.KAFKA_BOOTSTRAP, bootstrap);
            InterestGraphOptions.prefixTopics(config, prefix);
            config.set(InterestGraphOptions.TOPIC_ITEM_EMBEDDINGS, ""); // not under test here
            // No partition may go idle between slices: an idle partition would let the other
            // one's watermark run ahead, and its next events would arrive late (applied in a
            // later flush slot), which is a different (still lossless) result. Catalogue
            // heartbeats and sentinels on every partition move event time instead.
            config.set(InterestGraphOptions.WATERMARK_IDLENESS, Duration.ofHours(1));
        }

        /** The job, unbounded, on the MiniCluster; restored from {@code savepoint} when given. */
        JobClient start(int parallelism, String savepoint) throws Exception {
            probe.watermarks.clear(); // an earlier job of this run may have had more subtasks
            Configuration runtime = new Configuration();
            runtime.addAll(config);
            InterestGraphPipeline.applyRuntimeDefaults(runtime); // RocksDB, incremental
            runtime.setString("execution.checkpointing.interval", "200 ms");
            runtime.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            runtime.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 50);
            runtime.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY,
                    Duration.ofMillis(200));
            runtime.addAll(runtimeOverrides);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.configure(runtime, FaultTestSupport.class.getClassLoader());
            env.setParallelism(parallelism);
            env.enableCheckpointing(runtime.get(CheckpointingOptions.CHECKPOINTING_INTERVAL)
                    .toMillis());
            InterestGraphPipeline.Outputs outputs =
                    new InterestGraphPipeline(config, HashingTestEmbedder.factory()).build(env);
            outputs.deltas.transform("fault tap", Types.VOID, new FaultTap(prefix))
                    .uid("test-fault-tap");
            StreamGraph graph = env.getStreamGraph();
            graph.setJobName(prefix + "job");
            if (savepoint != null) {
                graph.setSavepointRestoreSettings(SavepointRestoreSettings.forPath(savepoint, false));
            }
            return env.executeAsync(graph);
        }

        void produceCatalogue(Replay replay) {
            try (KafkaProducer<byte[], byte[]> producer = Topics.producer(bootstrap)) {
                for (ItemVersion item : replay.data.items()) {
                    producer.send(new ProducerRecord<>(prefix + "item-catalog", bytes(item.itemId),
                            EventJson.toJson(item)));
                }
            }
        }

        /**
         * Events, then a catalogue heartbeat at the time of the last of them. Watermarks are not
         * part of a checkpoint: after a restore the item source's event time starts from nothing
         * and only a new catalogue record moves it, as catalogue updates do in production. (The
         * other way out, source idleness, would let one event partition's watermark run ahead of
         * the other's, making events late; see {@link Run#Run}.)
         */
        void produceEvents(List<UserAction> events) {
            try (KafkaProducer<byte[], byte[]> producer = Topics.producer(bootstrap)) {
                for (UserAction event : events) {
                    producer.send(new ProducerRecord<>(prefix + "user-events", bytes(event.userId),
                            EventJson.toJson(event)));
                }
                heartbeat(producer, events.get(events.size() - 1).eventTimeMs);
            }
        }

        /** A version of a "heartbeat" item on every catalogue partition: event time for items. */
        private void heartbeat(KafkaProducer<byte[], byte[]> producer, long timeMs) {
            ItemVersion heartbeat = new ItemVersion("heartbeat-item", "heartbeat", "",
                    new String[] {"heartbeat"}, timeMs);
            for (int partition = 0; partition < 2; partition++) {
                producer.send(new ProducerRecord<>(prefix + "item-catalog", partition,
                        bytes("heartbeat-item"), EventJson.toJson(heartbeat)));
            }
        }

        /**
         * A much later event on every partition of both inputs: event time moves past every real
         * event. Sent again by {@link #finish} after a restore that lost the watermark.
         */
        void produceSentinels(Replay replay) {
            UserAction sentinel = new UserAction("sentinel", "sentinel-user", "heartbeat-item",
                    Action.VIEW, replay.sentinelMs, 0, null);
            try (KafkaProducer<byte[], byte[]> producer = Topics.producer(bootstrap)) {
                for (int partition = 0; partition < 2; partition++) {
                    producer.send(new ProducerRecord<>(prefix + "user-events", partition,
                            bytes("sentinel"), EventJson.toJson(sentinel)));
                }
                heartbeat(producer, replay.sentinelMs);
            }
        }

        /**
         * Sends the sentinels and waits until the job's event time has reached its end and the
         * committed deltas satisfy {@code complete}. A restore in the meantime (the job may still
         * be recovering from a fault) loses the watermark, so the sentinels go out again then.
         */
        void finish(Replay replay, int parallelism, BooleanSupplier complete,
                Supplier<String> diagnosis) throws InterruptedException {
            produceSentinels(replay);
            int[] restores = {probe.restores()};
            await("final watermark", () -> {
                if (probe.restores() != restores[0]) {
                    restores[0] = probe.restores();
                    produceSentinels(replay);
                }
                return probe.watermarkReached(replay.finalWatermark(), parallelism);
            });
            await("complete output", complete, diagnosis);
        }

        /** Every committed delta (read_committed), per user in topic order. */
        Map<String, List<GraphDelta>> committed() {
            return deltasByUser(Topics.readAll(bootstrap, prefix + "graph-deltas"));
        }

        /**
         * Every committed delta record (read_committed) as opaque bytes, per key in offset
         * order: what a consumer receives, whatever the delta format.
         */
        Map<String, List<String>> committedBytes() {
            return recordsByKey(Topics.readAll(bootstrap, prefix + "graph-deltas"));
        }

        int committedCount() {
            return committed().values().stream().mapToInt(List::size).sum();
        }
    }

    /**
     * The shared input topics of {@link #replayOptions} runs — user-events (2 partitions, keyed by
     * user), item-catalog (keyed by item) and dead-letters — with {@code items} and
     * {@code events} written to them as JSON.
     */
    static void publishInput(LocalKafkaBroker kafka, List<ItemVersion> items,
            List<UserAction> events) {
        kafka.createTopic("user-events", 2);
        kafka.createTopic("item-catalog", 1);
        kafka.createTopic("dead-letters", 1);
        try (KafkaProducer<byte[], byte[]> producer = Topics.producer(kafka.bootstrapServers())) {
            for (ItemVersion item : items) {
                producer.send(new ProducerRecord<>("item-catalog", bytes(item.itemId),
                        EventJson.toJson(item)));
            }
            for (UserAction event : events) {
                producer.send(new ProducerRecord<>("user-events", bytes(event.userId),
                        EventJson.toJson(event)));
            }
        }
    }

    /**
     * Options of a bounded run over the shared input topics that writes to a delta topic, a
     * consumer group and transactional ids of its own ({@code prefix}), so that several runs can
     * replay the same input and be compared.
     */
    static Configuration replayOptions(LocalKafkaBroker kafka, String prefix) {
        kafka.createTopic(prefix + "graph-deltas", 2,
                Map.of("message.timestamp.type", "LogAppendTime")); // as Run's, see there
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.KAFKA_BOOTSTRAP, kafka.bootstrapServers());
        config.set(InterestGraphOptions.KAFKA_BOUNDED, true);
        config.set(InterestGraphOptions.WATERMARK_IDLENESS, Duration.ofSeconds(1));
        config.set(InterestGraphOptions.TOPIC_DELTAS, prefix + "graph-deltas");
        config.set(InterestGraphOptions.TOPIC_ITEM_EMBEDDINGS, "");
        config.set(InterestGraphOptions.KAFKA_GROUP_ID, prefix + "group");
        config.set(InterestGraphOptions.KAFKA_TRANSACTIONAL_ID_PREFIX, prefix + "tx");
        return config;
    }

    /**
     * Runs the pipeline with those options (parallelism 2, checkpoints every 500 ms, the hashing
     * encoder) to its end; returns the committed deltas per user.
     */
    static Map<String, List<GraphDelta>> replay(LocalKafkaBroker kafka, String prefix,
            Configuration config) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.enableCheckpointing(500);
        new InterestGraphPipeline(config, HashingTestEmbedder.factory()).build(env);
        env.execute(prefix + "replay");
        return deltasByUser(Topics.readAll(kafka.bootstrapServers(), prefix + "graph-deltas"));
    }

    /** Records per key (hex of the bytes), each key's values in offset order, hex too. */
    static Map<String, List<String>> recordsByKey(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<String, List<String>> byKey = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            byKey.computeIfAbsent(java.util.HexFormat.of().formatHex(record.key()),
                    k -> new ArrayList<>()).add(java.util.HexFormat.of().formatHex(record.value()));
        }
        return byKey;
    }

    /**
     * The topic's deltas per user, in partition order, decoded from contract v2 as a consumer
     * sees them (self-contained v1 form; a repeated delta is decoded, not skipped).
     */
    static Map<String, List<GraphDelta>> deltasByUser(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<String, List<GraphDelta>> byUser = new TreeMap<>();
        DeltaMaterializer consumer = new DeltaMaterializer();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            assertThat(DeltaSerializationSchema.format(record)).as("delta format header").isEqualTo("2");
            GraphDelta delta = consumer.decodeAndApply(parse(record.value()));
            assertThat(new String(record.key(), StandardCharsets.UTF_8))
                    .as("key of a delta").isEqualTo(delta.getUserId());
            byUser.computeIfAbsent(delta.getUserId(), u -> new ArrayList<>()).add(delta);
        }
        return byUser;
    }

    static dev.interestgraph.proto.v2.GraphDelta parse(byte[] bytes) {
        try {
            return dev.interestgraph.proto.v2.GraphDelta.parseFrom(bytes);
        } catch (Exception e) {
            throw new AssertionError("not a GraphDelta", e);
        }
    }

    /**
     * The delta contract: per user, within each epoch, seq runs 1, 2, 3… without gaps or
     * repeats, and epochs only move forward.
     */
    static void assertContiguous(Map<String, List<GraphDelta>> byUser) {
        byUser.forEach((user, deltas) -> {
            long epoch = Long.MIN_VALUE;
            long seq = 0;
            for (GraphDelta delta : deltas) {
                if (delta.getEpoch() != epoch) {
                    assertThat(delta.getEpoch()).as("epoch of %s moves forward", user)
                            .isGreaterThan(epoch);
                    epoch = delta.getEpoch();
                    seq = 0;
                }
                assertThat(delta.getSeq()).as("seq of %s in epoch %d", user, epoch)
                        .isEqualTo(seq + 1);
                seq = delta.getSeq();
            }
        });
    }

    static DeltaMaterializer materialize(Map<String, List<GraphDelta>> byUser) {
        DeltaMaterializer materializer = new DeltaMaterializer();
        byUser.values().forEach(deltas -> deltas.forEach(materializer::apply));
        return materializer;
    }

    /** A user's materialised graph as text, for exact comparison (weights to the last bit). */
    static Map<String, String> graphs(DeltaMaterializer materializer) {
        Map<String, String> graphs = new TreeMap<>();
        materializer.users().forEach((user, view) -> graphs.put(user, "epoch " + view.epoch()
                + " seq " + view.seq() + "\nedges " + view.edges() + "\ninterests "
                + view.interests() + "\nprofile " + view.profile().orElse(null)));
        return graphs;
    }

    /** Counts of deltas per user, for failure messages that fit on a screen. */
    static Map<String, Integer> sizes(Map<String, List<GraphDelta>> byUser) {
        Map<String, Integer> sizes = new LinkedHashMap<>();
        byUser.forEach((user, deltas) -> sizes.put(user, deltas.size()));
        return sizes;
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        await(what, condition, () -> "");
    }

    /** Polls the condition until it holds; fails with the diagnosis when the deadline passes. */
    static void await(String what, BooleanSupplier condition, Supplier<String> diagnosis)
            throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + DEADLINE.toSeconds() + " s: " + what
                        + " " + diagnosis.get());
            }
            Thread.sleep(100); // polling interval of the condition, not a synchronisation
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
