package dev.interestgraph.bench;

import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.graph.GraphUpdater;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.usergraph.UserGraphSerializer;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.java.typeutils.runtime.kryo.KryoSerializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * Serialized size of one user's graph state at 50 edges and 5 interests of 384 dimensions, built
 * by applying events through {@link GraphUpdater} (so labels, terms and profiles are real), with
 * {@link UserGraphSerializer} and, for comparison, Flink's {@link KryoSerializer}.
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
        public int edgeBytes;
        /** Interest centroids (half floats + weight/time/version) and their labels and terms. */
        public int interestBytes;
        public int interestVectorBytes;
        public int profileBytes;
        /** -1 when Kryo could not serialise the graph. */
        public int kryoBytes = -1;
        public String kryoError;

        /** The half-float payload of all vectors (centroids and both profiles). */
        public int vectorBytes() {
            return (interests + 2) * dimension * 2;
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
        report.totalBytes = size(graph);

        // breakdown: serialise the graph with parts removed and take differences
        UserGraph noEdges = copy(graph);
        noEdges.edges.clear();
        report.edgeBytes = report.totalBytes - size(noEdges);
        UserGraph noInterests = copy(noEdges);
        noInterests.interests.clear();
        report.interestBytes = size(noEdges) - size(noInterests);
        report.interestVectorBytes = report.interests * report.dimension * 2;
        UserGraph bare = copy(noInterests);
        bare.longTerm = null;
        bare.shortTerm = null;
        report.profileBytes = size(noInterests) - size(bare);
        report.headerBytes = size(bare);

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
        System.out.printf("  edges            %6d bytes  (%.1f per edge)%n", r.edgeBytes,
                (double) r.edgeBytes / Math.max(1, r.edges));
        System.out.printf("  interests        %6d bytes  (of which centroid halves %d)%n",
                r.interestBytes, r.interestVectorBytes);
        System.out.printf("  profiles (2)     %6d bytes%n", r.profileBytes);
        System.out.printf("  header           %6d bytes%n", r.headerBytes);
        System.out.printf("  vector halves    %6d bytes  (%.0f %% of total: %d vectors x %d dims x 2)%n",
                r.vectorBytes(), 100.0 * r.vectorBytes() / r.totalBytes, r.interests + 2,
                r.dimension);
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

    static int size(UserGraph graph) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(16 * 1024);
        UserGraphSerializer.INSTANCE.serialize(graph, out);
        return out.length();
    }

    static UserGraph copy(UserGraph graph) {
        return UserGraphSerializer.INSTANCE.copy(graph);
    }
}
