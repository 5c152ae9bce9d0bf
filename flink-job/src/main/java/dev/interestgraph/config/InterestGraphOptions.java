package dev.interestgraph.config;

import dev.interestgraph.analytics.EaseModel;
import dev.interestgraph.analytics.GraphAnalyticsJob;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.recommend.Recommender;
import dev.interestgraph.model.Action;
import dev.interestgraph.proto.v2.VectorEncoding;

import static org.apache.flink.configuration.ConfigOptions.key;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.configuration.ReadableConfig;

/**
 * Every parameter of the interest-graph job, as typed Flink {@link ConfigOption}s. Each is
 * settable as {@code --key value} on the command line or in a Flink configuration file; {@link
 * #validate} rejects bad values at start-up, naming the key and the allowed range.
 *
 * <p>Graph semantics: docs/architecture.md, "user-graph"; defaults were chosen as documented in {@code
 * docs/configuration.md}.
 */
public final class InterestGraphOptions {

    private InterestGraphOptions() {}

    // ---------------------------------------------------------------- Kafka

    public static final ConfigOption<String> KAFKA_BOOTSTRAP =
            key("kafka.bootstrap")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("Kafka bootstrap servers, host:port[,host:port]. Required.");

    public static final ConfigOption<String> TOPIC_EVENTS =
            key("kafka.topic.events").stringType().defaultValue("user-events")
                    .withDescription("Input topic of UserEvents, key = user_id.");

    public static final ConfigOption<String> TOPIC_ITEMS =
            key("kafka.topic.items").stringType().defaultValue("item-catalog")
                    .withDescription("Input topic of ItemEvents (catalogue versions), key = item_id.");

    public static final ConfigOption<String> TOPIC_DELTAS =
            key("kafka.topic.deltas").stringType().defaultValue("graph-deltas")
                    .withDescription("Output topic of GraphDeltas (protobuf), key = user_id.");

    public static final ConfigOption<String> TOPIC_DEAD_LETTERS =
            key("kafka.topic.dead-letters").stringType().defaultValue("dead-letters")
                    .withDescription("Output topic of malformed input records, with the reason.");

    public static final ConfigOption<String> TOPIC_ITEM_EMBEDDINGS =
            key("kafka.topic.item-embeddings").stringType().defaultValue("item-embeddings")
                    .withDescription("Compacted output topic of item embeddings, key = item_id. "
                            + "Empty disables it.");

    public static final ConfigOption<String> TOPIC_ITEM_NEIGHBORS =
            key("kafka.topic.item-neighbors").stringType().defaultValue("item-neighbors")
                    .withDescription("Compacted input topic of the graph analytics job "
                            + "(item neighbours, communities), read as broadcast state by the "
                            + "recommender. It may not exist yet: the job picks it up when the "
                            + "first analytics run creates it.");

    public static final ConfigOption<String> TOPIC_RECOMMENDATIONS =
            key("kafka.topic.recommendations").stringType().defaultValue("recommendations")
                    .withDescription("Compacted output topic of each user's top items "
                            + "(Recommendations, protobuf), key = user_id.");

    public static final ConfigOption<String> KAFKA_GROUP_ID =
            key("kafka.group-id").stringType().defaultValue("interest-graph")
                    .withDescription("Consumer group id of the job's Kafka sources.");

    public static final ConfigOption<StartingOffsets> KAFKA_STARTING_OFFSETS =
            key("kafka.starting-offsets").enumType(StartingOffsets.class)
                    .defaultValue(StartingOffsets.EARLIEST)
                    .withDescription("Where the sources start without a checkpoint: EARLIEST, "
                            + "LATEST, or COMMITTED (the group's offsets, else earliest).");

    public static final ConfigOption<Boolean> KAFKA_BOUNDED =
            key("kafka.bounded").booleanType().defaultValue(false)
                    .withDescription("Stop the sources at the offsets that are latest at start-up "
                            + "(a bounded replay); the job then finishes. A bounded run sweeps "
                            + "and expires a user's graph only between the user's own events, "
                            + "so that its deltas do not depend on how far the watermark got.");

    public static final ConfigOption<String> KAFKA_TRANSACTIONAL_ID_PREFIX =
            key("kafka.transactional-id-prefix").stringType().defaultValue("interest-graph")
                    .withDescription("Prefix of the exactly-once sinks' transactional ids. Must be "
                            + "unique per job on the cluster.");

    public static final ConfigOption<Duration> KAFKA_TRANSACTION_TIMEOUT =
            key("kafka.transaction-timeout").durationType().defaultValue(Duration.ofMinutes(10))
                    .withDescription("transaction.timeout.ms of the sinks: longer than the "
                            + "checkpoint interval plus restart time, at most the broker's "
                            + "transaction.max.timeout.ms (15 min by default).");

    public static final ConfigOption<KafkaCompression> KAFKA_DELTAS_COMPRESSION =
            key("kafka.deltas.compression").enumType(KafkaCompression.class)
                    .defaultValue(KafkaCompression.LZ4)
                    .withDescription("compression.type of the delta sink's producer (NONE, GZIP, "
                            + "SNAPPY, LZ4, ZSTD); wins over kafka.properties.compression.type "
                            + "for that sink. Consumers decompress by themselves. LZ4: the "
                            + "cheapest codec to write and read; it takes ~40 % off the delta "
                            + "topic, ZSTD ~45 % (docs/benchmarks.md, \"Compressing the delta "
                            + "topic\").");

    public static final ConfigOption<Boolean> KAFKA_TOPICS_CREATE_MISSING =
            key("kafka.topics.create-missing").booleanType().defaultValue(false)
                    .withDescription("At start-up, before the job is submitted, every input and "
                            + "output topic the job names must exist, or the job fails naming the "
                            + "topic and its option. True: create the missing ones instead, with "
                            + "kafka.topics.partitions and kafka.topics.replication-factor "
                            + "(compacted: item-embeddings and recommendations; LogAppendTime: "
                            + "graph-deltas and dead-letters).");

    public static final ConfigOption<Integer> KAFKA_TOPICS_PARTITIONS =
            key("kafka.topics.partitions").intType().defaultValue(4)
                    .withDescription("Partitions of the topics kafka.topics.create-missing "
                            + "creates. The input topics' partitions bound the sources' useful "
                            + "parallelism.");

    public static final ConfigOption<Integer> KAFKA_TOPICS_REPLICATION_FACTOR =
            key("kafka.topics.replication-factor").intType().defaultValue(-1)
                    .withDescription("Replication factor of the topics kafka.topics.create-missing "
                            + "creates; -1: the brokers' default.replication.factor.");

    /**
     * Client properties passed through to every Kafka client, e.g.
     * {@code --kafka.properties.security.protocol SASL_SSL}.
     */
    public static final String KAFKA_PROPERTIES_PREFIX = "kafka.properties.";

    // ---------------------------------------------------------------- Input

    public static final ConfigOption<InputFormat> INPUT_FORMAT =
            key("input.format").enumType(InputFormat.class).defaultValue(InputFormat.JSON)
                    .withDescription("Encoding of the input topics: JSON or PROTOBUF.");

    public static final ConfigOption<Integer> INPUT_MAX_ID_LENGTH =
            key("input.max-id-length").intType().defaultValue(128)
                    .withDescription("Longest accepted user, item or event id, in characters.");

    public static final ConfigOption<Integer> INPUT_MAX_TEXT_LENGTH =
            key("input.max-text-length").intType().defaultValue(8192)
                    .withDescription("Longest accepted event or item text, in characters.");

