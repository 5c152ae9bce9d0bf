package dev.interestgraph.delta;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.interestgraph.vector.VectorMath;
import dev.interestgraph.proto.v2.EdgeRemove;
import dev.interestgraph.proto.v2.EdgeUpsert;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.proto.v2.InterestUpsert;
import dev.interestgraph.proto.v2.ProfileChange;
import dev.interestgraph.proto.v2.Vector;
import dev.interestgraph.proto.v2.VectorChange;
import dev.interestgraph.proto.v2.VectorEncoding;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link DeltaMaterializer} on delta contract v2: what "unchanged" and "cleared" mean. */
class DeltaMaterializerV2Test {
    private static final long T = 1_700_000_000_000L;
    private static final float[] X = VectorMath.normalized(new float[] {1, 2, 3, 4});
    private static final float[] Y = VectorMath.normalized(new float[] {4, 3, 2, 1});

    private static GraphDelta.Builder delta(long seq) {
        return GraphDelta.newBuilder().setUserId("u").setEpoch(T).setSeq(seq)
                .setEventTimeMs(T + seq * 1000).addModelVersions("v1")
                .setProfile(ProfileChange.newBuilder().setLongTerm(VectorCodec.UNCHANGED)
                        .setShortTerm(VectorCodec.UNCHANGED));
    }

    private static double cosine(List<Float> a, float[] b) {
        double dot = 0;
        for (int i = 0; i < b.length; i++) {
            dot += a.get(i) * b[i];
        }
        return dot;
    }

    @Test
    void unchangedFieldsKeepWhatWasLastSentAndSetOnesReplaceIt() {
        DeltaMaterializer consumer = new DeltaMaterializer();
        consumer.apply(delta(1)
                .addEdgeUpserts(EdgeUpsert.newBuilder().setItemId("a").setWeight(0.5f)
                        .setLastMsBefore(0).setFirstMsBeforeLast(0).setInterestId(0)
                        .addActionCounts(0).addActionCounts(2).setHasVersion(true))
                .addInterestUpserts(InterestUpsert.newBuilder().setInterestId(0).setLabel("scifi")
                        .setWeight(1f).setSize(1).addTopItems("a")
                        .setCentroid(VectorCodec.encode(X, VectorEncoding.INT8, 0)))
                .setProfile(ProfileChange.newBuilder()
                        .setLongTerm(VectorCodec.encode(X, VectorEncoding.INT8, 0))
                        .setShortTerm(VectorCodec.encode(X, VectorEncoding.FLOAT16, 0)))
                .build());
        consumer.apply(delta(2)
                .addInterestUpserts(InterestUpsert.newBuilder().setInterestId(0)
                        .setLabelUnchanged(true).setTopItemsUnchanged(true).setWeight(2f)
                        .setSize(1).setCentroid(VectorCodec.UNCHANGED))
                .setProfile(ProfileChange.newBuilder().setLongTerm(VectorCodec.UNCHANGED)
                        .setShortTerm(VectorCodec.encode(Y, VectorEncoding.INT8, 0)))
                .build());

        var user = consumer.user("u").orElseThrow();
        var edge = user.edges().get("a");
        assertThat(edge.getActionCountsMap()).containsExactly(java.util.Map.entry("CLICK", 2));
        assertThat(edge.getLastMs()).isEqualTo(T + 1000);
        assertThat(edge.getModelVersion()).isEqualTo("v1");
        var interest = user.interests().get(0);
        assertThat(interest.getLabel()).isEqualTo("scifi");
        assertThat(interest.getTopItemsList()).containsExactly("a");
        assertThat(interest.getWeight()).isEqualTo(2.0);
        assertThat(cosine(interest.getCentroidList(), X)).isCloseTo(1.0, within(1e-3));
        var profile = user.profile().orElseThrow();
        assertThat(cosine(profile.getLongTermList(), X)).isCloseTo(1.0, within(1e-3));
        assertThat(cosine(profile.getShortTermList(), Y)).isCloseTo(1.0, within(1e-3));
        assertThat(profile.getModelVersion()).isEqualTo("v1");
        assertThat(consumer.invalidVectorCount()).isZero();
    }

