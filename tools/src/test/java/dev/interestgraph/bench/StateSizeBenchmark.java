package dev.interestgraph.bench;

import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.graph.GraphUpdater;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.graph.UserGraph.Edge;
import dev.interestgraph.usergraph.EdgeSerializer;
import dev.interestgraph.usergraph.UserGraphSerializer;
import dev.interestgraph.usergraph.UserGraphSummarySerializer;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.api.java.typeutils.runtime.kryo.KryoSerializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.state.CompositeKeySerializationUtils;
import org.apache.flink.runtime.state.SerializedCompositeKeyBuilder;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;

/**
 * State bytes of one user's graph at 50 edges and 5 interests of 384 dimensions, built by
 * applying events through {@link GraphUpdater} (so labels, terms, profiles and the stored
 * derived fields are real), in the operator's layout of issue 16: the summary value
 * ({@link UserGraphSummarySerializer}) plus one map entry per edge ({@link EdgeSerializer}), each
 * counted as RocksDB stores it — the composite key (key-group prefix, user id, namespace, and for
 * an edge its item id) built by Flink's own {@link SerializedCompositeKeyBuilder}, and the value
 * (a map value with its null flag). RocksDB's own per-entry overhead in its files (sequence
 * numbers, block index, compression) is not counted. For comparison: the layout before (the
 * whole graph as one value, {@link UserGraphSerializer}) and Flink's {@link KryoSerializer}.
 * Run: {@code java -cp <test classpath> dev.interestgraph.bench.StateSizeBenchmark}.
 */
public final class StateSizeBenchmark {
    public static final int TARGET_BYTES = 8 * 1024;
    static final int EDGES = 50;
    static final int INTERESTS = 5;

    /** Sizes in bytes. */
    public static final class Report {
        public String modelVersion;
        public int edges;
        public int interests;
        public int dimension;
        public int totalBytes;
        public int headerBytes;
        /** Every edge entry, key and value. */
        public int edgeBytes;
        /** Of {@link #edgeBytes}: the keys' share that repeats per edge (prefix, user id, ns). */
        public int edgeKeyOverheadBytes;
        /** The summary entry, key and value. */
        public int summaryBytes;
        /** The layout before issue 16: the whole graph as one value, with its key. */
        public int wholeGraphBytes;
        /**
         * Interest centroids (int8 codes and a scale, or halves for one off its grid, + weight,
         * time, version) and their labels and terms.
         */
        public int interestBytes;
        /** The centroids' payload: codes and scales (halves for a centroid off its grid). */
        public int interestVectorBytes;
        public int profileBytes;
        /** -1 when Kryo could not serialise the graph. */
        public int kryoBytes = -1;
        public String kryoError;

        /** The payload of all vectors: the centroids' and both profiles' halves. */
        public int vectorBytes() {
            return interestVectorBytes + 2 * dimension * 2;
        }
    }

    private StateSizeBenchmark() {}

    /** The Triton client's default model_version, and a descriptive one. */
    public static final String[] MODEL_VERSIONS = {"1", BenchData.MODEL_VERSION};

    public static void main(String[] args) throws Exception {
        for (String modelVersion : MODEL_VERSIONS) {
            print(measure(modelVersion));
        }
    }

    /** Builds the graph with embeddings of the given model version and measures it. */
    public static Report measure(String modelVersion) throws IOException {
        UserGraph graph = buildGraph(modelVersion);
        Report report = new Report();
        report.modelVersion = modelVersion;
        report.edges = graph.edges.size();
        report.interests = graph.interests.size();
        report.dimension = graph.longTerm.mean.length;
        report.summaryBytes = summaryBytes(graph);
        report.edgeBytes = 0;
        for (Edge edge : graph.edges.values()) {
            report.edgeBytes += edgeEntryBytes(edge);
            report.edgeKeyOverheadBytes += edgeEntryBytes(edge) - edgeOwnBytes(edge);
        }
        report.totalBytes = report.summaryBytes + report.edgeBytes;
        report.wholeGraphBytes = size(graph) + summaryKeyBytes();

        // breakdown of the summary: serialise it with parts removed and take differences
        UserGraph noInterests = copy(graph);
        noInterests.interests.clear();
        report.interestBytes = report.summaryBytes - summaryBytes(noInterests);
        for (UserGraph.Interest interest : graph.interests.values()) {
            report.interestVectorBytes += Float.isNaN(interest.centroid.scale)
                    ? interest.centroid.mean.length * 2 : interest.centroid.mean.length + 2;
        }
        UserGraph bare = copy(noInterests);
        bare.longTerm = null;
        bare.shortTerm = null;
        report.profileBytes = summaryBytes(noInterests) - summaryBytes(bare);
        report.headerBytes = summaryBytes(bare);

        try {
            KryoSerializer<UserGraph> kryo =
                    new KryoSerializer<>(UserGraph.class, new SerializerConfigImpl());
            DataOutputSerializer out = new DataOutputSerializer(16 * 1024);
            kryo.serialize(graph, out);
            report.kryoBytes = out.length();
        } catch (RuntimeException | IOException | LinkageError e) {
            report.kryoError = e.toString();
        }
        return report;
    }