    public static final ConfigOption<Duration> INPUT_MAX_FUTURE_SKEW =
            key("input.max-future-skew").durationType().defaultValue(Duration.ofDays(1))
                    .withDescription("Events stamped further than this ahead of the wall clock "
                            + "are dead-lettered (they would stall event time).");

    // ---------------------------------------------------------------- Event time

    public static final ConfigOption<Duration> WATERMARK_OUT_OF_ORDERNESS =
            key("watermark.max-out-of-orderness").durationType().defaultValue(Duration.ofSeconds(5))
                    .withDescription("Bounded out-of-orderness of the input: events later than "
                            + "this are still applied, but no longer in exact event-time order.");

    public static final ConfigOption<Duration> WATERMARK_IDLENESS =
            key("watermark.idleness").durationType().defaultValue(Duration.ofSeconds(30))
                    .withDescription("A partition without records for this long stops holding "
                            + "back event time.");

    // ---------------------------------------------------------------- Graph (docs/architecture.md)

    public static final ConfigOption<Duration> EDGE_HALF_LIFE =
            key("graph.half-life").durationType().defaultValue(Duration.ofDays(30))
                    .withDescription("Half-life of edge and interest weights, in event time.");

    public static final ConfigOption<Double> PRUNE_THRESHOLD =
            key("graph.prune-threshold").doubleType().defaultValue(0.05)
                    .withDescription("Edges whose |weight| decays below this are removed.");

    public static final ConfigOption<Integer> MAX_EDGES_PER_USER =
            key("graph.max-edges-per-user").intType().defaultValue(200)
                    .withDescription("At most this many edges per user; the weakest go (CAPPED).");

    public static final ConfigOption<Integer> MAX_INTERESTS =
            key("graph.max-interests").intType().defaultValue(6)
                    .withDescription("At most this many interest clusters per user (K).");

    public static final ConfigOption<Double> INTEREST_JOIN_THRESHOLD =
            key("graph.interest-join-threshold").doubleType().defaultValue(0.5)
                    .withDescription("Cosine similarity (τ) at or above which an item joins an "
                            + "interest; below it opens a new one.");

    public static final ConfigOption<Double> INTEREST_MERGE_THRESHOLD =
            key("graph.interest-merge-threshold").doubleType()
                    .defaultValue(GraphParameters.defaults().interestMergeThreshold)
                    .withDescription("Cosine similarity of two interests' centroids at or above "
                            + "which they merge: after each flush (the touched interests), at "
                            + "the cap, and at the sweep's re-clustering. At the cap, when no "
                            + "pair reaches it, the weakest interest is evicted instead: "
                            + "unrelated interests never merge. Default chosen on the "
                            + "validation window (docs/evaluation-interests.md).");

    public static final ConfigOption<Integer> INTEREST_MIN_ITEMS =
            key("graph.interest-min-items").intType()
                    .defaultValue(GraphParameters.defaults().interestMinItems)
                    .withDescription("A new interest is provisional (not in the deltas; its "
                            + "edges say interest -1) until it holds this many items or "
                            + "graph.interest-min-weight of weight; once emitted it stays.");

    public static final ConfigOption<Double> INTEREST_MIN_WEIGHT =
            key("graph.interest-min-weight").doubleType()
                    .defaultValue(GraphParameters.defaults().interestMinWeight)
                    .withDescription("The weight (as of its newest item) at which a "
                            + "provisional interest is emitted even with fewer than "
                            + "graph.interest-min-items items (1.0 = one purchase or a 5-star "
                            + "rating).");

    public static final ConfigOption<Integer> INTEREST_TOP_ITEMS =
            key("graph.interest-top-items").intType().defaultValue(5)
                    .withDescription("How many strongest items each InterestUpsert lists.");

    public static final ConfigOption<Duration> PROFILE_LONG_HALF_LIFE =
            key("profile.long-term-half-life").durationType().defaultValue(Duration.ofDays(30))
                    .withDescription("Half-life of the long-term profile embedding.");

    public static final ConfigOption<Duration> PROFILE_SHORT_HALF_LIFE =
            key("profile.short-term-half-life").durationType().defaultValue(Duration.ofDays(1))
                    .withDescription("Half-life of the short-term profile embedding.");

    public static final ConfigOption<Duration> EMIT_INTERVAL =
            key("graph.emit-interval").durationType().defaultValue(Duration.ofSeconds(1))
                    .withDeprecatedKeys("graph.flush-interval")
                    .withDescription("Event-time interval of a user's deltas: the user's events "
                            + "of one interval are applied together and leave as one GraphDelta "
                            + "carrying every change of the interval (at most one per user per "
                            + "interval). Adds up to this much to freshness, on top of the "
                            + "watermark's out-of-orderness; was graph.flush-interval. With "
                            + "graph.ordering arrival: the processing time a user's actions "
                            + "are coalesced for, 0 for a delta per action.");

    public static final ConfigOption<GraphOrdering> GRAPH_ORDERING =
            key("graph.ordering").enumType(GraphOrdering.class)
                    .defaultValue(GraphOrdering.EVENT_TIME)
                    .withDescription("In what order actions reach users' graphs. event-time: "
                            + "item-enrich and user-graph wait for the watermark, so each user's "
                            + "actions are applied in event-time order and a replay or a restart "
                            + "gives the same deltas; freshness pays the watermark's "
                            + "out-of-orderness, its interval and the graph.emit-interval slot. "
                            + "arrival: an action whose item version is known joins it at once, "
                            + "and user-graph applies actions in the order they arrive, with no "
                            + "watermark wait, coalesced for graph.emit-interval of processing "
                            + "time (0: one delta per action): fresher deltas, but replays and "
                            + "restarts may give other deltas, and late events have no meaning. "
                            + "Not with fine-tune.enabled (docs/architecture.md).");

    /** The option's former name; {@link #EMIT_INTERVAL} reads both keys. */
    @Deprecated
    public static final ConfigOption<Duration> FLUSH_INTERVAL = EMIT_INTERVAL;

    public static final ConfigOption<Double> DELTA_VECTOR_MIN_DISTANCE =
            key("graph.delta.vector-min-distance").doubleType().defaultValue(0.015)
                    .withDescription("A centroid or profile vector is sent again only when it "
                            + "moved more than this cosine distance since it was last sent (or "
                            + "graph.delta.vector-max-age passed); 0 sends every change. The "
                            + "default, with INT6 vectors, gives consumers the cosine rankings "
                            + "of 0.02 with INT8 for 11-13 % fewer delta bytes "
                            + "(docs/architecture.md).");

    public static final ConfigOption<Duration> DELTA_VECTOR_MAX_AGE =
            key("graph.delta.vector-max-age").durationType().defaultValue(Duration.ofDays(7))
                    .withDescription("A vector that moved at all is sent again at the latest "
                            + "this long (event time) after it was last sent.");

    public static final ConfigOption<DeltaVectorEncoding> DELTA_VECTOR_ENCODING =
            key("graph.delta.vector-encoding").enumType(DeltaVectorEncoding.class)
                    .defaultValue(DeltaVectorEncoding.INT6)
                    .withDescription("Encoding of delta vectors: a signed integer of 8, 6, 5 or 4 "
                            + "bits per dimension and one scale per vector (INT8, INT6, INT5, "
                            + "INT4: 384, 288, 240, 192 bytes for 384 dimensions), or FLOAT16. "
                            + "Fewer bits cost recall like staleness does (docs/architecture.md); "
                            + "consumers read the encoding from each vector.");

