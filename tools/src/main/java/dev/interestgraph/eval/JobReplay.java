package dev.interestgraph.eval;

import dev.interestgraph.InterestGraphPipeline;
import dev.interestgraph.analytics.AnalyticsOutput;
import dev.interestgraph.analytics.AnalyticsPublisher;
import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.EventJson;
import dev.interestgraph.embed.EmbeddingClientFactory;
import dev.interestgraph.inference.EmbeddingBackends;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.local.Topics;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.proto.v1.ItemEmbedding;
import dev.interestgraph.proto.v1.Recommendations;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Replays events through the real job: a bounded run on a local cluster against a real
 * in-process Kafka broker, with the embedded inference server (the real model), reading back
 * the committed deltas and item embeddings. Each run uses its own topics.
 */
public final class JobReplay implements AutoCloseable {

    /** What one run produced. */
    public static final class Result {
        public final List<GraphDelta> deltas;
        public final Map<String, float[]> itemEmbeddings;
        /** Each user's latest list on the recommendations topic (erased users absent). */
        public final Map<String, Recommendations> recommendations;
        public final double seconds;

        Result(List<GraphDelta> deltas, Map<String, float[]> itemEmbeddings,
                Map<String, Recommendations> recommendations, double seconds) {
            this.deltas = deltas;
            this.itemEmbeddings = itemEmbeddings;
            this.recommendations = recommendations;
            this.seconds = seconds;
        }
    }

    /** Longer than any replay: in effect no idleness (a bounded source ends by itself). */
    static final Duration BOUNDED_IDLENESS = Duration.ofDays(1);

    private final LocalKafkaBroker kafka;
    private final int parallelism;
    private final EmbeddingClientFactory embeddings;
    /** Checkpoints of the runs (the item embeddings exceed the JobManager's 5 MB memory store). */
    private final Path checkpoints;
    private int runs;

    /** Replays with the embedding backend the options choose (the embedded server by default). */
    public JobReplay(int parallelism) {
        this(parallelism, null);
    }

