package dev.interestgraph.usergraph;

import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.vector.ScaledInt8;
import dev.interestgraph.graph.UserGraph;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.graph.UserGraph.DecayedMean;
import dev.interestgraph.graph.UserGraph.Edge;
import dev.interestgraph.graph.UserGraph.Interest;
import java.io.IOException;
import java.util.Random;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class UserGraphSerializerTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final UserGraphSerializer SERIALIZER = UserGraphSerializer.INSTANCE;

    private static byte[] serialize(UserGraph graph) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        SERIALIZER.serialize(graph, out);
        return out.getCopyOfBuffer();
    }

    private static UserGraph deserialize(byte[] bytes) throws IOException {
        DataInputDeserializer in = new DataInputDeserializer(bytes);
        UserGraph graph = SERIALIZER.deserialize(in);
        assertThat(in.available()).as("bytes left after deserialize").isZero();
        return graph;
    }

    private static short[] vector(Random random, int dims) {
        float[] values = new float[dims];
        for (int i = 0; i < dims; i++) {
            values[i] = (float) random.nextGaussian() * 0.05f;
        }
        return HalfFloats.fromFloats(values);
    }

    private static UserGraph sampleGraph() {
        Random random = new Random(3);
        UserGraph graph = new UserGraph();
        graph.epoch = T0 - 86_400_000L;
        graph.seq = 300;
        graph.lastEventMs = T0 + 5;
        graph.maintenanceTimerMs = T0 + 86_400_000L;
        graph.nextInterestId = 7;

        Edge a = new Edge("item-a", T0 - 10_000);
        a.weight = 1.75;
        a.lastMs = T0;
        for (int i = 0; i < a.actionCounts.length; i++) {
            a.actionCounts[i] = i == 3 ? 1_000_000 : i + 1; // every action, one large count
        }
        a.interestId = 2;
        a.modelVersion = "minilm-v2";
        Edge b = new Edge("item-ü-😀", T0); // non-ASCII id, firstMs == lastMs
        b.weight = -0.5;
        b.actionCounts[7] = 2; // only DISLIKE, the highest bit of the mask
        b.interestId = -1;
        b.modelVersion = "";
        Edge c = new Edge("item-c", 0L); // epoch zero first time, long gap
        c.lastMs = T0;
        c.weight = 0.0;
        c.interestId = Integer.MIN_VALUE;
        graph.edges.put(a);
        graph.edges.put(b);
        graph.edges.put(c);

        short[] onGrid = vector(random, 8);
        DecayedMean centroid = new DecayedMean(onGrid, 3.25, T0, "minilm-v2");
        centroid.scale = ScaledInt8.roundInPlace(onGrid); // as the updater keeps centroids
        centroid.sent(T0 - 40_000);
        Interest jazz = new Interest(2, centroid);
        jazz.label = "jazz · bebop";
        jazz.terms.put("jazz", 2.5f);
        jazz.terms.put("bebop", 0.125f);
        Interest empty = new Interest(6, new DecayedMean(new short[0], 0.0, 0L, ""));
        graph.interests.put(jazz.id, jazz);
        graph.interests.put(empty.id, empty);

        graph.longTerm = new DecayedMean(vector(random, 8), 10.0, T0, "minilm-v2");
        graph.shortTerm = null;
        return graph;
    }

    private static void assertSameMean(DecayedMean actual, DecayedMean expected) {
        if (expected == null) {
            assertThat(actual).isNull();
            return;
        }
        assertThat(actual).isNotNull().isNotSameAs(expected);
        assertThat(actual.mean).isEqualTo(expected.mean);
        assertThat(actual.weight).isEqualTo(expected.weight);
        assertThat(actual.lastMs).isEqualTo(expected.lastMs);
        assertThat(actual.modelVersion).isEqualTo(expected.modelVersion);
        assertThat(Float.floatToIntBits(actual.scale)).isEqualTo(Float.floatToIntBits(expected.scale));
        assertThat(Float.floatToIntBits(actual.sentAngle))
                .isEqualTo(Float.floatToIntBits(expected.sentAngle));
        assertThat(actual.sentMs).isEqualTo(expected.sentMs);
    }

    /**
     * {@link #assertSameGraph} for a graph restored from a format before the int8 grid (5): the
     * same halves, each mean's grid unknown (NaN) until the updater next changes it.
     */
    static void assertSameGraphOffTheGrid(UserGraph actual, UserGraph expected) {
        for (Interest interest : actual.interests.values()) {
            assertThat(interest.centroid.scale).isNaN();
            interest.centroid.scale = expected.interests.get(interest.id).centroid.scale;
        }
        assertSameGraph(actual, expected);
        for (Interest interest : actual.interests.values()) {
            interest.centroid.scale = Float.NaN; // as restored: the caller may go on with it
        }
    }

    static void assertSameGraph(UserGraph actual, UserGraph expected) {
        assertThat(actual.epoch).isEqualTo(expected.epoch);
        assertThat(actual.seq).isEqualTo(expected.seq);
        assertThat(actual.lastEventMs).isEqualTo(expected.lastEventMs);
        assertThat(actual.maintenanceTimerMs).isEqualTo(expected.maintenanceTimerMs);
        assertThat(actual.nextInterestId).isEqualTo(expected.nextInterestId);
        assertThat(actual.edges.keySet()).containsExactlyElementsOf(expected.edges.keySet());
        for (Edge e : expected.edges.values()) {
            Edge a = actual.edges.get(e.itemId);
            assertThat(a).as(e.itemId).isNotSameAs(e);
            assertThat(a.itemId).isEqualTo(e.itemId);
            assertThat(a.weight).as(e.itemId).isEqualTo(e.weight);
            assertThat(a.firstMs).as(e.itemId).isEqualTo(e.firstMs);
            assertThat(a.lastMs).as(e.itemId).isEqualTo(e.lastMs);
            assertThat(a.actionCounts).as(e.itemId).isEqualTo(e.actionCounts);
            assertThat(a.interestId).as(e.itemId).isEqualTo(e.interestId);
            assertThat(a.modelVersion).as(e.itemId).isEqualTo(e.modelVersion);
        }
        assertThat(actual.interests.keySet()).containsExactlyElementsOf(expected.interests.keySet());
        for (Interest i : expected.interests.values()) {
            Interest a = actual.interests.get(i.id);
            assertThat(a.id).isEqualTo(i.id);
            assertThat(a.label).isEqualTo(i.label);
            assertThat(a.terms).containsExactlyEntriesOf(i.terms);
            assertSameMean(a.centroid, i.centroid);
        }
        assertSameMean(actual.longTerm, expected.longTerm);
        assertSameMean(actual.shortTerm, expected.shortTerm);
        assertThat(actual.calibrationVersion).isEqualTo(expected.calibrationVersion);
        assertThat(actual.calibration).isEqualTo(expected.calibration);
    }

    @Test
    void roundTripPreservesEveryField() throws Exception {
        UserGraph graph = sampleGraph();

        assertSameGraph(deserialize(serialize(graph)), graph);
    }

    @Test
    void roundTripOfEmptyGraphKeepsMinValueTimesAndNullProfiles() throws Exception {
        UserGraph graph = new UserGraph();

        UserGraph restored = deserialize(serialize(graph));

        assertThat(restored.lastEventMs).isEqualTo(Long.MIN_VALUE);
        assertThat(restored.maintenanceTimerMs).isEqualTo(Long.MIN_VALUE);
        assertThat(restored.isEmpty()).isTrue();
        assertSameGraph(restored, graph);
    }

    @Test
    void roundTripWithBothProfilesAndNegativeEpoch() throws Exception {
        UserGraph graph = sampleGraph();
        graph.epoch = -1L;
        graph.shortTerm = new DecayedMean(vector(new Random(9), 8), 0.5, T0 - 1, "other");

        assertSameGraph(deserialize(serialize(graph)), graph);
    }

    @Test
    void roundTripKeepsTheCosineCalibrationOfTheGraphsVersion() throws Exception {
        UserGraph graph = sampleGraph();
        graph.calibrationVersion = "3";
        graph.calibration = dev.interestgraph.vector.CosineCalibration.of(0.367, 0.137, 0.078, 0.1);

        UserGraph restored = deserialize(serialize(graph));
        assertSameGraph(restored, graph);
        assertThat(restored.calibration).isNotNull();
        // the summary (format 2) carries it too
        UserGraph summary = UserGraphSummarySerializer.INSTANCE.copy(graph);
        assertThat(summary.calibration).isEqualTo(graph.calibration);
        assertThat(summary.calibrationVersion).isEqualTo("3");
    }

    @Test
    void formatThreeWithoutTheCalibrationIsStillRead() throws Exception {
        UserGraph graph = sampleGraph();
        DataOutputSerializer fourOut = new DataOutputSerializer(256);
        UserGraphSerializer.serialize(graph, fourOut, 4);
        byte[] four = fourOut.getCopyOfBuffer();
        // format 4 is format 3 and a calibration flag (false: none) at the end
        assertThat(four[four.length - 1]).isZero();
        byte[] three = java.util.Arrays.copyOf(four, four.length - 1);
        three[0] = 3;
        UserGraph restored = deserialize(three);
        assertSameGraphOffTheGrid(restored, graph);
        assertThat(restored.calibration).isNull();

        org.apache.flink.core.memory.DataOutputSerializer out =
                new org.apache.flink.core.memory.DataOutputSerializer(256);
        UserGraphSummarySerializer.serialize(graph, out, 2);
        byte[] summaryTwo = out.getCopyOfBuffer();
        assertThat(summaryTwo[0]).isEqualTo((byte) 2);
        byte[] summaryOne = java.util.Arrays.copyOf(summaryTwo, summaryTwo.length - 1);
        summaryOne[0] = 1;
        UserGraph fromOne = UserGraphSummarySerializer.INSTANCE.deserialize(
                new org.apache.flink.core.memory.DataInputDeserializer(summaryOne));
        assertThat(fromOne.interests.keySet()).isEqualTo(graph.interests.keySet());
        assertThat(fromOne.edges.size()).isEqualTo(graph.edges.size());
        assertThat(fromOne.calibration).isNull();
    }

    /**
     * A centroid on its int8 grid is stored as a byte per component and comes back as the same
     * halves; the same graph in format 4 (today's savepoints) restores with the same halves,
     * off the grid's bookkeeping (scale unknown) until the updater next changes it.
     */
    @Test
    void aCentroidOnItsGridTakesAByteAComponentAndFormat4StillRestores() throws Exception {
        UserGraph graph = sampleGraph();
        DecayedMean centroid = graph.interests.get(2).centroid;
        assertThat(centroid.scale).isNotNaN();
        byte[] current = serialize(graph);
        DataOutputSerializer out = new DataOutputSerializer(1024);
        UserGraphSerializer.serialize(graph, out, 4);
        byte[] old = out.getCopyOfBuffer();
        assertThat(old[0]).isEqualTo((byte) 4);
        // 8 halves (16 bytes) against 8 codes and a scale (10); times as varints
        assertThat(current.length).isLessThanOrEqualTo(old.length - 6 - 3 * 8);
        assertSameGraph(deserialize(current), graph);

        UserGraph restored = deserialize(old);
        DecayedMean back = restored.interests.get(2).centroid;
        assertThat(back.mean).isEqualTo(centroid.mean);
        assertThat(back.scale).isNaN();
        assertSameGraphOffTheGrid(restored, graph);
    }

    /**
     * Labels made of the interest's own terms are stored as the terms' positions (a few bytes);
     * any other label as its text; every one comes back exactly.
     */
    @Test
    void labelsRoundTripWhetherMadeOfTermsOrNot() throws Exception {
        String[] labels = {"jazz, bebop", "bebop", "rock, pop, jazz", "jazz, bebop #2", "",
            "jazz,bebop", "jazz, swing", "rock, pop", "jazz, bebop, jazz, bebop"};
        int shortest = Integer.MAX_VALUE;
        int longest = 0;
        for (String label : labels) {
            UserGraph graph = sampleGraph();
            Interest jazz = graph.interests.get(2);
            jazz.terms.put("rock, pop", 1f); // a term that contains the separator
            jazz.label = label;
            byte[] bytes = serialize(graph);
            assertThat(deserialize(bytes).interests.get(2).label).as(label).isEqualTo(label);
            if (label.equals("jazz, bebop")) {
                shortest = bytes.length;
            } else if (label.equals("jazz, swing")) {
                longest = bytes.length;
            }
        }
        // a count and two positions against a zero, a length (2 bytes) and 11 characters
        assertThat(shortest).isEqualTo(longest - 11);
    }

    @Test
    void serializedFormStartsWithTheFormatVersion() throws Exception {
        assertThat(serialize(new UserGraph())[0]).isEqualTo((byte) 5);
    }

    @Test
    void unknownFormatVersionIsRejected() throws Exception {
        byte[] bytes = serialize(sampleGraph());
        bytes[0] = 6;

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> deserialize(bytes))
                .isInstanceOf(IOException.class).hasMessageContaining("version 6");
    }

    @Test
    void typicalUserWith50EdgesFiveInterestsAndTwoProfilesFitsIn8KiB() throws Exception {
        UserGraph graph = typicalUser("1"); // an Open Inference Protocol model_version

        byte[] bytes = serialize(graph);

        assertThat(bytes.length).isLessThanOrEqualTo(8_192);
        assertSameGraph(deserialize(bytes), graph);
    }

    @Test
    void typicalUserFitsIn8KiBWithADescriptiveModelVersion() throws Exception {
        assertThat(serialize(typicalUser("minilm-l6-v2")).length).isLessThanOrEqualTo(8_192);
    }

    private static UserGraph typicalUser(String model) {
        Random random = new Random(1);
        UserGraph graph = new UserGraph();
        graph.epoch = T0;
        graph.seq = 1234;
        graph.lastEventMs = T0 + 1_000_000;
        graph.maintenanceTimerMs = T0 + 86_400_000L;
        graph.nextInterestId = 12;
        for (int i = 0; i < 50; i++) {
            Edge edge = new Edge(String.format("item-%06d", random.nextInt(1_000_000)),
                    T0 + random.nextInt(1_000_000));
            edge.lastMs = edge.firstMs + random.nextInt(30) * 86_400_000L;
            edge.weight = random.nextDouble();
            edge.actionCounts[random.nextInt(3)] = 1 + random.nextInt(5);
            edge.actionCounts[4] = random.nextInt(2);
            edge.interestId = random.nextInt(5);
            edge.modelVersion = model;
            graph.edges.put(edge);
        }
        for (int k = 0; k < 5; k++) {
            Interest interest = new Interest(k,
                    new DecayedMean(vector(random, 384), random.nextDouble() * 10, T0, model));
            interest.label = "genre" + k + " · drama";
            for (String term : new String[] {"drama", "comedy", "thriller", "sci-fi"}) {
                interest.terms.put(term + k, random.nextFloat());
            }
            graph.interests.put(k, interest);
        }
        graph.longTerm = new DecayedMean(vector(random, 384), 40.0, T0, model);
        graph.shortTerm = new DecayedMean(vector(random, 384), 3.0, T0, model);
        return graph;
    }

    @Test
    void copyIsEqualButIndependent() {
        UserGraph graph = sampleGraph();

        UserGraph copy = SERIALIZER.copy(graph);
        assertSameGraph(copy, graph);

        copy.edges.get("item-a").weight = 99;
        copy.edges.get("item-a").actionCounts[0] = 42;
        copy.interests.get(2).terms.put("new", 1f);
        copy.interests.get(2).centroid.mean[0] = 123;
        copy.longTerm.mean[1] = 77;
        copy.edges.remove("item-c");
        assertThat(graph.edges.get("item-a").weight).isEqualTo(1.75);
        assertThat(graph.edges.get("item-a").actionCounts[0]).isEqualTo(1);
        assertThat(graph.interests.get(2).terms).doesNotContainKey("new");
        assertThat(graph.interests.get(2).centroid.mean[0]).isNotEqualTo((short) 123);
        assertThat(graph.longTerm.mean[1]).isNotEqualTo((short) 77);
        assertThat(graph.edges.asMap()).containsKey("item-c");
        assertSameGraph(SERIALIZER.copy(graph, new UserGraph()), graph);
    }

    @Test
    void copyBetweenViewsReproducesTheBytes() throws Exception {
        byte[] bytes = serialize(sampleGraph());
        DataOutputSerializer target = new DataOutputSerializer(64);

        SERIALIZER.copy(new DataInputDeserializer(bytes), target);

        assertThat(target.getCopyOfBuffer()).isEqualTo(bytes);
    }

    @Test
    void serializerIsMutableTypeWithVariableLength() {
        assertThat(SERIALIZER.isImmutableType()).isFalse();
        assertThat(SERIALIZER.getLength()).isEqualTo(-1);
        assertThat(SERIALIZER.createInstance()).isNotNull();
        assertThat(SERIALIZER.duplicate()).isSameAs(SERIALIZER);
    }

    @Test
    void snapshotRestoresACompatibleSerializer() throws Exception {
        TypeSerializerSnapshot<UserGraph> snapshot = SERIALIZER.snapshotConfiguration();
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);

        TypeSerializerSnapshot<UserGraph> restored = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()),
                getClass().getClassLoader());

        assertThat(restored).isInstanceOf(UserGraphSerializer.Snapshot.class);
        TypeSerializer<UserGraph> restoredSerializer = restored.restoreSerializer();
        assertThat(restoredSerializer).isInstanceOf(UserGraphSerializer.class);
        TypeSerializerSchemaCompatibility<UserGraph> compatibility =
                SERIALIZER.snapshotConfiguration().resolveSchemaCompatibility(restored);
        assertThat(compatibility.isCompatibleAsIs()).isTrue();
        UserGraph graph = sampleGraph();
        DataOutputSerializer data = new DataOutputSerializer(256);
        SERIALIZER.serialize(graph, data);
        assertSameGraph(restoredSerializer.deserialize(
                new DataInputDeserializer(data.getCopyOfBuffer())), graph);
    }
}