    public static final ConfigOption<Duration> DEDUP_WINDOW =
            key("graph.dedup-window").durationType().defaultValue(Duration.ofHours(1))
                    .withDescription("An event id seen for the user within this long (processing "
                            + "time, keyed state with a TTL) is not applied again (see also "
                            + "graph.dedup-max-ids).");

    public static final ConfigOption<Integer> DEDUP_MAX_IDS =
            key("graph.dedup-max-ids").intType().defaultValue(1024)
                    .withDescription("At most this many of a user's most recent event ids are "
                            + "remembered for duplicates, so that a hot user's state stays "
                            + "bounded; the oldest is forgotten first.");

    public static final ConfigOption<Duration> SWEEP_INTERVAL =
            key("graph.sweep-interval").durationType().defaultValue(Duration.ofDays(1))
                    .withDescription("Event-time interval of the decay sweep that removes edges "
                            + "which decayed below the prune threshold.");

    public static final ConfigOption<Duration> IDLE_TTL =
            key("graph.idle-ttl").durationType().defaultValue(Duration.ofDays(180))
                    .withDescription("A user without events for this long (event time) is cleared; "
                            + "the delta says EXPIRED.");

    public static final ConfigOption<Double> WEIGHT_VIEW = actionWeight("view", 0.1);
    public static final ConfigOption<Double> WEIGHT_CLICK = actionWeight("click", 0.3);
    public static final ConfigOption<Double> WEIGHT_CART = actionWeight("cart", 0.6);
    public static final ConfigOption<Double> WEIGHT_PURCHASE = actionWeight("purchase", 1.0);
    public static final ConfigOption<Double> WEIGHT_COMMENT = actionWeight("comment", 0.5);
    public static final ConfigOption<Double> WEIGHT_SHARE = actionWeight("share", 0.7);
    public static final ConfigOption<Double> WEIGHT_DISLIKE = actionWeight("dislike", -1.0);

    private static ConfigOption<Double> actionWeight(String action, double defaultWeight) {
        return key("graph.action-weight." + action).doubleType().defaultValue(defaultWeight)
                .withDescription("Weight a " + action.toUpperCase() + " adds to its edge. RATE "
                        + "adds (stars - 2.5) / 2.5.");
    }

    // ---------------------------------------------------------------- Inference sidecar

    public static final ConfigOption<String> TRITON_ENDPOINT =
            key("triton.endpoint").stringType().noDefaultValue()
                    .withDescription("host:port of a Triton (Open Inference Protocol) gRPC endpoint. "
                            + "Unset: the job starts the embedded in-JVM inference server.");

    public static final ConfigOption<String> TRITON_MODEL =
            key("triton.model").stringType().defaultValue("item_encoder")
                    .withDescription("Name of the encoder model on the inference server.");

    public static final ConfigOption<String> TRITON_MODEL_VERSION =
            key("triton.model-version").stringType().defaultValue("")
                    .withDescription("Model version to request; empty for the server's latest.");

    public static final ConfigOption<Duration> TRITON_REQUEST_TIMEOUT =
            key("triton.request-timeout").durationType().defaultValue(Duration.ofSeconds(10))
                    .withDescription("gRPC deadline of one inference request.");

    public static final ConfigOption<String> TRITON_TLS_TRUST_CERT =
            key("triton.tls.trust-cert").stringType().noDefaultValue()
                    .withDescription("PEM certificate to trust for TLS to Triton; unset: plaintext.");

    public static final ConfigOption<Integer> TRITON_DIMENSION =
            key("triton.dimension").intType().defaultValue(384)
                    .withDescription("Embedding dimension the model must report.");

    // ---------------------------------------------------------------- Runtime

    public static final ConfigOption<Integer> MAX_PARALLELISM =
            key("job.max-parallelism").intType().defaultValue(128)
                    .withDescription("Max parallelism of the keyed operators (key groups); fixed "
                            + "for the lifetime of savepoints.");

    public static final ConfigOption<Integer> EMBED_BATCH_SIZE =
            key("embedding.batch-size").intType().defaultValue(32)
                    .withDescription("Texts per inference request (micro-batch) at most.");

    public static final ConfigOption<Duration> EMBED_BATCH_DELAY =
            key("embedding.batch-delay").durationType().defaultValue(Duration.ofMillis(20))
                    .withDescription("How long a micro-batch waits for more texts before it leaves.");

    public static final ConfigOption<Integer> EMBED_MAX_CONCURRENT_REQUESTS =
            key("embedding.max-concurrent-requests").intType().defaultValue(4)
                    .withDescription("Inference requests in flight per operator instance; more "
                            + "backpressure the pipeline.");

    public static final ConfigOption<Integer> EMBED_CACHE_SIZE =
            key("embedding.cache-size").intType().defaultValue(10_000)
                    .withDescription("Recent texts whose embeddings are kept per operator instance.");

    public static final ConfigOption<Duration> EMBED_RETRY_INITIAL_BACKOFF =
            key("embedding.retry.initial-backoff").durationType()
                    .defaultValue(Duration.ofMillis(100))
                    .withDescription("First wait before a failed inference request is retried; "
                            + "doubles per attempt.");

    public static final ConfigOption<Duration> EMBED_RETRY_MAX_BACKOFF =
            key("embedding.retry.max-backoff").durationType().defaultValue(Duration.ofSeconds(5))
                    .withDescription("Longest wait between retries. Requests are retried until "
                            + "they succeed: nothing is dropped.");

    public static final ConfigOption<Integer> EMBED_BREAKER_THRESHOLD =
            key("embedding.breaker.failure-threshold").intType().defaultValue(5)
                    .withDescription("Consecutive failed requests that open the circuit breaker: "
                            + "no new batches leave (the pipeline backpressures) until a retry "
                            + "succeeds.");

    public static final ConfigOption<Integer> EMBED_MAX_IN_FLIGHT =
            key("embedding.max-in-flight").intType().defaultValue(256)
                    .withDescription("Records waiting for their embedding per operator instance "
                            + "(the async operator's capacity); more backpressure the source.");

    public static final ConfigOption<Duration> EMBED_TIMEOUT =
            key("embedding.timeout").durationType().defaultValue(Duration.ofMinutes(10))
                    .withDescription("Longest a record may wait for its embedding, retries "
                            + "included; past it the job fails and restarts from its last "
                            + "checkpoint (no record is lost).");

    public static final ConfigOption<Boolean> RECOMMEND_ENABLED =
            key("recommend.enabled").booleanType().defaultValue(true)
                    .withDescription("Serve recommendations: the graph analytics' item "
                            + "neighbours (broadcast state) applied to each user's edges after "
                            + "every graph change and every analytics run.");

    public static final ConfigOption<Integer> RECOMMEND_TOP_K =
            key("recommend.top-k").intType().defaultValue(10)
                    .withDescription("Items per user on the recommendations topic.");

    public static final ConfigOption<Integer> RECOMMEND_COLD_START_EDGES =
            key("recommend.cold-start-edges").intType().defaultValue(3)
                    .withDescription("Users with fewer positive edges than this (or whose items "
                            + "have no neighbours) also get the popular items of their items' "
                            + "communities.");

    // the recommender's signal weights: their defaults are Recommender.Weights' (one source)
    private static final Recommender.Weights DEFAULT_WEIGHTS = new Recommender.Weights();

