package dev.interestgraph.usergraph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.graph.GraphUpdater;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.graph.UserGraph.Edge;
import dev.interestgraph.graph.UserGraph.Interest;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.vector.HalfFloats;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/**
 * Issue 16's state formats: the graph's derived fields (member counts, cached rankings) are
 * stored, so a graph read back needs no walk and flushes exactly as the object never stored;
 * the older format without them is restored by deriving them once; the summary (no edges) and
 * the per-edge value round-trip.
 */
class GraphStateFormatTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final long HOUR = 3600L * 1000;
    private static final Action[] ACTIONS = {Action.VIEW, Action.CLICK, Action.CART,
        Action.PURCHASE, Action.RATE, Action.DISLIKE};

    private static GraphParameters params() {
        return GraphParameters.builder().maxEdgesPerUser(20).maxInterests(4)
                .interestJoinThreshold(0.8).interestMergeThreshold(0.6).interestMinItems(2)
                .interestTopItems(3).edgeHalfLife(Duration.ofDays(2)).build();
    }

    /** Random flushes of 1–3 events over 40 items of 5 topics (8-dim vectors). */
    private static final class Workload {
        final Random random;
        final float[][] topics = new float[5][8];
        long now = T0;
        int events;

        Workload(long seed) {
            random = new Random(seed);
            for (float[] topic : topics) {
                for (int d = 0; d < topic.length; d++) {
                    topic[d] = (float) random.nextGaussian();
                }
            }
        }

        List<EnrichedAction> next() {
            now += (long) (random.nextDouble() * 20 * HOUR);
            List<EnrichedAction> flush = new ArrayList<>();
            for (int i = 0, n = 1 + random.nextInt(3); i < n; i++) {
                EnrichedAction e = new EnrichedAction();
                e.eventId = "e" + events++;
                e.userId = "u";
                int item = random.nextInt(40);
                e.itemId = "item-" + item;
                e.action = ACTIONS[random.nextInt(ACTIONS.length)];
                e.value = 1 + random.nextInt(5);
                e.eventTimeMs = now;
                float[] v = new float[8];
                for (int d = 0; d < v.length; d++) {
                    v[d] = topics[item % 5][d] + 0.3f * (float) random.nextGaussian();
                }
                e.vector = HalfFloats.fromFloats(v);
                e.modelVersion = "v1";
                e.terms = new String[] {"t" + item % 7};
                flush.add(e);
            }
            return flush;
        }
    }

    private static byte[] bytes(TypeSerializer<UserGraph> serializer, UserGraph graph)
            throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(1024);
        serializer.serialize(graph, out);
        return out.getCopyOfBuffer();
    }

    private static UserGraph read(TypeSerializer<UserGraph> serializer, byte[] bytes)
            throws IOException {
        DataInputDeserializer in = new DataInputDeserializer(bytes);
        UserGraph graph = serializer.deserialize(in);
        assertThat(in.available()).isZero();
        return graph;
    }

    /**
     * The format before issue 16's layout (version 2): version 3 without the flag of the derived
     * fields (the graph written without them) — the flag sits after the header and the edges,
     * which a graph with no interests and no profile ends with, then four zero bytes (interests,
     * two profiles, the calibration of format 4) — and without format 4's calibration flag (the
     * last byte of a graph without a calibration).
     */
    private static byte[] version2(UserGraph graph) throws IOException {
        UserGraph headerAndEdges = UserGraphSerializer.INSTANCE.copy(graph);
        headerAndEdges.interests.clear();
        headerAndEdges.longTerm = null;
        headerAndEdges.shortTerm = null;
        headerAndEdges.calibration = null;
        headerAndEdges.calibrationVersion = null;
        int flagAt = version4(headerAndEdges).length - 5;
        // written with the derived fields unknown: the flag is false and nothing follows it
        byte[] v4 = version4(unknown(graph));
        assertThat(v4[flagAt]).isZero();
        assertThat(graph.calibration).isNull();
        assertThat(v4[v4.length - 1]).isZero();
        byte[] v2 = new byte[v4.length - 2];
        System.arraycopy(v4, 0, v2, 0, flagAt);
        System.arraycopy(v4, flagAt + 1, v2, flagAt, v4.length - flagAt - 2);
        v2[0] = 2;
        return v2;
    }

    /** {@code graph} in format 4 (before the int8 centroids and varint vector times). */
    static byte[] version4(UserGraph graph) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(1024);
        UserGraphSerializer.serialize(graph, out, 4);
        return out.getCopyOfBuffer();
    }

    /** The same graph in a new object whose derived fields are unknown (shares interests). */
    private static UserGraph unknown(UserGraph graph) {
        UserGraph fresh = new UserGraph();
        fresh.epoch = graph.epoch;
        fresh.seq = graph.seq;
        fresh.lastEventMs = graph.lastEventMs;
        fresh.maintenanceTimerMs = graph.maintenanceTimerMs;
        fresh.nextInterestId = graph.nextInterestId;
        graph.edges.values().forEach(e -> fresh.edges.put(new Edge(e.itemId, e)));
        fresh.interests.putAll(graph.interests);
        fresh.longTerm = graph.longTerm;
        fresh.shortTerm = graph.shortTerm;
        return fresh;
    }

    @Test
    void storedDerivedFieldsFlushExactlyAsTheGraphNeverStored() throws Exception {
        GraphUpdater updater = new GraphUpdater(params());
        int restoredWithRankings = 0;
        for (long seed = 1; seed <= 10; seed++) {
            Workload workload = new Workload(seed);
            UserGraph kept = null;
            UserGraph stored = null;
            for (int step = 0; step < 120; step++) {
                List<EnrichedAction> flush = workload.next();
                GraphUpdater.Result a = updater.flush(kept, "u", flush);
                GraphUpdater.Result b = updater.flush(stored, "u", flush);
                assertThat(b.deltas).as("seed %d step %d", seed, step).isEqualTo(a.deltas);
                kept = a.graph;
                stored = b.graph == null ? null
                        : read(UserGraphSerializer.INSTANCE,
                                bytes(UserGraphSerializer.INSTANCE, b.graph));
                if (stored != null) {
                    assertThat(stored.derivedKnown()).isTrue();
                    for (Interest interest : stored.interests.values()) {
                        Interest original = b.graph.interests.get(interest.id);
                        assertThat(interest.size()).isEqualTo(original.size());
                        assertThat(interest.cachedTop()).isEqualTo(original.cachedTop());
                        assertThat(interest.cachedTopWeights())
                                .isEqualTo(original.cachedTopWeights());
                        assertThat(interest.cachedTopLastMs())
                                .isEqualTo(original.cachedTopLastMs());
                        assertThat(interest.touchedMembers())
                                .isEqualTo(original.touchedMembers());
                        if (interest.cachedTop() != null) {
                            restoredWithRankings++;
                        }
                    }
                }
            }
        }
        assertThat(restoredWithRankings).isGreaterThan(500);
    }

    @Test
    void version2IsRestoredAndItsDerivedFieldsDerivedOnce() throws Exception {
        GraphUpdater updater = new GraphUpdater(params());
        Workload workload = new Workload(5);
        UserGraph graph = null;
        for (int step = 0; step < 60; step++) {
            graph = updater.flush(graph, "u", workload.next()).graph;
        }
        byte[] old = version2(graph);
        UserGraph restored = read(UserGraphSerializer.INSTANCE, old);
        assertThat(restored.derivedKnown()).isFalse();
        UserGraphSerializerTest.assertSameGraphOffTheGrid(restored, graph);

        List<EnrichedAction> next = workload.next();
        GraphUpdater.Result fromOld = updater.flush(restored, "u", next);
        GraphUpdater.Result fromKept = updater.flush(graph, "u", next);
        assertThat(fromOld.deltas).isEqualTo(fromKept.deltas);
        assertThat(fromOld.graph.derivedKnown()).isTrue();
        for (Interest interest : fromOld.graph.interests.values()) {
            assertThat(interest.size()).isEqualTo(fromKept.graph.interests.get(interest.id).size());
        }
    }

    /**
     * Today's savepoints (before the int8 centroids): a whole graph in format 4 and a summary in
     * format 2 (its edges beside it) restore to the same halves, and the flushes after the
     * restore give exactly the deltas of the graph never stored; each centroid the next flushes
     * change is back on its grid, and the graph written again in the current format is smaller.
     */
    @Test
    void todaysFormatsRestoreAndContinueExactly() throws Exception {
        GraphUpdater updater = new GraphUpdater(params());
        for (long seed = 11; seed <= 15; seed++) {
            Workload workload = new Workload(seed);
            UserGraph kept = null;
            for (int step = 0; step < 60; step++) {
                kept = updater.flush(kept, "u", workload.next()).graph;
            }
            UserGraph whole = read(UserGraphSerializer.INSTANCE, version4(kept));
            DataOutputSerializer out = new DataOutputSerializer(1024);
            UserGraphSummarySerializer.serialize(kept, out, 2);
            byte[] summary2 = out.getCopyOfBuffer();
            assertThat(summary2[0]).isEqualTo((byte) 2);
            UserGraph summary = read(UserGraphSummarySerializer.INSTANCE, summary2);
            assertThat(summary.interests.keySet()).isEqualTo(kept.interests.keySet());
            for (Interest interest : kept.interests.values()) {
                assertThat(whole.interests.get(interest.id).centroid.mean)
                        .isEqualTo(interest.centroid.mean);
                assertThat(summary.interests.get(interest.id).centroid.mean)
                        .isEqualTo(interest.centroid.mean);
                assertThat(summary.interests.get(interest.id).centroid.scale).isNaN();
            }
            assertThat(summary.longTerm.mean).isEqualTo(kept.longTerm.mean);
            for (int step = 0; step < 40; step++) {
                List<EnrichedAction> flush = workload.next();
                GraphUpdater.Result a = updater.flush(kept, "u", flush);
                GraphUpdater.Result b = updater.flush(whole, "u", flush);
                assertThat(b.deltas).as("seed %d step %d", seed, step).isEqualTo(a.deltas);
                kept = a.graph;
                whole = b.graph;
            }
            byte[] current = bytes(UserGraphSerializer.INSTANCE, whole);
            assertThat(current[0]).isEqualTo((byte) UserGraphSerializer.FORMAT_VERSION);
            assertThat(current.length).isLessThan(version4(whole).length);
            UserGraphSerializerTest.assertSameGraph(read(UserGraphSerializer.INSTANCE, current),
                    kept);
        }
    }

    @Test
    void summaryLeavesTheEdgesOutAndKeepsTheirCount() throws Exception {
        GraphUpdater updater = new GraphUpdater(params());
        Workload workload = new Workload(9);
        UserGraph graph = null;
        for (int step = 0; step < 40; step++) {
            graph = updater.flush(graph, "u", workload.next()).graph;
        }
        byte[] summary = bytes(UserGraphSummarySerializer.INSTANCE, graph);
        byte[] whole = bytes(UserGraphSerializer.INSTANCE, graph);
        assertThat(summary.length).isLessThan(whole.length - 10 * graph.edges.size());

        UserGraph restored = read(UserGraphSummarySerializer.INSTANCE, summary);
        assertThat(restored.edges.size()).isEqualTo(graph.edges.size());
        assertThat(restored.derivedKnown()).isTrue();
        assertThat(restored.interests.keySet()).isEqualTo(graph.interests.keySet());
        assertThat(restored.longTerm.mean).isEqualTo(graph.longTerm.mean);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> restored.edges.get("item-1"))
                .isInstanceOf(IllegalStateException.class);
        assertThat(bytes(UserGraphSummarySerializer.INSTANCE,
                UserGraphSummarySerializer.INSTANCE.copy(graph))).isEqualTo(summary);
    }

    @Test
    void edgeValuesRoundTripWithoutTheirIdAndTheSnapshotResolves() throws Exception {
        Edge edge = new Edge("item-x", T0 - 5_000);
        edge.lastMs = T0 + 86_400_000L;
        edge.weight = -1.25;
        edge.actionCounts[0] = 3;
        edge.actionCounts[7] = 1_000_000;
        edge.interestId = 4;
        edge.modelVersion = "minilm-v2";
        DataOutputSerializer out = new DataOutputSerializer(64);
        EdgeSerializer.INSTANCE.serialize(edge, out);
        byte[] value = out.getCopyOfBuffer();
        // weight 8, first time ≤ 7, span 4, mask 1, counts 1 + 3, interest 1, version 2 + 9
        assertThat(value.length).isLessThanOrEqualTo(8 + 7 + 4 + 1 + 1 + 3 + 1 + 2 + 9);

        Edge back = EdgeSerializer.INSTANCE.deserialize(new DataInputDeserializer(value));
        assertThat(back.itemId).isNull(); // the map's key
        Edge keyed = new Edge("item-x", back);
        assertThat(Arrays.asList(keyed.weight, keyed.firstMs, keyed.lastMs, keyed.interestId,
                keyed.modelVersion)).isEqualTo(Arrays.asList(edge.weight, edge.firstMs,
                edge.lastMs, edge.interestId, edge.modelVersion));
        assertThat(keyed.actionCounts).isEqualTo(edge.actionCounts);

        DataOutputSerializer snap = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(snap,
                EdgeSerializer.INSTANCE.snapshotConfiguration());
        TypeSerializerSnapshot<Edge> restored = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(snap.getCopyOfBuffer()), getClass().getClassLoader());
        assertThat(restored.restoreSerializer()).isEqualTo(EdgeSerializer.INSTANCE);
        assertThat(EdgeSerializer.INSTANCE.snapshotConfiguration()
                .resolveSchemaCompatibility(restored).isCompatibleAsIs()).isTrue();
    }
}