    @Test
    void aClearedProfileAndRemovedEdgesEndAnExpiredUser() {
        DeltaMaterializer consumer = new DeltaMaterializer();
        consumer.apply(delta(1)
                .addEdgeUpserts(EdgeUpsert.newBuilder().setItemId("a").setWeight(1f))
                .setProfile(ProfileChange.newBuilder()
                        .setLongTerm(VectorCodec.encode(X, VectorEncoding.INT8, 0))
                        .setShortTerm(VectorCodec.encode(X, VectorEncoding.INT8, 0)))
                .build());
        consumer.apply(delta(2)
                .addEdgeRemoves(EdgeRemove.newBuilder().setItemId("a")
                        .setReason(EdgeRemove.Reason.EXPIRED))
                .setProfile(ProfileChange.newBuilder().setLongTerm(VectorCodec.CLEARED)
                        .setShortTerm(VectorCodec.CLEARED))
                .build());
        assertThat(consumer.user("u")).isEmpty();
        // the position is remembered: a replay of the first delta resurrects nothing
        assertThat(consumer.apply(delta(1).build())).isFalse();
    }

    @Test
    void aVectorThatSaysNothingIsCountedAndChangesNothing() {
        DeltaMaterializer consumer = new DeltaMaterializer();
        consumer.apply(delta(1)
                .addEdgeUpserts(EdgeUpsert.newBuilder().setItemId("a").setWeight(1f))
                .setProfile(ProfileChange.newBuilder()
                        .setLongTerm(VectorCodec.encode(X, VectorEncoding.INT8, 0))
                        .setShortTerm(VectorCodec.encode(X, VectorEncoding.INT8, 0)))
                .build());
        consumer.apply(delta(2).setProfile(ProfileChange.newBuilder()
                .setLongTerm(Vector.getDefaultInstance()).setShortTerm(VectorCodec.UNCHANGED))
                .build());
        assertThat(consumer.invalidVectorCount()).isEqualTo(1);
        assertThat(cosine(consumer.user("u").orElseThrow().profile().orElseThrow()
                .getLongTermList(), X)).isCloseTo(1.0, within(1e-3));
    }

    @Test
    void recordsAreReadByTheirFormatHeader() throws Exception {
        DeltaMaterializer consumer = new DeltaMaterializer();
        byte[] v2 = delta(1).addEdgeUpserts(EdgeUpsert.newBuilder().setItemId("a").setWeight(1f))
                .build().toByteArray();
        assertThat(consumer.applyRecord("2", v2)).isNotNull();
        assertThat(consumer.applyRecord("2", v2)).as("already applied").isNull();
        // no header: a v1 topic
        byte[] v1 = dev.interestgraph.proto.v1.GraphDelta.newBuilder().setUserId("w").setEpoch(T)
                .setSeq(1).addOps(dev.interestgraph.proto.v1.DeltaOp.newBuilder().setEdgeUpsert(
                        dev.interestgraph.proto.v1.EdgeUpsert.newBuilder().setItemId("b")
                                .setWeight(1)))
                .build().toByteArray();
        assertThat(consumer.applyRecord(null, v1)).isNotNull();
        assertThat(consumer.users()).containsOnlyKeys("u", "w");
        assertThatThrownBy(() -> consumer.applyRecord("3", v2))
                .isInstanceOf(InvalidProtocolBufferException.class);
    }

    @Test
    void int8AndFloat16DecodeToTheDirectionEncoded() {
        for (VectorEncoding encoding : List.of(VectorEncoding.INT8, VectorEncoding.FLOAT16)) {
            Vector vector = VectorCodec.encode(new float[] {3, -4, 0, 12}, encoding, 0);
            assertThat(vector.getChange()).isEqualTo(VectorChange.SET);
            float[] decoded = VectorCodec.decode(vector);
            assertThat(VectorMath.norm(decoded)).isCloseTo(1.0, within(1e-6));
            assertThat(decoded[1]).isCloseTo(-4f / 13, within(0.01f));
            assertThat(decoded[3]).isCloseTo(12f / 13, within(0.01f));
        }
        assertThat(VectorCodec.encode(new float[384], VectorEncoding.INT8, 0).getValues().size())
                .isEqualTo(384);
    }
}