    public static final ConfigOption<Double> RECOMMEND_WEIGHT_NEIGHBOURS =
            key("recommend.weight.neighbours").doubleType()
                    .defaultValue(DEFAULT_WEIGHTS.neighbours)
                    .withDescription("Weight of the item neighbours of the user's items (Σ decayed "
                            + "edge weight × neighbour score, normalised by the user's total "
                            + "weight). The recommend.weight.* options take the blend that `make "
                            + "eval` fits on its validation window (docs/evaluation-ease.md); "
                            + "their defaults are the recommender's own (Recommender.Weights). "
                            + "Only their ratios matter.");

    public static final ConfigOption<Double> RECOMMEND_WEIGHT_COMMUNITY =
            key("recommend.weight.community").doubleType()
                    .defaultValue(DEFAULT_WEIGHTS.community)
                    .withDescription("Weight of the popular items of the user's communities, "
                            + "for cold-start users (recommend.cold-start-edges). Whatever the "
                            + "community and popularity weights, a user with fewer than "
                            + "recommend.top-k positively scored candidates gets the rest by "
                            + "community, then popularity (the recommender's backfill), so weights "
                            + "of 0 there (the blend fitted with EASE neighbours) leave no user "
                            + "unranked.");

    public static final ConfigOption<Double> RECOMMEND_WEIGHT_POPULARITY =
            key("recommend.weight.popularity").doubleType()
                    .defaultValue(DEFAULT_WEIGHTS.popularity)
                    .withDescription("Weight of an item's popularity (log of its users, relative "
                            + "to the most popular).");

    public static final ConfigOption<Double> RECOMMEND_WEIGHT_INTERESTS =
            key("recommend.weight.interests").doubleType()
                    .defaultValue(DEFAULT_WEIGHTS.interests)
                    .withDescription("Weight of a candidate's similarity to the user's interest "
                            + "centroids. Needs item vectors: the streaming operator ranks the "
                            + "item graph's candidates without them, so there it has no effect; "
                            + "it applies where the recommender has the vectors (evaluation, "
                            + "batch use).");

    public static final ConfigOption<Double> RECOMMEND_WEIGHT_SHORT_TERM =
            key("recommend.weight.short-term").doubleType()
                    .defaultValue(DEFAULT_WEIGHTS.shortTerm)
                    .withDescription("Weight of a candidate's similarity to the user's short-term "
                            + "profile; like recommend.weight.interests it needs item vectors.");

    public static final ConfigOption<Double> RECOMMEND_WEIGHT_NEGATIVE_NEIGHBOURS =
            key("recommend.weight.negative-neighbours").doubleType()
                    .defaultValue(DEFAULT_WEIGHTS.negativeNeighbours)
                    .withDescription("Scale of negative item-neighbour weights (EASE's, published "
                            + "with analytics.ease.negatives): 0 ignores them, 1 takes them as "
                            + "published. A signal of its own, so `make eval` fits it with the "
                            + "other weights on its validation window, fresh and stale graphs "
                            + "weighed equally (docs/evaluation-ease.md). No effect on tables "
                            + "without negative weights (Gelly, or EASE with "
                            + "analytics.ease.negatives off).");

    public static final ConfigOption<Recommender.NeighbourEvidence> RECOMMEND_NEIGHBOUR_EVIDENCE =
            key("recommend.neighbour-evidence").enumType(Recommender.NeighbourEvidence.class)
                    .defaultValue(DEFAULT_WEIGHTS.evidence)
                    .withDescription("How the neighbour signal weighs the user's items: "
                            + "EDGE_WEIGHTS, each item by its edge weight decayed to now (a "
                            + "rating maps 0-5 stars to -1..+1); LIKED, every item with an edge "
                            + "weight of at least 0.4 (a 3.5-star rating) as 1, the others 0, as "
                            + "EASE^R counts a user's items. Either way divided by the user's "
                            + "total. The default is what the evaluation's validation window "
                            + "chose (docs/evaluation-ease.md).");

    // ---------------------------------------------------------------- Graph analytics (docs/analytics.md)

    public static final ConfigOption<GraphAnalyticsJob.NeighbourModel> ANALYTICS_NEIGHBOURS =
            key("analytics.neighbours").enumType(GraphAnalyticsJob.NeighbourModel.class)
                    .defaultValue(GraphAnalyticsJob.NeighbourModel.GELLY)
                    .withDescription("The item neighbours the graph analytics publish: GELLY "
                            + "(Jaccard or Adamic-Adar, analytics.ranking) or EASE (EASE^R's "
                            + "largest weights per item, fitted on the snapshot's positive "
                            + "edges). EASE is a dense model (16·n² bytes, O(n³) time for n "
                            + "items with an edge): above analytics.ease.max-items the run "
                            + "publishes the Gelly neighbours instead and logs a warning. "
                            + "Communities come from the Gelly neighbours either way.");

    public static final ConfigOption<Double> ANALYTICS_EASE_LAMBDA =
            key("analytics.ease.lambda").doubleType()
                    .defaultValue(new GraphAnalyticsJob.Settings().easeLambda)
                    .withDescription("EASE^R's L2 penalty λ. The default is what the "
                            + "evaluation's validation window chose on MovieLens ml-latest-small "
                            + "(docs/evaluation-ease.md).");

    public static final ConfigOption<Boolean> ANALYTICS_EASE_NEGATIVES =
            key("analytics.ease.negatives").booleanType()
                    .defaultValue(new GraphAnalyticsJob.Settings().easeNegatives)
                    .withDescription("With analytics.neighbours = EASE, also publish each item's "
                            + "analytics.neighbors-per-item most negative EASE weights (scores "
                            + "below 0, after the positive neighbours): a liked item then lowers "
                            + "the candidates it 'explains away'. Off by default: on "
                            + "the evaluation's validation window (MovieLens ml-latest-small) the "
                            + "negatives help a graph ranked right after its cut (+0.008 NDCG@10) "
                            + "and hurt a graph that has not seen the user's latest events far "
                            + "more (-0.024), docs/evaluation-ease.md; turn them on only where "
                            + "every user's graph is fresh when it is ranked.");

    public static final ConfigOption<Integer> ANALYTICS_EASE_MAX_ITEMS =
            key("analytics.ease.max-items").intType()
                    .defaultValue(EaseModel.PRACTICAL_MAX_ITEMS)
                    .withDescription("Most items (with at least one positive edge) for which "
                            + "the analytics fit EASE: 10,000 items take 1.6 GB of heap and "
                            + "about 4 CPU-minutes (n³: 20,000 items 6.4 GB and half an hour); "
                            + "beyond, the Gelly neighbours.");

    // ---------------------------------------------------------------- Fine-tuning (docs/fine-tuning.md)

    public static final ConfigOption<Boolean> FINE_TUNE_ENABLED =
            key("fine-tune.enabled").booleanType().defaultValue(false)
                    .withDescription("Follow the encoder versions announced on "
                            + "kafka.topic.model-versions: every embedding request pins the "
                            + "version valid at its record's event time, and each user's graph is "
                            + "re-based on the new version at the first event after a switch. "
                            + "With fine-tune.training.enabled the job also sends training "
                            + "examples to the tuner. Off: requests ask for triton.model-version.");

    public static final ConfigOption<String> TOPIC_MODEL_VERSIONS =
            key("kafka.topic.model-versions").stringType().defaultValue("model-versions")
                    .withDescription("Announcements of new item_encoder versions by the tuner "
                            + "(JSON {model, version, applies_from_ms, step}); read with "
                            + "fine-tune.enabled.");

    public static final ConfigOption<String> FINE_TUNE_BASE_VERSION =
            key("fine-tune.base-version").stringType().defaultValue("1")
                    .withDescription("The encoder version valid before the first announcement "
                            + "(item_encoder version 1 is the frozen encoder).");

