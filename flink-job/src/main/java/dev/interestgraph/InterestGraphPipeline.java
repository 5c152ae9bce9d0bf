package dev.interestgraph;

import static dev.interestgraph.config.InterestGraphOptions.*;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.sink.DeltaSerializationSchema;
import dev.interestgraph.embed.AsyncEmbedFunction;
import dev.interestgraph.embed.EmbeddingClientFactory;
import dev.interestgraph.embed.MicroBatcher;
import dev.interestgraph.enrich.ItemEnrichFunction;
import dev.interestgraph.usergraph.FineTuningSupport;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.usergraph.UserGraphFunction;
import dev.interestgraph.ingest.DeadLetter;
import dev.interestgraph.ingest.InputDeserializationSchema;
import dev.interestgraph.ingest.InputLimits;
import dev.interestgraph.ingest.InputRecord;
import dev.interestgraph.ingest.SplitDeadLetters;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.recommend.AnalyticsUpdate;
import dev.interestgraph.recommend.RecommendFunction;
import dev.interestgraph.recommend.RecommendationRecord;
import dev.interestgraph.sink.DeadLetterSerializationSchema;
import dev.interestgraph.sink.ItemEmbeddingSerializationSchema;
import dev.interestgraph.training.TrainingBranch;
import dev.interestgraph.training.TrainingExample;
import dev.interestgraph.versions.ModelVersionAnnouncement;
import dev.interestgraph.versions.ModelVersionPin;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the interest-graph dataflow of docs/architecture.md on an environment. Every operator has a
 * stable uid (savepoints survive upgrades) and a name that reads like the design picture in the
 * dashboard.
 */
