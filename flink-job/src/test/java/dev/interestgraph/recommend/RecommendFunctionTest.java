package dev.interestgraph.recommend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.analytics.AnalyticsOutput;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.proto.v1.AnalyticsRecord;
import dev.interestgraph.proto.v1.AnalyticsRun;
import dev.interestgraph.proto.v1.Community;
import dev.interestgraph.proto.v1.DeltaOp;
import dev.interestgraph.proto.v1.EdgeRemove;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v1.ItemNeighbors;
import dev.interestgraph.proto.v1.Neighbor;
import dev.interestgraph.proto.v1.RecommendedItem;
import dev.interestgraph.proto.v1.Recommendations;
import dev.interestgraph.proto.v1.UserErased;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The recommend operator's state and output, on Flink's keyed-broadcast harness. */
class RecommendFunctionTest {
    private static final long DAY = 86_400_000L;
    private KeyedBroadcastOperatorTestHarness<String, DeltaRecord, AnalyticsUpdate,
            RecommendationRecord> harness;

    @BeforeEach
    void open() throws Exception {
        harness = newHarness();
        harness.open();
    }

    /** A harness not yet opened, so that state can be restored into it first. */
    private static KeyedBroadcastOperatorTestHarness<String, DeltaRecord, AnalyticsUpdate,
            RecommendationRecord> newHarness() throws Exception {
        return new KeyedBroadcastOperatorTestHarness<>(new CoBroadcastWithKeyedOperator<>(
                new RecommendFunction(3, 3, 30 * DAY), List.of(RecommendFunction.ANALYTICS)),
                record -> record.userId, Types.STRING, 1, 1, 0);
    }

    private static AnalyticsUpdate neighbours(long run, String item, String... similar) {
        ItemNeighbors.Builder record = ItemNeighbors.newBuilder().setItemId(item).setRunId(run)
                .setCommunityId(-1);
        float score = 1f;
        for (String other : similar) {
            record.addNeighbors(Neighbor.newBuilder().setItemId(other).setScore(score));
            score /= 2;
        }
        return new AnalyticsUpdate(AnalyticsOutput.itemKey(item),
                AnalyticsRecord.newBuilder().setItemNeighbors(record).build().toByteArray());
    }

    private static AnalyticsUpdate marker(long run) {
        return new AnalyticsUpdate(AnalyticsOutput.RUN_KEY, AnalyticsRecord.newBuilder()
                .setRun(AnalyticsRun.newBuilder().setRunId(run)).build().toByteArray());
    }

    /** A delta of contract v2 (what the operator reads) holding the given v1-style ops. */
    private static DeltaRecord delta(String user, long seq, DeltaOp... ops) {
        long atMs = 10 * DAY + seq;
        dev.interestgraph.proto.v2.GraphDelta.Builder delta =
                dev.interestgraph.proto.v2.GraphDelta.newBuilder().setUserId(user).setEpoch(1)
                        .setSeq(seq).setEventTimeMs(atMs);
        for (DeltaOp op : ops) {
            switch (op.getOpCase()) {
                case EDGE_UPSERT -> delta.addEdgeUpserts(
                        dev.interestgraph.proto.v2.EdgeUpsert.newBuilder()
                                .setItemId(op.getEdgeUpsert().getItemId())
                                .setWeight((float) op.getEdgeUpsert().getWeight())
                                .setLastMsBefore(atMs - op.getEdgeUpsert().getLastMs()));
                case EDGE_REMOVE -> delta.addEdgeRemoves(
                        dev.interestgraph.proto.v2.EdgeRemove.newBuilder()
                                .setItemId(op.getEdgeRemove().getItemId())
                                .setReasonValue(op.getEdgeRemove().getReasonValue()));
                case USER_ERASED -> delta.setUserErased(true);
                default -> throw new IllegalArgumentException("not used here: " + op);
            }
        }
        return DeltaRecord.of(delta.build());
    }

    private static DeltaOp edge(String item, double weight) {
        return DeltaOp.newBuilder().setEdgeUpsert(EdgeUpsert.newBuilder().setItemId(item)
                .setWeight(weight).setLastMs(10 * DAY)).build();
    }

    private long usersInState() {
        try (java.util.stream.Stream<Object> keys = harness.getOperator().getKeyedStateBackend()
                .getKeys(RecommendFunction.EDGES.getName(), VoidNamespace.INSTANCE)) {
            return keys.count();
        }
    }

    private List<RecommendationRecord> drain() {
        List<RecommendationRecord> out = new ArrayList<>();
        for (Object o : harness.getOutput()) {
            if (o instanceof StreamRecord) {
                out.add((RecommendationRecord) ((StreamRecord<?>) o).getValue());
            }
        }
        harness.getOutput().clear();
        return out;
    }

    private static List<String> items(RecommendationRecord record) throws Exception {
        List<String> items = new ArrayList<>();
        for (RecommendedItem item : Recommendations.parseFrom(record.payload).getItemsList()) {
            items.add(item.getItemId());
        }
        return items;
    }

    @Test
    void nothingIsEmittedBeforeAnyAnalyticsButEdgesAreKept() throws Exception {
        harness.processElement(delta("u", 1, edge("a", 1.0)), 0);
        assertThat(drain()).isEmpty();
        assertThat(usersInState()).isEqualTo(1);
    }