    public static final ConfigOption<Duration> FINE_TUNE_VERSIONS_IDLENESS =
            key("fine-tune.versions-idleness").durationType().defaultValue(Duration.ofSeconds(10))
                    .withDescription("Live runs: records wait for the model-versions stream to "
                            + "pass their event time; after this long without an announcement "
                            + "the stream counts as idle and records move on with the versions "
                            + "known. Longer: fewer late announcements (lateModelVersions), "
                            + "more waiting at each switch. Bounded runs always wait.");

    public static final ConfigOption<Boolean> FINE_TUNE_TRAINING_ENABLED =
            key("fine-tune.training.enabled").booleanType().defaultValue(true)
                    .withDescription("With fine-tune.enabled: send (context → positive) training "
                            + "examples to the tuner model. Off: only follow versions another "
                            + "job's training produced.");

    public static final ConfigOption<String> FINE_TUNE_TUNER_ENDPOINT =
            key("fine-tune.tuner.endpoint").stringType().noDefaultValue()
                    .withDescription("host:port of the Triton that serves the tuner model; "
                            + "default: triton.endpoint.");

    public static final ConfigOption<String> FINE_TUNE_TUNER_MODEL =
            key("fine-tune.tuner.model").stringType().defaultValue("item_encoder_tuner")
                    .withDescription("Name of the tuner model (one request = one training step).");

    public static final ConfigOption<Integer> FINE_TUNE_BATCH_SIZE =
            key("fine-tune.batch-size").intType().defaultValue(32)
                    .withDescription("Training examples per training step (at least 2: the "
                            + "loss contrasts examples within a batch).");

    public static final ConfigOption<Duration> FINE_TUNE_BATCH_WINDOW =
            key("fine-tune.batch-window").durationType().defaultValue(Duration.ofMinutes(1))
                    .withDescription("Event-time window in which training examples are cut into "
                            + "batches; batches and their ids depend on event time only, so a "
                            + "replay sends the same batch ids (the tuner applies each once).");

    public static final ConfigOption<Integer> FINE_TUNE_CONTEXT_ITEMS =
            key("fine-tune.context-items").intType().defaultValue(3)
                    .withDescription("How many of the user's previous positive items form a "
                            + "training example's context.");

    public static final ConfigOption<Double> FINE_TUNE_EXAMPLE_SAMPLE =
            key("fine-tune.example-sample").doubleType().defaultValue(1.0)
                    .withDescription("Share of positive events that become training examples, "
                            + "chosen by event id (a replay picks the same ones). The training "
                            + "branch runs at the tuner's pace and backpressures the job when the "
                            + "tuner is slower than the examples arrive: sample to keep up.");

    public static final ConfigOption<String> EMBEDDED_MODEL_REPOSITORY =
            key("embedded.model-repository").stringType().noDefaultValue()
                    .withDescription("The embedded inference server (no triton.endpoint) serves "
                            + "item_encoder versions published by the tuner into this model "
                            + "repository (<dir>/item_encoder/<version>/all-minilm-l6-v2.onnx); "
                            + "unset: version 1 only.");

    /** The options of this class, for documentation and the unknown-key check. */
    public static List<ConfigOption<?>> all() {
        return List.of(KAFKA_BOOTSTRAP, TOPIC_EVENTS, TOPIC_ITEMS, TOPIC_DELTAS,
                TOPIC_DEAD_LETTERS, TOPIC_ITEM_EMBEDDINGS, TOPIC_ITEM_NEIGHBORS,
                TOPIC_RECOMMENDATIONS, KAFKA_GROUP_ID, KAFKA_STARTING_OFFSETS,
                KAFKA_BOUNDED, KAFKA_TRANSACTIONAL_ID_PREFIX, KAFKA_TRANSACTION_TIMEOUT,
                KAFKA_DELTAS_COMPRESSION,
                KAFKA_TOPICS_CREATE_MISSING, KAFKA_TOPICS_PARTITIONS,
                KAFKA_TOPICS_REPLICATION_FACTOR, INPUT_FORMAT, INPUT_MAX_ID_LENGTH, INPUT_MAX_TEXT_LENGTH, INPUT_MAX_FUTURE_SKEW,
                WATERMARK_OUT_OF_ORDERNESS, WATERMARK_IDLENESS, EDGE_HALF_LIFE, PRUNE_THRESHOLD,
                MAX_EDGES_PER_USER, MAX_INTERESTS, INTEREST_JOIN_THRESHOLD, INTEREST_MERGE_THRESHOLD,
                INTEREST_MIN_ITEMS, INTEREST_MIN_WEIGHT, INTEREST_TOP_ITEMS,
                PROFILE_LONG_HALF_LIFE, PROFILE_SHORT_HALF_LIFE, EMIT_INTERVAL, GRAPH_ORDERING,
                DELTA_VECTOR_MIN_DISTANCE,
                DELTA_VECTOR_MAX_AGE, DELTA_VECTOR_ENCODING, DEDUP_WINDOW, DEDUP_MAX_IDS, SWEEP_INTERVAL,
                IDLE_TTL, WEIGHT_VIEW, WEIGHT_CLICK, WEIGHT_CART, WEIGHT_PURCHASE, WEIGHT_COMMENT,
                WEIGHT_SHARE, WEIGHT_DISLIKE, TRITON_ENDPOINT, TRITON_MODEL, TRITON_MODEL_VERSION,
                TRITON_REQUEST_TIMEOUT, TRITON_TLS_TRUST_CERT, TRITON_DIMENSION, EMBED_BATCH_SIZE,
                EMBED_BATCH_DELAY, EMBED_MAX_CONCURRENT_REQUESTS, EMBED_CACHE_SIZE,
                EMBED_RETRY_INITIAL_BACKOFF, EMBED_RETRY_MAX_BACKOFF, EMBED_BREAKER_THRESHOLD,
                EMBED_MAX_IN_FLIGHT, EMBED_TIMEOUT, RECOMMEND_ENABLED, RECOMMEND_TOP_K,
                RECOMMEND_COLD_START_EDGES, RECOMMEND_WEIGHT_NEIGHBOURS,
                RECOMMEND_WEIGHT_COMMUNITY, RECOMMEND_WEIGHT_POPULARITY,
                RECOMMEND_WEIGHT_INTERESTS, RECOMMEND_WEIGHT_SHORT_TERM,
                RECOMMEND_WEIGHT_NEGATIVE_NEIGHBOURS, RECOMMEND_NEIGHBOUR_EVIDENCE,
                ANALYTICS_NEIGHBOURS,
                ANALYTICS_EASE_LAMBDA, ANALYTICS_EASE_NEGATIVES, ANALYTICS_EASE_MAX_ITEMS, MAX_PARALLELISM, FINE_TUNE_ENABLED,
                TOPIC_MODEL_VERSIONS, FINE_TUNE_BASE_VERSION, FINE_TUNE_VERSIONS_IDLENESS,
                FINE_TUNE_TRAINING_ENABLED,
                FINE_TUNE_TUNER_ENDPOINT, FINE_TUNE_TUNER_MODEL, FINE_TUNE_BATCH_SIZE,
                FINE_TUNE_BATCH_WINDOW, FINE_TUNE_CONTEXT_ITEMS, FINE_TUNE_EXAMPLE_SAMPLE,
                EMBEDDED_MODEL_REPOSITORY);
    }

    /** Where the Kafka sources start when there is no checkpoint to restore. */
    public enum StartingOffsets { EARLIEST, LATEST, COMMITTED }