    /** Replays with the given embedding backend (null: chosen by the options). */
    public JobReplay(int parallelism, EmbeddingClientFactory embeddings) {
        try {
            this.checkpoints = Files.createTempDirectory("interest-graph-replay-checkpoints");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        this.kafka = LocalKafkaBroker.start();
        this.parallelism = parallelism;
        this.embeddings = embeddings;
    }

    /**
     * Runs the job over the items and events (events in replay order) with the given job options
     * on top of the defaults.
     */
    public Result run(List<ItemVersion> items, List<UserAction> events, Configuration options)
            throws Exception {
        return run(items, events, options, List.of());
    }

    /**
     * Like {@link #run(List, List, Configuration)}, with these analytics runs published (in
     * order, as {@link AnalyticsPublisher} does) to the run's item-neighbors topic first.
     */
    public Result run(List<ItemVersion> items, List<UserAction> events, Configuration options,
            List<AnalyticsOutput> analytics) throws Exception {
        return withOneRetry(events.size(), () -> runOnce(items, events, options, analytics));
    }

    /**
     * Runs {@code attempt}, and once more if it read no committed delta back for a non-empty
     * input; fails if the second attempt read none either. A replay of valid events always
     * yields deltas, so none at all means the run's transactions were not committed, not an
     * empty result: it was seen once under load (the final checkpoints declined while the
     * tasks closed), and the evaluation then scored an empty graph as if it were the job's —
     * silently, its "updated graph" row equal to popularity. The replay is deterministic, so
     * a second attempt gives the same deltas the first should have.
     */
    static Result withOneRetry(int events, java.util.concurrent.Callable<Result> attempt)
            throws Exception {
        Result result = attempt.call();
        if (events == 0 || !result.deltas.isEmpty()) {
            return result;
        }
        System.out.printf("      the replay's delta topic holds no committed delta for %,d "
                + "events (its transactions were not committed): running it again%n", events);
        result = attempt.call();
        if (result.deltas.isEmpty()) {
            throw new IllegalStateException("Two replays of " + events + " events committed no "
                    + "delta: the job's exactly-once sink did not commit (see the log's "
                    + "checkpoint failures); nothing to evaluate");
        }
        return result;
    }

    private Result runOnce(List<ItemVersion> items, List<UserAction> events,
            Configuration options, List<AnalyticsOutput> analytics) throws Exception {
        String prefix = "run" + (++runs) + "-";
        Configuration config = new Configuration();
        config.addAll(options);
        config.set(InterestGraphOptions.KAFKA_BOOTSTRAP, kafka.bootstrapServers());
        config.set(InterestGraphOptions.KAFKA_BOUNDED, true);
        // No idleness in a bounded replay: every source ends and then releases event time by
        // itself. With a 1 s time-out, a partition whose reader stalls for a second on a loaded
        // machine (a slow fetch, the catalogue's embedding hogging the cores) goes idle, the
        // other partition's event time runs ahead, and the stalled one's records arrive late:
        // applied in a later flush, a result that depends on the machine's load.
        config.set(InterestGraphOptions.WATERMARK_IDLENESS, BOUNDED_IDLENESS);
        InterestGraphOptions.prefixTopics(config, prefix);
        // a model-versions topic named in the options is shared, not per run: the announcements
        // of a tuner that an earlier run trained (the fine-tuning evaluation's second pass)
        options.getOptional(InterestGraphOptions.TOPIC_MODEL_VERSIONS)
                .ifPresent(topic -> config.set(InterestGraphOptions.TOPIC_MODEL_VERSIONS, topic));
        for (String topic : List.of("user-events", "item-catalog", "graph-deltas",
                "dead-letters")) {
            kafka.createTopic(prefix + topic, parallelism);
        }
        for (String topic : List.of("item-embeddings", "item-neighbors", "recommendations")) {
            kafka.createCompactedTopic(prefix + topic, parallelism);
        }
        for (AnalyticsOutput run : analytics) {
            AnalyticsPublisher.publish(run, kafka.bootstrapServers(), prefix + "item-neighbors",
                    new java.util.Properties());
        }

        try (KafkaProducer<byte[], byte[]> producer = Topics.producer(kafka.bootstrapServers())) {
            for (ItemVersion item : items) {
                producer.send(new ProducerRecord<>(prefix + "item-catalog", bytes(item.itemId),
                        EventJson.toJson(item)));
            }
            for (UserAction event : events) {
                producer.send(new ProducerRecord<>(prefix + "user-events", bytes(event.userId),
                        EventJson.toJson(event)));
            }
        }

        config.setString("execution.checkpointing.interval", "2 s");
        config.setString("execution.checkpointing.dir", checkpoints.toUri().toString());
        config.setString("state.backend.type", "hashmap");
        config.setString("restart-strategy.type", "none");
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(parallelism, config);
        new InterestGraphPipeline(config,
                embeddings != null ? embeddings : EmbeddingBackends.fromConfig(config)).build(env);
        long start = System.nanoTime();
        env.execute("interest-graph replay " + prefix);
        double seconds = (System.nanoTime() - start) / 1e9;
        // the job's last transactions are committed, but their markers may not be written yet:
        // read before they are and a topic looks empty or half-written (issue 18's run-to-run
        // differences)
        for (String topic : List.of("graph-deltas", "item-embeddings", "recommendations")) {
            Topics.awaitTransactionsSettled(kafka.bootstrapServers(), prefix + topic,
                    Duration.ofMinutes(5));
        }

        List<GraphDelta> deltas = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record :
                Topics.readAll(kafka.bootstrapServers(), prefix + "graph-deltas")) {
            deltas.add(GraphDelta.parseFrom(record.value())); // the job writes contract v2
        }
        Map<String, float[]> embeddings = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record :
                Topics.readAll(kafka.bootstrapServers(), prefix + "item-embeddings")) {
            ItemEmbedding embedding = ItemEmbedding.parseFrom(record.value());
            float[] vector = new float[embedding.getEmbeddingCount()];
            for (int d = 0; d < vector.length; d++) {
                vector[d] = embedding.getEmbedding(d);
            }
            embeddings.put(embedding.getItemId(), vector);
        }
        Map<String, Recommendations> recommendations = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record :
                Topics.readAll(kafka.bootstrapServers(), prefix + "recommendations")) {
            String user = new String(record.key(), StandardCharsets.UTF_8);
            if (record.value() == null) {
                recommendations.remove(user);
            } else {
                recommendations.put(user, Recommendations.parseFrom(record.value()));
            }
        }
        return new Result(deltas, embeddings, recommendations, seconds);
    }

    /** The in-process broker's bootstrap servers (for a tuner announcing versions to it). */
    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** Creates a topic on the in-process broker (e.g. a shared model-versions topic). */
    public void createTopic(String topic, int partitions) {
        kafka.createTopic(topic, partitions);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        kafka.close();
        org.apache.commons.io.FileUtils.deleteQuietly(checkpoints.toFile());
    }
}