    public static void print(Report r) {
        System.out.printf("UserGraph state, %d edges, %d interests, %d dims, model version \"%s\""
                + " (UserGraphSerializer):%n", r.edges, r.interests, r.dimension, r.modelVersion);
        System.out.printf("  total            %6d bytes  (target <= %d: %s)%n", r.totalBytes,
                TARGET_BYTES, r.totalBytes <= TARGET_BYTES ? "OK" : "OVER");
        System.out.printf("  edges            %6d bytes  (%.1f per edge entry, of which %.1f the"
                + " key's prefix and user id)%n", r.edgeBytes,
                (double) r.edgeBytes / Math.max(1, r.edges),
                (double) r.edgeKeyOverheadBytes / Math.max(1, r.edges));
        System.out.printf("  summary          %6d bytes  (key and value)%n", r.summaryBytes);
        System.out.printf("  interests        %6d bytes  (of which centroid codes and scales %d)%n",
                r.interestBytes, r.interestVectorBytes);
        System.out.printf("  profiles (2)     %6d bytes%n", r.profileBytes);
        System.out.printf("  header           %6d bytes  (summary key, header, edge count)%n",
                r.headerBytes);
        System.out.printf("  layout before    %6d bytes  (the whole graph as one value)%n",
                r.wholeGraphBytes);
        System.out.printf("  vector payload   %6d bytes  (%.0f %% of total: %d centroids' codes and"
                + " 2 profiles' halves, %d dims)%n", r.vectorBytes(),
                100.0 * r.vectorBytes() / r.totalBytes, r.interests, r.dimension);
        if (r.kryoBytes > 0) {
            System.out.printf("  Kryo (Flink KryoSerializer, same object): %d bytes = %.2fx%n",
                    r.kryoBytes, (double) r.kryoBytes / r.totalBytes);
        } else {
            System.out.println("  Kryo: failed: " + r.kryoError);
        }
    }

    /**
     * One user who acts on 50 items of 5 topics (10 items each, 2–3 positive actions per item,
     * over 10 days in flushes of a few events), so that each topic becomes one interest.
     */
    static UserGraph buildGraph(String modelVersion) {
        GraphUpdater updater = new GraphUpdater(GraphParameters.defaults());
        List<EnrichedAction> all = BenchData.events(50, 40, 10, 7); // catalogue: 8 topics × 10
        Map<String, EnrichedAction> byItem = new TreeMap<>();
        for (EnrichedAction e : all) {
            byItem.putIfAbsent(e.itemId, e);
        }
        String[] topics = {"scifi", "cooking", "jazz", "travel", "history"};
        Action[] positive = {Action.VIEW, Action.CLICK, Action.CART, Action.PURCHASE, Action.RATE};
        Random random = new Random(3);
        long t = 1_700_000_000_000L;
        List<EnrichedAction> stream = new ArrayList<>();
        int id = 0;
        for (int round = 0; round < 3; round++) {
            for (String topic : topics) {
                for (int i = 0; i < EDGES / INTERESTS; i++) {
                    EnrichedAction item = byItem.get(topic + "-" + i);
                    if (round == 2 && random.nextBoolean()) {
                        continue;
                    }
                    EnrichedAction e = new EnrichedAction();
                    e.eventId = "s" + (id++);
                    e.userId = "user-size";
                    e.itemId = item.itemId;
                    e.action = positive[random.nextInt(positive.length)];
                    e.value = e.action == Action.RATE ? 4.0 : 0;
                    e.eventTimeMs = t += 3 * 3600_000L;
                    e.vector = item.vector;
                    e.modelVersion = modelVersion;
                    e.terms = item.terms;
                    stream.add(e);
                }
            }
        }
        UserGraph graph = null;
        for (int from = 0; from < stream.size(); from += 4) {
            GraphUpdater.Result result = updater.flush(graph, "user-size",
                    stream.subList(from, Math.min(stream.size(), from + 4)));
            graph = result.graph;
        }
        return graph;
    }

    /** The operator's keys as the job builds them: max parallelism 128, user key of the bench. */
    private static final String USER = "user-size";
    private static final int KEY_GROUP_PREFIX =
            CompositeKeySerializationUtils.computeRequiredBytesInKeyGroupPrefix(128);

    private static SerializedCompositeKeyBuilder<String> keys() {
        SerializedCompositeKeyBuilder<String> keys = new SerializedCompositeKeyBuilder<>(
                StringSerializer.INSTANCE, KEY_GROUP_PREFIX, 32);
        keys.setKeyAndKeyGroup(USER, 0);
        return keys;
    }

    static int summaryKeyBytes() {
        return keys().buildCompositeKeyNamespace(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE).length;
    }

    /** The summary entry: its key and value. */
    static int summaryBytes(UserGraph graph) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(16 * 1024);
        UserGraphSummarySerializer.INSTANCE.serialize(graph, out);
        return summaryKeyBytes() + out.length();
    }

    /** One edge entry: the composite key with the item id, the null flag and the value. */
    static int edgeEntryBytes(Edge edge) throws IOException {
        byte[] key = keys().buildCompositeKeyNamesSpaceUserKey(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE, edge.itemId, StringSerializer.INSTANCE);
        return key.length + edgeOwnBytes(edge) - itemIdBytes(edge);
    }

    /** What the edge itself holds: its item id (in the key), null flag and value. */
    private static int edgeOwnBytes(Edge edge) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        EdgeSerializer.INSTANCE.serialize(edge, out);
        return itemIdBytes(edge) + 1 + out.length();
    }

    private static int itemIdBytes(Edge edge) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        StringSerializer.INSTANCE.serialize(edge.itemId, out);
        return out.length();
    }

    static int size(UserGraph graph) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(16 * 1024);
        UserGraphSerializer.INSTANCE.serialize(graph, out);
        return out.length();
    }

    static UserGraph copy(UserGraph graph) {
        return UserGraphSerializer.INSTANCE.copy(graph);
    }
}