    /** Kafka producer codecs ({@code compression.type}). */
    public enum KafkaCompression { NONE, GZIP, SNAPPY, LZ4, ZSTD }

    /** Encoding of the input topics. */
    public enum InputFormat { JSON, PROTOBUF }

    /** {@link #GRAPH_ORDERING}: written and parsed as event-time / arrival. */
    public enum GraphOrdering {
        EVENT_TIME("event-time"),
        ARRIVAL("arrival");

        private final String value;

        GraphOrdering(String value) {
            this.value = value;
        }

        /** The option's spelling (Flink matches enum values on toString, ignoring case). */
        @Override
        public String toString() {
            return value;
        }
    }

    /** Encodings of delta vectors (delta contract v2; docs/architecture.md). */
    public enum DeltaVectorEncoding { INT8, INT6, INT5, INT4, FLOAT16 }

    // ---------------------------------------------------------------- Parsing and validation

    /**
     * Reads {@code --key value} arguments into a Flink configuration. Keys are kept as given, so
     * Flink's own options ({@code --state.backend.type rocksdb}) pass through too.
     */
    public static Configuration fromArgs(String[] args) {
        Map<String, String> values = new java.util.LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new IllegalConfigurationException("Unexpected argument '" + arg
                        + "': options are given as --key value (e.g. --kafka.bootstrap host:9092)");
            }
            String key = arg.substring(2);
            int equals = key.indexOf('=');
            if (equals > 0) { // --key=value
                values.put(key.substring(0, equals), key.substring(equals + 1));
            } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                values.put(key, args[++i]);
            } else { // a bare flag
                values.put(key, "true");
            }
        }
        return Configuration.fromMap(values);
    }

    /**
     * Checks every option of this class that is set. Throws {@link IllegalConfigurationException}
     * naming the key, the value, the allowed range and how to fix it.
     */
    public static void validate(ReadableConfig config) {
        List<String> problems = new ArrayList<>();
        String bootstrap = config.get(KAFKA_BOOTSTRAP);
        if (bootstrap == null || bootstrap.isBlank()) {
            problems.add("kafka.bootstrap is required: pass --kafka.bootstrap host:port");
        } else if (!bootstrap.matches("[^,:\\s]+:\\d{1,5}(,[^,:\\s]+:\\d{1,5})*")) {
            problems.add("kafka.bootstrap must be host:port[,host:port], got '" + bootstrap + "'");
        }
        for (ConfigOption<String> topic : List.of(TOPIC_EVENTS, TOPIC_ITEMS, TOPIC_DELTAS,
                TOPIC_DEAD_LETTERS, TOPIC_ITEM_NEIGHBORS, TOPIC_RECOMMENDATIONS,
                TOPIC_MODEL_VERSIONS)) {
            String name = config.get(topic);
            if (name == null || !name.matches("[a-zA-Z0-9._-]{1,249}")) {
                problems.add(topic.key() + " must be a Kafka topic name ([a-zA-Z0-9._-], 1..249 "
                        + "characters), got '" + name + "'");
            }
        }
        if (config.get(KAFKA_TRANSACTIONAL_ID_PREFIX).isBlank()) {
            problems.add("kafka.transactional-id-prefix must not be empty: set a prefix unique to "
                    + "this job, e.g. --kafka.transactional-id-prefix interest-graph-prod");
        }
        durationBetween(config, KAFKA_TRANSACTION_TIMEOUT, Duration.ofSeconds(10),
                Duration.ofHours(24), problems);
        readOrReport(config, KAFKA_TOPICS_CREATE_MISSING, problems);
        intBetween(config, KAFKA_TOPICS_PARTITIONS, 1, 100_000, problems);
        intBetween(config, KAFKA_TOPICS_REPLICATION_FACTOR, -1, Short.MAX_VALUE, problems);
        Integer replication = readOrReport(config, KAFKA_TOPICS_REPLICATION_FACTOR,
                new ArrayList<>()); // reported above when it does not parse
        if (replication != null && replication == 0) {
            problems.add("kafka.topics.replication-factor must be -1 (the brokers' default) or "
                    + "at least 1, got 0");
        }
        readOrReport(config, INPUT_FORMAT, problems);
        readOrReport(config, KAFKA_STARTING_OFFSETS, problems);
        readOrReport(config, KAFKA_BOUNDED, problems);
        intBetween(config, INPUT_MAX_ID_LENGTH, 1, 4096, problems);
        intBetween(config, INPUT_MAX_TEXT_LENGTH, 1, 1_000_000, problems);
        durationBetween(config, INPUT_MAX_FUTURE_SKEW, Duration.ZERO, Duration.ofDays(3650),
                problems);
        durationBetween(config, WATERMARK_OUT_OF_ORDERNESS, Duration.ZERO, Duration.ofDays(7),
                problems);
        durationBetween(config, WATERMARK_IDLENESS, Duration.ofMillis(1), Duration.ofDays(1),
                problems);
        durationBetween(config, EDGE_HALF_LIFE, Duration.ofSeconds(1), Duration.ofDays(36500),
                problems);
        doubleBetween(config, PRUNE_THRESHOLD, 0.0, 100.0, problems);
        intBetween(config, MAX_EDGES_PER_USER, 1, 100_000, problems);
        intBetween(config, MAX_INTERESTS, 1, 64, problems);
        doubleBetween(config, INTEREST_JOIN_THRESHOLD, -1.0, 1.0, problems);
        doubleBetween(config, INTEREST_MERGE_THRESHOLD, -1.0, 1.0, problems);
        intBetween(config, INTEREST_MIN_ITEMS, 1, 100_000, problems);
        doubleBetween(config, INTEREST_MIN_WEIGHT, 0.0, 1_000_000.0, problems);
        intBetween(config, INTEREST_TOP_ITEMS, 1, 100, problems);
        durationBetween(config, PROFILE_LONG_HALF_LIFE, Duration.ofSeconds(1),
                Duration.ofDays(36500), problems);
        durationBetween(config, PROFILE_SHORT_HALF_LIFE, Duration.ofSeconds(1),
                Duration.ofDays(36500), problems);
        GraphOrdering ordering = readOrReport(config, GRAPH_ORDERING, problems);
        // 0 means a delta per action: only arrival order has no event-time slot to align to
        durationBetween(config, EMIT_INTERVAL,
                ordering == GraphOrdering.ARRIVAL ? Duration.ZERO : Duration.ofMillis(1),
                Duration.ofDays(1), problems);
        if (ordering == GraphOrdering.EVENT_TIME
                && Duration.ZERO.equals(readOrReport(config, EMIT_INTERVAL, new ArrayList<>()))) {
            problems.add("graph.emit-interval 0 (a delta per action) needs graph.ordering "
                    + "arrival: event-time order applies a slot at a time; pass --graph.ordering "
                    + "arrival or an interval of at least 1 ms");
        }
        Boolean fineTuneOn = readOrReport(config, FINE_TUNE_ENABLED, new ArrayList<>());
        if (ordering == GraphOrdering.ARRIVAL && Boolean.TRUE.equals(fineTuneOn)) {
            // the re-base hold of fine-tuning waits on processing-time timers and replays the
            // event-time timers that fired meanwhile: arrival order's own processing-time flush
            // timers would mix with both
            problems.add("graph.ordering arrival does not work with fine-tune.enabled: pass "
                    + "--graph.ordering event-time or --fine-tune.enabled false");
        }
        durationBetween(config, DELTA_VECTOR_MAX_AGE, Duration.ofMillis(1), Duration.ofDays(3650),
                problems);
        durationBetween(config, DEDUP_WINDOW, Duration.ofSeconds(1), Duration.ofDays(30), problems);
        if (config.get(DEDUP_MAX_IDS) < 1 || config.get(DEDUP_MAX_IDS) > 1_000_000) {
            problems.add(DEDUP_MAX_IDS.key() + " must be between 1 and 1000000, got "
                    + config.get(DEDUP_MAX_IDS));
        }
        if (!(config.get(DELTA_VECTOR_MIN_DISTANCE) >= 0 && config.get(DELTA_VECTOR_MIN_DISTANCE) <= 2)) {
            problems.add(DELTA_VECTOR_MIN_DISTANCE.key() + " must be between 0 and 2, got "
                    + config.get(DELTA_VECTOR_MIN_DISTANCE));
        }
        durationBetween(config, SWEEP_INTERVAL, Duration.ofSeconds(1), Duration.ofDays(3650),
                problems);
        durationBetween(config, IDLE_TTL, Duration.ofSeconds(1), Duration.ofDays(36500), problems);
        for (ConfigOption<Double> weight : List.of(WEIGHT_VIEW, WEIGHT_CLICK, WEIGHT_CART,
                WEIGHT_PURCHASE, WEIGHT_COMMENT, WEIGHT_SHARE, WEIGHT_DISLIKE)) {
            doubleBetween(config, weight, -100.0, 100.0, problems);
        }
        intBetween(config, MAX_PARALLELISM, 1, 32768, problems);
        intBetween(config, EMBED_BATCH_SIZE, 1, 4096, problems);
        durationBetween(config, EMBED_BATCH_DELAY, Duration.ZERO, Duration.ofSeconds(10), problems);
        intBetween(config, EMBED_MAX_CONCURRENT_REQUESTS, 1, 1024, problems);
        intBetween(config, EMBED_CACHE_SIZE, 0, 10_000_000, problems);
        readOrReport(config, RECOMMEND_ENABLED, problems);
        intBetween(config, RECOMMEND_TOP_K, 1, 1000, problems);
        intBetween(config, RECOMMEND_COLD_START_EDGES, 0, 100_000, problems);
        for (ConfigOption<Double> weight : List.of(RECOMMEND_WEIGHT_NEIGHBOURS,
                RECOMMEND_WEIGHT_COMMUNITY, RECOMMEND_WEIGHT_POPULARITY,
                RECOMMEND_WEIGHT_INTERESTS, RECOMMEND_WEIGHT_SHORT_TERM,
                RECOMMEND_WEIGHT_NEGATIVE_NEIGHBOURS)) {
            doubleBetween(config, weight, 0.0, 1000.0, problems);
        }
        readOrReport(config, RECOMMEND_NEIGHBOUR_EVIDENCE, problems);
        durationBetween(config, EMBED_RETRY_INITIAL_BACKOFF, Duration.ofMillis(1),
                Duration.ofMinutes(1), problems);
        durationBetween(config, EMBED_RETRY_MAX_BACKOFF, Duration.ofMillis(1), Duration.ofHours(1),
                problems);
        intBetween(config, EMBED_BREAKER_THRESHOLD, 1, 1000, problems);
        intBetween(config, EMBED_MAX_IN_FLIGHT, 1, 100_000, problems);
        durationBetween(config, EMBED_TIMEOUT, Duration.ofMillis(1), Duration.ofHours(1), problems);
        readOrReport(config, FINE_TUNE_ENABLED, problems);
        readOrReport(config, FINE_TUNE_TRAINING_ENABLED, problems);
        intBetween(config, FINE_TUNE_BATCH_SIZE, 2, 4096, problems);
        durationBetween(config, FINE_TUNE_BATCH_WINDOW, Duration.ofMillis(1), Duration.ofDays(7),
                problems);
        intBetween(config, FINE_TUNE_CONTEXT_ITEMS, 1, 50, problems);
        doubleBetween(config, FINE_TUNE_EXAMPLE_SAMPLE, 0.0001, 1.0, problems);
        durationBetween(config, FINE_TUNE_VERSIONS_IDLENESS, Duration.ofMillis(1),
                Duration.ofDays(1), problems);
        if (problems.isEmpty() && config.get(FINE_TUNE_ENABLED)) {
            fineTuneProblems(config, problems);
        }
        if (config instanceof Configuration) {
            problems.addAll(unknownKeys((Configuration) config));
        }
        if (problems.isEmpty()
                && config.get(PROFILE_SHORT_HALF_LIFE).compareTo(config.get(PROFILE_LONG_HALF_LIFE)) > 0) {
            problems.add("profile.short-term-half-life (" + config.get(PROFILE_SHORT_HALF_LIFE)
                    + ") must not exceed profile.long-term-half-life ("
                    + config.get(PROFILE_LONG_HALF_LIFE) + ")");
        }
        if (!problems.isEmpty()) {
            throw new IllegalConfigurationException(
                    "Invalid interest-graph configuration:\n  - " + String.join("\n  - ", problems));
        }
    }

    /** The combinations fine-tuning needs, checked once the single values are valid. */
    private static void fineTuneProblems(ReadableConfig config, List<String> problems) {
        if (!config.get(TRITON_MODEL_VERSION).isBlank()) {
            problems.add("fine-tune.enabled pins the encoder version per record itself: unset "
                    + "triton.model-version (now '" + config.get(TRITON_MODEL_VERSION) + "')");
        }
        if (config.get(FINE_TUNE_BASE_VERSION).isBlank()) {
            problems.add("fine-tune.base-version must name the version valid before the first "
                    + "announcement, e.g. --fine-tune.base-version 1");
        }
        boolean embedded = config.getOptional(TRITON_ENDPOINT).map(String::isBlank).orElse(true);
        if (embedded && config.getOptional(EMBEDDED_MODEL_REPOSITORY).map(String::isBlank)
                .orElse(true)) {
            problems.add("fine-tune.enabled with the embedded inference server needs "
                    + "embedded.model-repository: the folder the tuner publishes item_encoder "
                    + "versions into (or set triton.endpoint to a Triton that loads them)");
        }
        long window = config.get(FINE_TUNE_BATCH_WINDOW).toMillis();
        long flush = config.get(EMIT_INTERVAL).toMillis();
        if (window % flush != 0) {
            // examples leave the user-graph at its flush tick: a window that ends inside a flush
            // slot would be cut before its last examples arrive (they would be dropped as late)
            problems.add("fine-tune.batch-window (" + config.get(FINE_TUNE_BATCH_WINDOW)
                    + ") must be a multiple of graph.emit-interval (" + config.get(EMIT_INTERVAL)
                    + ")");
        }
        if (config.get(FINE_TUNE_TRAINING_ENABLED)
                && config.getOptional(FINE_TUNE_TUNER_ENDPOINT).map(String::isBlank).orElse(true)
                && embedded) {
            problems.add("fine-tune.training.enabled needs the tuner's Triton: set "
                    + "fine-tune.tuner.endpoint host:port (the embedded server does not train), "
                    + "or --fine-tune.training.enabled false to only follow announced versions");
        }
    }

    /** Namespaces that belong to this job: a key in them that no option has is a typo. */
    private static final List<String> OWN_PREFIXES = List.of("kafka.", "input.", "watermark.",
            "graph.", "profile.", "triton.", "embedding.", "recommend.", "job.", "fine-tune.",
            "embedded.");

    private static List<String> unknownKeys(Configuration config) {
        java.util.Set<String> known = new java.util.TreeSet<>();
        all().forEach(option -> {
            known.add(option.key());
            option.fallbackKeys().forEach(fallback -> known.add(fallback.getKey()));
        });
        List<String> problems = new ArrayList<>();
        for (String key : config.keySet()) {
            boolean ours = OWN_PREFIXES.stream().anyMatch(key::startsWith)
                    && !key.startsWith(KAFKA_PROPERTIES_PREFIX);
            if (ours && !known.contains(key)) {
                String namespace = key.substring(0, key.indexOf('.') + 1);
                problems.add("unknown option '" + key + "'; options under " + namespace + " are: "
                        + known.stream().filter(k -> k.startsWith(namespace))
                                .collect(java.util.stream.Collectors.joining(", ")));
            }
        }
        return problems;
    }

    /**
     * Points the job at its own set of topics, {@code prefix + <default name>}, with its own
     * consumer group and transactional ids: several runs can then share one broker.
     */
    public static void prefixTopics(Configuration config, String prefix) {
        for (ConfigOption<String> topic : List.of(TOPIC_EVENTS, TOPIC_ITEMS, TOPIC_DELTAS,
                TOPIC_DEAD_LETTERS, TOPIC_ITEM_EMBEDDINGS, TOPIC_ITEM_NEIGHBORS,
                TOPIC_RECOMMENDATIONS, TOPIC_MODEL_VERSIONS)) {
            config.set(topic, prefix + topic.defaultValue());
        }
        config.set(KAFKA_GROUP_ID, prefix + KAFKA_GROUP_ID.defaultValue());
        config.set(KAFKA_TRANSACTIONAL_ID_PREFIX, prefix + KAFKA_TRANSACTIONAL_ID_PREFIX.defaultValue());
    }

    /** Kafka client properties given with the {@value #KAFKA_PROPERTIES_PREFIX} prefix. */
    public static java.util.Properties kafkaClientProperties(Configuration config) {
        java.util.Properties properties = new java.util.Properties();
        for (Map.Entry<String, String> entry : config.toMap().entrySet()) {
            if (entry.getKey().startsWith(KAFKA_PROPERTIES_PREFIX)) {
                properties.setProperty(
                        entry.getKey().substring(KAFKA_PROPERTIES_PREFIX.length()), entry.getValue());
            }
        }
        return properties;
    }

    private static void intBetween(ReadableConfig config, ConfigOption<Integer> option, int min,
            int max, List<String> problems) {
        Integer value = readOrReport(config, option, problems);
        if (value != null && (value < min || value > max)) {
            problems.add(option.key() + " must be in [" + min + ", " + max + "], got " + value
                    + ": pass --" + option.key() + " <value in range>");
        }
    }

    private static void doubleBetween(ReadableConfig config, ConfigOption<Double> option,
            double min, double max, List<String> problems) {
        Double value = readOrReport(config, option, problems);
        if (value != null && !(value >= min && value <= max)) {
            problems.add(option.key() + " must be in [" + min + ", " + max + "], got " + value
                    + ": pass --" + option.key() + " <value in range>");
        }
    }

    private static void durationBetween(ReadableConfig config, ConfigOption<Duration> option,
            Duration min, Duration max, List<String> problems) {
        Duration value = readOrReport(config, option, problems);
        if (value != null && (value.compareTo(min) < 0 || value.compareTo(max) > 0)) {
            problems.add(option.key() + " must be between " + min + " and " + max + ", got "
                    + value + ": pass --" + option.key() + " with a duration like '30 d', "
                    + "'12 h' or '500 ms'");
        }
    }

    /**
     * Reads an option, turning a parse failure into a problem that names the key; null then, so
     * that the range check does not report the same key twice.
     */
    private static <T> T readOrReport(ReadableConfig config, ConfigOption<T> option,
            List<String> problems) {
        try {
            return config.get(option);
        } catch (RuntimeException e) {
            problems.add(option.key() + ": cannot read the value (" + rootMessage(e) + ")");
            return null;
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause.getMessage();
    }

    /** The recommender's weights these options describe (half-life: graph.edge-half-life). */
    public static Recommender.Weights recommenderWeights(ReadableConfig config) {
        Recommender.Weights weights = new Recommender.Weights();
        weights.neighbours = config.get(RECOMMEND_WEIGHT_NEIGHBOURS);
        weights.community = config.get(RECOMMEND_WEIGHT_COMMUNITY);
        weights.popularity = config.get(RECOMMEND_WEIGHT_POPULARITY);
        weights.interests = config.get(RECOMMEND_WEIGHT_INTERESTS);
        weights.shortTerm = config.get(RECOMMEND_WEIGHT_SHORT_TERM);
        weights.negativeNeighbours = config.get(RECOMMEND_WEIGHT_NEGATIVE_NEIGHBOURS);
        weights.evidence = config.get(RECOMMEND_NEIGHBOUR_EVIDENCE);
        weights.coldStartEdges = config.get(RECOMMEND_COLD_START_EDGES);
        weights.halfLifeMs = config.get(EDGE_HALF_LIFE).toMillis();
        return weights;
    }

    /** The interest-graph parameters these options describe (the core's {@link GraphParameters}). */
    public static GraphParameters graphParameters(ReadableConfig config) {
        GraphParameters.Builder parameters = GraphParameters.builder()
                .edgeHalfLife(config.get(EDGE_HALF_LIFE))
                .pruneThreshold(config.get(PRUNE_THRESHOLD))
                .maxEdgesPerUser(config.get(MAX_EDGES_PER_USER))
                .maxInterests(config.get(MAX_INTERESTS))
                .interestJoinThreshold(config.get(INTEREST_JOIN_THRESHOLD))
                .interestMergeThreshold(config.get(INTEREST_MERGE_THRESHOLD))
                .interestMinItems(config.get(INTEREST_MIN_ITEMS))
                .interestMinWeight(config.get(INTEREST_MIN_WEIGHT))
                .interestTopItems(config.get(INTEREST_TOP_ITEMS))
                .longTermHalfLife(config.get(PROFILE_LONG_HALF_LIFE))
                .shortTermHalfLife(config.get(PROFILE_SHORT_HALF_LIFE))
                // arrival order's 0 (a delta per action) still aligns maintenance to 1 ms
                .flushInterval(config.get(EMIT_INTERVAL).isZero() ? Duration.ofMillis(1)
                        : config.get(EMIT_INTERVAL))
                .vectorMinDistance(config.get(DELTA_VECTOR_MIN_DISTANCE))
                .vectorMaxAge(config.get(DELTA_VECTOR_MAX_AGE))
                .vectorEncoding(VectorEncoding.valueOf(config.get(DELTA_VECTOR_ENCODING).name()))
                .dedupWindow(config.get(DEDUP_WINDOW))
                .dedupMaxIds(config.get(DEDUP_MAX_IDS))
                .sweepInterval(config.get(SWEEP_INTERVAL))
                .idleTtl(config.get(IDLE_TTL))
                .actionWeight(Action.VIEW, config.get(WEIGHT_VIEW))
                .actionWeight(Action.CLICK, config.get(WEIGHT_CLICK))
                .actionWeight(Action.CART, config.get(WEIGHT_CART))
                .actionWeight(Action.PURCHASE, config.get(WEIGHT_PURCHASE))
                .actionWeight(Action.COMMENT, config.get(WEIGHT_COMMENT))
                .actionWeight(Action.SHARE, config.get(WEIGHT_SHARE))
                .actionWeight(Action.DISLIKE, config.get(WEIGHT_DISLIKE));
        return parameters.build();
    }
}