    @Test
    void aCompletedRunRefreshesEveryUserAndDeltasUseTheNeighbours() throws Exception {
        harness.processElement(delta("u", 1, edge("a", 1.0)), 0);
        harness.processElement(delta("v", 1, edge("b", 1.0)), 0);
        harness.processBroadcastElement(neighbours(5, "a", "x", "y"), 0);
        drain(); // the neighbours record alone already serves later deltas
        harness.processBroadcastElement(neighbours(5, "b", "z"), 0);
        harness.processBroadcastElement(marker(5), 0);
        List<RecommendationRecord> refreshed = drain();
        assertThat(refreshed).extracting(r -> r.userId).containsExactlyInAnyOrder("u", "v");
        for (RecommendationRecord r : refreshed) {
            assertThat(items(r)).containsExactlyElementsOf(
                    r.userId.equals("u") ? List.of("x", "y") : List.of("z"));
            assertThat(Recommendations.parseFrom(r.payload).getAnalyticsRunId()).isEqualTo(5);
        }

        // u now also holds x: x is no longer a candidate, b's neighbour z is
        harness.processElement(delta("u", 2, edge("x", 1.0), edge("b", 1.0)), 0);
        List<RecommendationRecord> next = drain();
        assertThat(next).hasSize(1);
        assertThat(items(next.get(0))).containsExactly("z", "y");
    }

    @Test
    void recordsOfAnOlderRunAreDroppedWhenANewRunCompletes() throws Exception {
        harness.processBroadcastElement(neighbours(5, "a", "old"), 0);
        harness.processBroadcastElement(neighbours(5, "gone", "old"), 0);
        harness.processBroadcastElement(marker(5), 0);
        harness.processBroadcastElement(neighbours(6, "a", "new"), 0);
        harness.processBroadcastElement(marker(6), 0);
        assertThat(harness.getBroadcastState(RecommendFunction.ANALYTICS)
                .contains(AnalyticsOutput.itemKey("gone"))).isFalse();
        harness.processElement(delta("u", 1, edge("gone", 1.0), edge("a", 1.0)), 0);
        assertThat(items(drain().get(0))).containsExactly("new");
    }

    @Test
    void coldStartUsersGetTheirCommunitysPopularItems() throws Exception {
        ItemNeighbors a = ItemNeighbors.newBuilder().setItemId("a").setRunId(5)
                .setCommunityId(3).build();
        harness.processBroadcastElement(new AnalyticsUpdate(AnalyticsOutput.itemKey("a"),
                AnalyticsRecord.newBuilder().setItemNeighbors(a).build().toByteArray()), 0);
        harness.processBroadcastElement(new AnalyticsUpdate(AnalyticsOutput.communityKey(3),
                AnalyticsRecord.newBuilder().setCommunity(Community.newBuilder()
                        .setCommunityId(3).setRunId(5).setLabel("space")
                        .addPopularItems("a").addPopularDegrees(9)
                        .addPopularItems("p").addPopularDegrees(6)).build().toByteArray()), 0);
        harness.processBroadcastElement(marker(5), 0);
        harness.processElement(delta("u", 1, edge("a", 1.0)), 0);
        RecommendationRecord record = drain().get(0);
        RecommendedItem top = Recommendations.parseFrom(record.payload).getItems(0);
        assertThat(top.getItemId()).isEqualTo("p");
        assertThat(top.getSource()).isEqualTo(RecommendedItem.Source.COMMUNITY);
        assertThat(top.getCommunityId()).isEqualTo(3);
    }

    @Test
    void erasureEmitsATombstoneAndLeavesNoState() throws Exception {
        harness.processBroadcastElement(neighbours(5, "a", "x"), 0);
        harness.processElement(delta("u", 1, edge("a", 1.0)), 0);
        drain();
        harness.processElement(delta("u", 2,
                DeltaOp.newBuilder().setUserErased(UserErased.getDefaultInstance()).build()), 0);
        List<RecommendationRecord> out = drain();
        assertThat(out).hasSize(1);
        assertThat(out.get(0).payload).isNull();
        assertThat(usersInState()).isZero();
    }

    @Test
    void expiryRemovingEveryEdgeEmitsATombstone() throws Exception {
        harness.processBroadcastElement(neighbours(5, "a", "x"), 0);
        harness.processElement(delta("u", 1, edge("a", 1.0)), 0);
        drain();
        harness.processElement(delta("u", 2, DeltaOp.newBuilder().setEdgeRemove(
                EdgeRemove.newBuilder().setItemId("a").setReason(EdgeRemove.Reason.EXPIRED))
                .build()), 0);
        assertThat(drain().get(0).payload).isNull();
        assertThat(usersInState()).isZero();
    }

    @Test
    void snapshotAndRestoreKeepEdgesAndBroadcastState() throws Exception {
        harness.processBroadcastElement(neighbours(5, "a", "x"), 0);
        harness.processElement(delta("u", 1, edge("a", 1.0)), 0);
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();

        harness = newHarness();
        harness.initializeState(snapshot);
        harness.open();
        harness.processElement(delta("u", 2, edge("b", 0.5)), 0);
        RecommendationRecord record = drain().get(0);
        assertThat(items(record)).containsExactly("x");
        assertThat(usersInState()).isEqualTo(1);
    }
}
