package dev.interestgraph.delta;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.proto.v1.DeltaOp;
import dev.interestgraph.proto.v1.EdgeRemove;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v1.GraphDelta;
import dev.interestgraph.proto.v1.InterestRemove;
import dev.interestgraph.proto.v1.InterestUpsert;
import dev.interestgraph.proto.v1.ProfileUpdate;
import dev.interestgraph.proto.v1.UserErased;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeltaMaterializerTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final String USER = "u-1";

    private final DeltaMaterializer materializer = new DeltaMaterializer();

    private static GraphDelta delta(long epoch, long seq, DeltaOp... ops) {
        return GraphDelta.newBuilder().setUserId(USER).setEpoch(epoch).setSeq(seq)
                .setEventTimeMs(epoch + seq * 1000).addAllOps(List.of(ops)).build();
    }

    private static DeltaOp edge(String itemId, double weight) {
        return DeltaOp.newBuilder().setEdgeUpsert(EdgeUpsert.newBuilder().setItemId(itemId)
                .setWeight(weight).putActionCounts("CLICK", 1).setFirstMs(T0).setLastMs(T0)
                .setInterestId(0).setModelVersion("v1")).build();
    }

    private static DeltaOp removeEdge(String itemId, EdgeRemove.Reason reason) {
        return DeltaOp.newBuilder().setEdgeRemove(EdgeRemove.newBuilder().setItemId(itemId)
                .setReason(reason)).build();
    }

    private static DeltaOp interest(int id, String label) {
        return DeltaOp.newBuilder().setInterestUpsert(InterestUpsert.newBuilder().setInterestId(id)
                .setLabel(label).setWeight(1.0).setSize(1).addTopItems("i-1")
                .addCentroid(1f).addCentroid(0f).setModelVersion("v1")).build();
    }

    private static DeltaOp removeInterest(int id) {
        return DeltaOp.newBuilder().setInterestRemove(InterestRemove.newBuilder()
                .setInterestId(id)).build();
    }

    private static DeltaOp profile() {
        return DeltaOp.newBuilder().setProfileUpdate(ProfileUpdate.newBuilder().addLongTerm(1f)
                .addShortTerm(1f).setModelVersion("v1")).build();
    }

    private static DeltaOp erased() {
        return DeltaOp.newBuilder().setUserErased(UserErased.getDefaultInstance()).build();
    }

    @Test
    void appliesEdgeInterestAndProfileOps() {
        assertThat(materializer.apply(delta(T0, 1, edge("i-1", 0.3), edge("i-2", 0.1),
                interest(0, "jazz"), profile()))).isTrue();
        assertThat(materializer.apply(delta(T0, 2, edge("i-1", 0.6),
                removeEdge("i-2", EdgeRemove.Reason.DECAYED), interest(1, "rock"),
                removeInterest(0)))).isTrue();

        DeltaMaterializer.UserView view = materializer.user(USER).orElseThrow();
        assertThat(view.epoch()).isEqualTo(T0);
        assertThat(view.seq()).isEqualTo(2);
        assertThat(view.eventTimeMs()).isEqualTo(T0 + 2000);
        assertThat(view.edges()).containsOnlyKeys("i-1");
        assertThat(view.edges().get("i-1").getWeight()).isEqualTo(0.6);
        assertThat(view.interests()).containsOnlyKeys(1);
        assertThat(view.interests().get(1).getLabel()).isEqualTo("rock");
        assertThat(view.profile()).isPresent();
        assertThat(materializer.appliedCount()).isEqualTo(2);
        assertThat(materializer.skippedCount()).isZero();
    }

    @Test
    void reapplyingTheSameDeltaIsSkippedAndChangesNothing() {
        GraphDelta first = delta(T0, 1, edge("i-1", 0.3));
        materializer.apply(first);
        materializer.apply(delta(T0, 2, edge("i-1", 0.5)));

        assertThat(materializer.apply(delta(T0, 2, edge("i-1", 0.9), edge("i-9", 1)))).isFalse();
        assertThat(materializer.apply(first)).isFalse();

        DeltaMaterializer.UserView view = materializer.user(USER).orElseThrow();
        assertThat(view.seq()).isEqualTo(2);
        assertThat(view.edges()).containsOnlyKeys("i-1");
        assertThat(view.edges().get("i-1").getWeight()).isEqualTo(0.5);
        assertThat(materializer.appliedCount()).isEqualTo(2);
        assertThat(materializer.skippedCount()).isEqualTo(2);
    }

    @Test
    void deltaOfOlderEpochIsSkipped() {
        materializer.apply(delta(T0 + 100, 1, edge("new", 1)));

        assertThat(materializer.apply(delta(T0, 5, edge("old", 1)))).isFalse();

        assertThat(materializer.user(USER).orElseThrow().edges()).containsOnlyKeys("new");
    }

    @Test
    void greaterEpochStartsFromAnEmptyGraph() {
        materializer.apply(delta(T0, 1, edge("i-1", 0.3), interest(0, "jazz"), profile()));
        materializer.apply(delta(T0, 2, edge("i-2", 0.3)));

        assertThat(materializer.apply(delta(T0 + 1000, 1, edge("i-3", 0.1)))).isTrue();

        DeltaMaterializer.UserView view = materializer.user(USER).orElseThrow();
        assertThat(view.epoch()).isEqualTo(T0 + 1000);
        assertThat(view.seq()).isEqualTo(1);
        assertThat(view.edges()).containsOnlyKeys("i-3");
        assertThat(view.interests()).isEmpty();
        assertThat(view.profile()).isEmpty();
    }

    @Test
    void usersAreIndependent() {
        materializer.apply(delta(T0, 1, edge("i-1", 0.3)));
        GraphDelta other = GraphDelta.newBuilder().setUserId("u-2").setEpoch(T0).setSeq(1)
                .addOps(edge("i-2", 0.2)).build();

        assertThat(materializer.apply(other)).isTrue();

        assertThat(materializer.users()).containsOnlyKeys(USER, "u-2");
        assertThat(materializer.user("u-2").orElseThrow().edges()).containsOnlyKeys("i-2");
    }

    @Test
    void userErasedRemovesTheUserAndReplayOfOlderDeltasDoesNotResurrectThem() {
        GraphDelta d1 = delta(T0, 1, edge("i-1", 0.3), interest(0, "jazz"), profile());
        GraphDelta d2 = delta(T0, 2, edge("i-2", 0.3));
        materializer.apply(d1);
        materializer.apply(d2);

        assertThat(materializer.apply(delta(T0, 3, erased()))).isTrue();
        assertThat(materializer.user(USER)).isEmpty();
        assertThat(materializer.users()).isEmpty();

        assertThat(materializer.apply(d1)).isFalse();
        assertThat(materializer.apply(d2)).isFalse();
        assertThat(materializer.apply(delta(T0, 3, erased()))).isFalse();
        assertThat(materializer.user(USER)).isEmpty();
        assertThat(materializer.skippedCount()).isEqualTo(3);
    }

    @Test
    void laterEpochAfterErasureIsApplied() {
        materializer.apply(delta(T0, 1, edge("i-1", 0.3)));
        materializer.apply(delta(T0, 2, erased()));

        assertThat(materializer.apply(delta(T0 + 5000, 1, edge("i-7", 0.4)))).isTrue();

        DeltaMaterializer.UserView view = materializer.user(USER).orElseThrow();
        assertThat(view.epoch()).isEqualTo(T0 + 5000);
        assertThat(view.edges()).containsOnlyKeys("i-7");
        assertThat(materializer.apply(delta(T0, 1, edge("i-1", 0.3)))).isFalse();
    }

    @Test
    void erasureOfUnknownUserIsRememberedAgainstReplay() {
        assertThat(materializer.apply(delta(T0, 1, erased()))).isTrue();

        assertThat(materializer.apply(delta(T0, 1, edge("i-1", 1)))).isFalse();
        assertThat(materializer.user(USER)).isEmpty();
    }

    @Test
    void expiryRemovingAllEdgesAndInterestsLeavesNoUserView() {
        materializer.apply(delta(T0, 1, edge("i-1", 0.3), edge("i-2", 0.3), interest(0, "jazz")));

        assertThat(materializer.apply(delta(T0, 2, removeEdge("i-1", EdgeRemove.Reason.EXPIRED),
                removeEdge("i-2", EdgeRemove.Reason.EXPIRED), removeInterest(0)))).isTrue();

        assertThat(materializer.user(USER)).isEmpty();
        assertThat(materializer.apply(delta(T0, 1, edge("i-1", 0.3)))).isFalse();
        assertThat(materializer.apply(delta(T0 + 10, 1, edge("i-3", 0.3)))).isTrue();
        assertThat(materializer.user(USER).orElseThrow().edges()).containsOnlyKeys("i-3");
    }

    @Test
    void expiryOfUserWithProfileLeavesNoUserView() {
        materializer.apply(delta(T0, 1, edge("i-1", 0.3), interest(0, "jazz"), profile()));

        // what GraphUpdater.expire emits: EXPIRED edge removals, interest removals and an empty
        // ProfileUpdate, which clears the profile
        materializer.apply(delta(T0, 2, removeEdge("i-1", EdgeRemove.Reason.EXPIRED),
                removeInterest(0),
                DeltaOp.newBuilder().setProfileUpdate(ProfileUpdate.getDefaultInstance()).build()));

        assertThat(materializer.user(USER)).isEmpty();
    }

    @Test
    void unknownOpFromNewerProducerIsIgnored() {
        GraphDelta withEmptyOp = delta(T0, 1, edge("i-1", 0.3), DeltaOp.getDefaultInstance());

        assertThat(materializer.apply(withEmptyOp)).isTrue();

        assertThat(materializer.user(USER).orElseThrow().edges()).containsOnlyKeys("i-1");
    }

    @Test
    void viewMapsAreReadOnly() {
        materializer.apply(delta(T0, 1, edge("i-1", 0.3)));
        DeltaMaterializer.UserView view = materializer.user(USER).orElseThrow();

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> view.edges().clear())
                .isInstanceOf(UnsupportedOperationException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> materializer.users().clear())
                .isInstanceOf(UnsupportedOperationException.class);
    }
}