public final class InterestGraphPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(InterestGraphPipeline.class);

    private final Configuration config;
    private final EmbeddingClientFactory embeddings;

    public InterestGraphPipeline(Configuration config, EmbeddingClientFactory embeddings) {
        InterestGraphOptions.validate(config);
        this.config = config;
        this.embeddings = embeddings;
    }

    /** The streams the pipeline produces, for tests that want to tap them. */
    public static final class Outputs {
        public final DataStream<DeltaRecord> deltas;
        public final DataStream<DeadLetter> deadLetters;
        /** With fine-tuning; else null. */
        public final DataStream<TrainingExample> trainingExamples;

        Outputs(DataStream<DeltaRecord> deltas, DataStream<DeadLetter> deadLetters,
                DataStream<TrainingExample> trainingExamples) {
            this.deltas = deltas;
            this.deadLetters = deadLetters;
            this.trainingExamples = trainingExamples;
        }
    }

    /** Adds sources, operators and the Kafka sinks to the environment. */
    public Outputs build(StreamExecutionEnvironment env) {
        InputLimits limits = InputLimits.from(config);
        InputFormat format = config.get(INPUT_FORMAT);
        int maxInFlight = config.get(EMBED_MAX_IN_FLIGHT);
        long timeoutMs = config.get(EMBED_TIMEOUT).toMillis();
        MicroBatcher.Settings batching = batchingSettings();

        // ---- fine-tuning: the encoder versions the tuner announces, pinned by event time
        boolean fineTune = config.get(FINE_TUNE_ENABLED);
        boolean arrival = config.get(GRAPH_ORDERING) == GraphOrdering.ARRIVAL;
        BroadcastStream<ModelVersionAnnouncement> modelVersions =
                fineTune ? modelVersions(env) : null;

        // ---- user events: source (parsing, per-partition watermarks) → dead letters → event text
        SingleOutputStreamOperator<UserAction> actions = env
                .fromSource(kafkaSource(config.get(TOPIC_EVENTS),
                        InputDeserializationSchema.forUserEvents(format, limits)),
                        watermarks(), "user-events source")
                .uid("source-user-events")
                .process(SplitDeadLetters.userEvents())
                .name("parse + validate user events")
                .uid("parse-user-events");
        DataStream<UserAction> actionsToEmbed = actions;
        if (fineTune) {
            actionsToEmbed = actions.keyBy(action -> action.userId)
                    .connect(modelVersions)
                    .process(ModelVersionPin.forActions(config.get(FINE_TUNE_BASE_VERSION)))
                    .name("pin model version (events)")
                    .uid("pin-model-version-events");
        }
        DataStream<UserAction> embeddedActions = AsyncDataStream
                .orderedWait(actionsToEmbed, AsyncEmbedFunction.eventTexts(embeddings, batching),
                        timeoutMs, TimeUnit.MILLISECONDS, maxInFlight)
                .name("embed event text")
                .uid("embed-event-text");

        // ---- item catalogue: source → dead letters → item text embedding
        SingleOutputStreamOperator<ItemVersion> items = env
                .fromSource(kafkaSource(config.get(TOPIC_ITEMS),
                        InputDeserializationSchema.forItems(format, limits)),
                        watermarks(), "item-catalog source")
                .uid("source-item-catalog")
                .process(SplitDeadLetters.items())
                .name("parse + validate items")
                .uid("parse-items");
        DataStream<ItemVersion> itemsToEmbed = items;
        if (fineTune) {
            itemsToEmbed = items.keyBy(item -> item.itemId)
                    .connect(modelVersions)
                    .process(ModelVersionPin.forItems(config.get(FINE_TUNE_BASE_VERSION)))
                    .name("pin model version (items)")
                    .uid("pin-model-version-items");
        }
        DataStream<ItemVersion> embeddedItems = AsyncDataStream
                .orderedWait(itemsToEmbed, AsyncEmbedFunction.items(embeddings, batching), timeoutMs,
                        TimeUnit.MILLISECONDS, maxInFlight)
                .name("embed items")
                .uid("embed-items");

        // ---- item-enrich: temporal join of each action with the item version valid at its time
        SingleOutputStreamOperator<EnrichedAction> enriched = embeddedActions
                .keyBy(action -> action.itemId)
                .connect(embeddedItems.keyBy(item -> item.itemId))
                .process(new ItemEnrichFunction(arrival))
                .name(arrival ? "item-enrich (lookup join, arrival order)"
                        : "item-enrich (temporal join)")
                .uid("item-enrich");

        DataStream<EnrichedAction> toGraph = enriched;
        if (fineTune) {
            // items embedded before a version switch are re-requested in the actions' version
            toGraph = AsyncDataStream
                    .orderedWait(enriched, AsyncEmbedFunction.itemsInPinnedVersion(embeddings,
                            batching), timeoutMs, TimeUnit.MILLISECONDS, maxInFlight)
                    .name("embed items in the pinned version")
                    .uid("embed-items-pinned-version");
        }

        // ---- user-graph: the per-user interest graph, one delta per user per flush
        SingleOutputStreamOperator<DeltaRecord> deltas = toGraph
                .keyBy(action -> action.userId)
                .process(arrival
                        // (validate() rejects arrival order with fine-tuning)
                        ? UserGraphFunction.arrivalOrder(InterestGraphOptions.graphParameters(config),
                                config.get(EMIT_INTERVAL).toMillis(), config.get(KAFKA_BOUNDED))
                        : new UserGraphFunction(InterestGraphOptions.graphParameters(config), fineTune
                        ? new FineTuningSupport.Settings(embeddings,
                                config.get(FINE_TUNE_CONTEXT_ITEMS), batching,
                                config.get(EMBED_TIMEOUT),
                                config.get(FINE_TUNE_EXAMPLE_SAMPLE),
                                config.get(FINE_TUNE_TRAINING_ENABLED))
                        : null,
                        // a bounded replay: maintenance only as far as each user's events go,
                        // so that its deltas do not depend on how far the watermark got
                        config.get(KAFKA_BOUNDED)))
                .name("user-graph")
                .uid("user-graph");
        DataStream<TrainingExample> trainingExamples = null;
        if (fineTune) {
            trainingExamples = deltas.getSideOutput(UserGraphFunction.TRAINING_EXAMPLES);
            if (config.get(FINE_TUNE_TRAINING_ENABLED)) {
                TrainingBranch.attach(trainingExamples, config);
            }
        }

        // compressed: the delta topic is the job's largest output by far (ids and labels
        // compress, the vectors' bytes do not); the other sinks keep kafka.properties' codec
        Properties deltaProducer = producerProperties();
        deltaProducer.setProperty("compression.type",
                config.get(KAFKA_DELTAS_COMPRESSION).name().toLowerCase(Locale.ROOT));
        deltas.sinkTo(exactlyOnceSink(new DeltaSerializationSchema(config.get(TOPIC_DELTAS)),
                        "deltas", deltaProducer))
                .name("graph-deltas sink")
                .uid("sink-graph-deltas");

        // ---- recommend: the graph analytics' item neighbours (broadcast) on each user's edges
        if (config.get(RECOMMEND_ENABLED) && boundedTopicReadable(TOPIC_ITEM_NEIGHBORS)) {
            BroadcastStream<AnalyticsUpdate> analytics = env
                    .fromSource(fromTheBeginning(TOPIC_ITEM_NEIGHBORS,
                                    new AnalyticsUpdate.Deserializer()),
                            WatermarkStrategy.noWatermarks(),
                            "item-neighbors source")
                    .uid("source-item-neighbors")
                    .broadcast(RecommendFunction.ANALYTICS);
            deltas.keyBy(delta -> delta.userId)
                    .connect(analytics)
                    .process(new RecommendFunction(config.get(RECOMMEND_TOP_K),
                            InterestGraphOptions.recommenderWeights(config)))
                    .name("recommend (item neighbours)")
                    .uid("recommend")
                    .sinkTo(exactlyOnceSink(new RecommendationRecord.Serializer(
                            config.get(TOPIC_RECOMMENDATIONS)), "recommendations"))
                    .name("recommendations sink")
                    .uid("sink-recommendations");
        }

        DataStream<DeadLetter> deadLetters = actions.getSideOutput(SplitDeadLetters.DEAD_LETTERS)
                .union(items.getSideOutput(SplitDeadLetters.DEAD_LETTERS));
        deadLetters.sinkTo(exactlyOnceSink(
                        new DeadLetterSerializationSchema(config.get(TOPIC_DEAD_LETTERS)),
                        "dead-letters"))
                .name("dead-letters sink")
                .uid("sink-dead-letters");

        String itemEmbeddingsTopic = config.get(TOPIC_ITEM_EMBEDDINGS);
        if (!itemEmbeddingsTopic.isBlank()) {
            enriched.getSideOutput(ItemEnrichFunction.ITEM_EMBEDDINGS)
                    .sinkTo(exactlyOnceSink(
                            new ItemEmbeddingSerializationSchema(itemEmbeddingsTopic),
                            "item-embeddings"))
                    .name("item-embeddings sink")
                    .uid("sink-item-embeddings");
        }
        return new Outputs(deltas, deadLetters, trainingExamples);
    }

    private WatermarkStrategy<InputRecord> watermarks() {
        return WatermarkStrategy
                .<InputRecord>forBoundedOutOfOrderness(config.get(WATERMARK_OUT_OF_ORDERNESS))
                .withTimestampAssigner((record, kafkaTimestamp) -> record.eventTimeMs())
                .withIdleness(config.get(WATERMARK_IDLENESS));
    }

    private MicroBatcher.Settings batchingSettings() {
        MicroBatcher.Settings settings = new MicroBatcher.Settings();
        settings.maxBatchSize = config.get(EMBED_BATCH_SIZE);
        settings.maxDelay = config.get(EMBED_BATCH_DELAY);
        settings.maxConcurrentRequests = config.get(EMBED_MAX_CONCURRENT_REQUESTS);
        settings.cacheSize = config.get(EMBED_CACHE_SIZE);
        settings.initialBackoff = config.get(EMBED_RETRY_INITIAL_BACKOFF);
        settings.maxBackoff = config.get(EMBED_RETRY_MAX_BACKOFF);
        settings.breakerFailureThreshold = config.get(EMBED_BREAKER_THRESHOLD);
        return settings;
    }

    private KafkaSource<InputRecord> kafkaSource(String topic, InputDeserializationSchema schema) {
        KafkaSourceBuilder<InputRecord> builder = KafkaSource.<InputRecord>builder()
                .setBootstrapServers(config.get(KAFKA_BOOTSTRAP))
                .setTopics(topic)
                .setGroupId(config.get(KAFKA_GROUP_ID))
                .setDeserializer(schema)
                .setProperties(clientProperties())
                // only committed transactions of upstream exactly-once producers
                .setProperty("isolation.level", "read_committed")
                .setStartingOffsets(startingOffsets());
        if (config.get(KAFKA_BOUNDED)) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        return builder.build();
    }

    /**
     * A bounded run reads the analytics and model-versions topics to their end, so they must
     * exist: a bounded Kafka source subscribed to a pattern that matches nothing never finishes.
     * Without the analytics topic there is nothing to recommend from, and the recommend operator
     * (which emits nothing before analytics data arrives) is left out; without model-versions the
     * base version applies throughout. An unbounded job subscribes by pattern and waits for them.
     */
    private boolean boundedTopicReadable(ConfigOption<String> option) {
        if (!config.get(KAFKA_BOUNDED)) {
            return true;
        }
        String topic = config.get(option);
        Properties props = clientProperties();
        props.setProperty("bootstrap.servers", config.get(KAFKA_BOOTSTRAP));
        try (Admin admin = Admin.create(props)) {
            if (admin.listTopics().names().get(60, TimeUnit.SECONDS).contains(topic)) {
                return true;
            }
        } catch (Exception e) {
            throw new IllegalStateException("Cannot list the topics at "
                    + config.get(KAFKA_BOOTSTRAP) + " to find " + option.key()
                    + " '" + topic + "': " + e, e);
        }
        LOG.info("Bounded run and no topic '{}' ({}): left out", topic, option.key());
        return false;
    }

    /**
     * The announcements of new encoder versions, read from the beginning (every switch matters
     * to a replay), timestamped with the event time from which they apply. Live, the stream goes
     * idle like the event sources so that a quiet tuner does not hold the job back; a bounded run
     * holds every record until all announcements are read, which is what makes a replay
     * deterministic.
     */
    private BroadcastStream<ModelVersionAnnouncement> modelVersions(
            StreamExecutionEnvironment env) {
        WatermarkStrategy<ModelVersionAnnouncement> byAppliesFrom = WatermarkStrategy
                .<ModelVersionAnnouncement>forMonotonousTimestamps()
                .withTimestampAssigner((announcement, kafkaTime) -> announcement.appliesFromMs);
        DataStream<ModelVersionAnnouncement> announcements;
        if (!boundedTopicReadable(TOPIC_MODEL_VERSIONS)) {
            announcements = env.fromData(List.of(),
                    TypeInformation.of(ModelVersionAnnouncement.class))
                    .name("model-versions (none: the base version)")
                    .uid("source-model-versions-none");
        } else {
            if (!config.get(KAFKA_BOUNDED)) {
                byAppliesFrom = byAppliesFrom.withIdleness(config.get(FINE_TUNE_VERSIONS_IDLENESS));
            }
            // one reader: the tuner writes one ordered partition, and a reader without a split
            // would sit idle beside it
            announcements = env.fromSource(fromTheBeginning(TOPIC_MODEL_VERSIONS,
                            new ModelVersionAnnouncement.Deserializer(config.get(TRITON_MODEL))),
                    byAppliesFrom, "model-versions source")
                    .uid("source-model-versions").setParallelism(1);
        }
        return announcements.broadcast(ModelVersionPin.VERSIONS, ModelVersionPin.CALIBRATIONS);
    }

    /**
     * A control topic (the analytics' item neighbours, the encoder versions) read from its
     * beginning whatever the event sources do: all of it matters to the job's state. Unbounded: a
     * topic pattern rather than a name, so that a job started before the topic's first writer
     * does not fail on a missing topic; it is discovered once created.
     */
    private <T> KafkaSource<T> fromTheBeginning(ConfigOption<String> option,
            KafkaRecordDeserializationSchema<T> deserializer) {
        String topic = config.get(option);
        KafkaSourceBuilder<T> builder = KafkaSource.<T>builder()
                .setBootstrapServers(config.get(KAFKA_BOOTSTRAP))
                .setGroupId(config.get(KAFKA_GROUP_ID))
                .setDeserializer(deserializer)
                .setProperties(clientProperties())
                .setProperty("isolation.level", "read_committed")
                .setStartingOffsets(OffsetsInitializer.earliest());
        if (config.get(KAFKA_BOUNDED)) {
            builder.setTopics(topic).setBounded(OffsetsInitializer.latest());
        } else {
            builder.setTopicPattern(Pattern.compile(Pattern.quote(topic)))
                    .setProperty("partition.discovery.interval.ms", "60000");
        }
        return builder.build();
    }

    private OffsetsInitializer startingOffsets() {
        switch (config.get(KAFKA_STARTING_OFFSETS)) {
            case LATEST:
                return OffsetsInitializer.latest();
            case COMMITTED:
                return OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
            case EARLIEST:
            default:
                return OffsetsInitializer.earliest();
        }
    }

    private <T> KafkaSink<T> exactlyOnceSink(KafkaRecordSerializationSchema<T> schema,
            String name) {
        return exactlyOnceSink(schema, name, producerProperties());
    }

    private <T> KafkaSink<T> exactlyOnceSink(KafkaRecordSerializationSchema<T> schema,
            String name, Properties producer) {
        return KafkaSink.<T>builder()
                .setBootstrapServers(config.get(KAFKA_BOOTSTRAP))
                .setRecordSerializer(schema)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(config.get(KAFKA_TRANSACTIONAL_ID_PREFIX) + "-" + name)
                .setKafkaProducerConfig(producer)
                .build();
    }

    /** The sinks' producers: the client properties and the transaction timeout. */
    private Properties producerProperties() {
        Properties producer = clientProperties();
        producer.setProperty("transaction.timeout.ms",
                String.valueOf(config.get(KAFKA_TRANSACTION_TIMEOUT).toMillis()));
        return producer;
    }

    private Properties clientProperties() {
        return InterestGraphOptions.kafkaClientProperties(config);
    }

    /** Defaults for running the job: checkpointing, RocksDB with deliberate memory settings. */
    public static void applyRuntimeDefaults(Configuration config) {
        if (!config.containsKey("execution.checkpointing.dir")
                && !config.containsKey("state.checkpoints.dir")) {
            // Flink's default keeps checkpoints in the JobManager's memory, capped at 5 MB: the
            // item embeddings alone exceed it. A local directory works for one machine only.
            String local = Path.of(System.getProperty("java.io.tmpdir"), "interest-graph",
                    "checkpoints").toUri().toString();
            LOG.warn("execution.checkpointing.dir is not set: checkpoints go to {}. Set it to "
                    + "durable shared storage (s3://..., hdfs://...) for a cluster.", local);
            config.setString("execution.checkpointing.dir", local);
        }
        setIfAbsent(config, "execution.checkpointing.interval", "10 s");
        if (!config.containsKey(CheckpointingOptions.CHECKPOINTING_TIMEOUT.key())) {
            // a checkpoint that stalls must fail (and the job restore) before the Kafka
            // transaction it commits times out on the broker, or the commit would drop the
            // transaction's records: KafkaStartupChecks.checkCheckpointsEndBeforeTransactions
            try {
                Duration interval = config.get(CheckpointingOptions.CHECKPOINTING_INTERVAL);
                Duration bound = Duration.ofMillis(config.get(KAFKA_TRANSACTION_TIMEOUT)
                        .minus(interval).toMillis() / 3);
                Duration timeout = bound.compareTo(Duration.ofMinutes(10)) > 0
                        ? Duration.ofMinutes(10) : bound;
                if (!timeout.isNegative() && !timeout.isZero()) {
                    config.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, timeout);
                }
            } catch (IllegalArgumentException e) {
                // a value that does not parse: validate() names it
            }
        }
        setIfAbsent(config, "execution.checkpointing.mode", "EXACTLY_ONCE");
        setIfAbsent(config, "state.backend.type", "rocksdb");
        setIfAbsent(config, "execution.checkpointing.incremental", "true");
        // docs/architecture.md, "Versions known to work together": index and filter blocks
        // evicted from the block cache stalled RocksDB
        setIfAbsent(config, "state.backend.rocksdb.memory.partitioned-index-filters", "true");
        setIfAbsent(config, "pipeline.max-parallelism",
                String.valueOf(config.get(MAX_PARALLELISM)));
        setIfAbsent(config, "pipeline.object-reuse", "false");
    }

    private static void setIfAbsent(Configuration config, String key, String value) {
        if (!config.containsKey(key)) {
            config.setString(key, value);
        }
    }

}
