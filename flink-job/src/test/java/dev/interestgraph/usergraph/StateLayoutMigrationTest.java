package dev.interestgraph.usergraph;

import static dev.interestgraph.usergraph.GraphTestSupport.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.graph.UserGraph.Edge;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackend;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 16's state layout migration: a snapshot whose users' graphs are in the layout before it
 * (the whole graph, edges included, in the one value {@code user-graph}, derived fields not
 * stored) restores, each user is split into the summary and the per-edge map on first access,
 * and the deltas continue exactly as the run that never changed layout.
 */
class StateLayoutMigrationTest {
    private static final String[] USERS = {"u0", "u1", "u2", "u3"};

    private static KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord>
            open(String backend, OperatorSubtaskState restoreFrom) throws Exception {
        var h = unopened(new Configuration());
        if (backend.equals("rocksdb")) {
            h.setStateBackend(new EmbeddedRocksDBStateBackend());
        }
        if (restoreFrom != null) {
            h.initializeState(restoreFrom);
        }
        h.open();
        return h;
    }

    /**
     * Rewrites every user's graph in the old layout, as the operator before issue 16 stored it:
     * the whole graph, derived fields unknown (a new object: format 2 did not store them), in
     * the old descriptor; the new states cleared. Timers and pending events are the same in
     * both layouts and stay.
     */
    private static void toOldLayout(KeyedStateBackend<String> backend) throws Exception {
        for (String user : USERS) {
            backend.setCurrentKey(user);
            UserGraph whole = UserGraphFunction.graphOf(backend);
            assertThat(whole).as(user).isNotNull();
            UserGraph old = new UserGraph();
            old.epoch = whole.epoch;
            old.seq = whole.seq;
            old.lastEventMs = whole.lastEventMs;
            old.maintenanceTimerMs = whole.maintenanceTimerMs;
            old.nextInterestId = whole.nextInterestId;
            whole.edges.values().forEach(old.edges::put);
            old.interests.putAll(whole.interests);
            old.longTerm = whole.longTerm;
            old.shortTerm = whole.shortTerm;
            assertThat(old.derivedKnown()).isFalse();
            state(backend).legacy().update(old);
            state(backend).summary().clear();
            backend.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                    UserGraphState.edgesDescriptor()).clear();
        }
    }

    private record States(org.apache.flink.api.common.state.ValueState<UserGraph> legacy,
            org.apache.flink.api.common.state.ValueState<UserGraph> summary) {}

    private static States state(KeyedStateBackend<String> backend) throws Exception {
        return new States(
                backend.getPartitionedState(VoidNamespace.INSTANCE,
                        VoidNamespaceSerializer.INSTANCE, UserGraphState.legacyDescriptor()),
                backend.getPartitionedState(VoidNamespace.INSTANCE,
                        VoidNamespaceSerializer.INSTANCE, UserGraphState.summaryDescriptor()));
    }

    private static Map<String, List<dev.interestgraph.proto.v2.GraphDelta>> byUser(
            List<dev.interestgraph.proto.v2.GraphDelta> deltas) {
        return deltas.stream().collect(Collectors.groupingBy(
                dev.interestgraph.proto.v2.GraphDelta::getUserId));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"heap", "rocksdb"})
    void aSnapshotOfTheOldLayoutRestoresAndSplitsOnFirstAccess(String backend) throws Exception {
        List<EnrichedAction> before = new ArrayList<>();
        List<EnrichedAction> after = new ArrayList<>();
        Random random = new Random(23);
        for (int i = 0; i < 60; i++) {
            EnrichedAction a = action(USERS[i % USERS.length], "item" + random.nextInt(12),
                    Action.values()[random.nextInt(5)], T0 + i * 2 * DAY / 10,
                    unit(random.nextInt(4), 4 + random.nextInt(4), random.nextFloat()),
                    "t" + random.nextInt(3));
            (i < 30 ? before : after).add(a);
        }
        long resumeAt = before.get(before.size() - 1).eventTimeMs + 1000;

        // the run that never changes layout
        var original = open(backend, null);
        before.forEach(a -> sendUnchecked(original, a));
        original.processWatermark(resumeAt);
        OperatorSubtaskState newLayout = original.snapshot(1L, 1L);
        drainWire(original);
        List<dev.interestgraph.proto.v2.GraphDelta> continued = replay(original, after);
        original.close();

        // the same state, written in the old layout, snapshotted
        var converter = open(backend, newLayout);
        Map<String, UserGraph> expected = new java.util.TreeMap<>();
        for (String user : USERS) {
            converter.getOperator().setCurrentKey(user);
            expected.put(user, UserGraphFunction.graphOf(converter.getOperator()
                    .getKeyedStateBackend()));
        }
        toOldLayout(converter.getOperator().getKeyedStateBackend());
        OperatorSubtaskState oldLayout = converter.snapshot(2L, 2L);
        converter.close();

        var restored = open(backend, oldLayout);
        KeyedStateBackend<String> state = restored.getOperator().getKeyedStateBackend();
        for (String user : USERS) {
            state.setCurrentKey(user);
            assertThat(state(state).legacy().value()).as(user).isNotNull();
            assertThat(state(state).summary().value()).as(user).isNull();
            // read through the old layout, the graph is the one the new layout held
            UserGraphSerializerTest.assertSameGraph(UserGraphFunction.graphOf(state),
                    expected.get(user));
        }
        restored.processWatermark(resumeAt);
        List<dev.interestgraph.proto.v2.GraphDelta> migrated = replay(restored, after);
        assertThat(byUser(migrated)).isNotEmpty().isEqualTo(byUser(continued));
        for (String user : USERS) {
            state.setCurrentKey(user);
            assertThat(state(state).legacy().value()).as(user).isNull(); // split
            UserGraph summary = state(state).summary().value();
            UserGraph whole = UserGraphFunction.graphOf(state);
            assertThat(summary).as(user).isNotNull();
            assertThat(summary.derivedKnown()).isTrue();
            assertThat(whole.edges.size()).isEqualTo(summary.edges.size()).isPositive();
            for (Edge edge : whole.edges.values()) {
                assertThat(edge.itemId).startsWith("item");
            }
        }
        restored.close();
    }

    /**
     * Actions waiting for their flush in a snapshot written with Flink's POJO serializer (the
     * {@code pending-events} serializer before {@link PendingActionSerializer}) restore through
     * state migration, and their flushes give exactly the deltas of a run never snapshotted.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"heap", "rocksdb"})
    void pendingActionsOfThePojoSerializerRestoreThroughMigration(String backend)
            throws Exception {
        List<EnrichedAction> first = new ArrayList<>();
        List<EnrichedAction> waiting = new ArrayList<>();
        Random random = new Random(31);
        for (int i = 0; i < 60; i++) {
            EnrichedAction a = action(USERS[i % USERS.length], "item" + random.nextInt(12),
                    Action.values()[random.nextInt(5)], T0 + i * 2 * DAY / 10,
                    i % 7 == 0 ? null : unit(random.nextInt(4), 4 + random.nextInt(4),
                            random.nextFloat()),
                    "t" + random.nextInt(3), "u" + random.nextInt(3));
            (i < 40 ? first : waiting).add(a);
        }
        long end = waiting.get(waiting.size() - 1).eventTimeMs + 1000;

        var uninterrupted = open(backend, null);
        List<dev.interestgraph.proto.v2.GraphDelta> expected = new ArrayList<>(
                replay(uninterrupted, first));
        waiting.forEach(a -> sendUnchecked(uninterrupted, a));
        uninterrupted.processWatermark(end);
        expected.addAll(drainWire(uninterrupted));
        uninterrupted.close();

        OperatorSubtaskState pojoSnapshot;
        List<dev.interestgraph.proto.v2.GraphDelta> actual;
        UserGraphFunction.pendingSerializer = org.apache.flink.api.common.typeinfo.Types
                .POJO(EnrichedAction.class)
                .createSerializer(new org.apache.flink.api.common.serialization
                        .SerializerConfigImpl());
        try {
            var old = open(backend, null);
            actual = new ArrayList<>(replay(old, first));
            waiting.forEach(a -> sendUnchecked(old, a)); // no watermark: all still pending
            assertThat(drainWire(old)).isEmpty();
            pojoSnapshot = old.snapshot(1L, 1L);
            old.close();
        } finally {
            UserGraphFunction.pendingSerializer = PendingActionSerializer.INSTANCE;
        }

        var restored = open(backend, pojoSnapshot);
        restored.processWatermark(end);
        List<dev.interestgraph.proto.v2.GraphDelta> afterRestore = drainWire(restored);
        assertThat(afterRestore).hasSizeGreaterThanOrEqualTo(waiting.size() / 2);
        actual.addAll(afterRestore);
        assertThat(byUser(actual)).isEqualTo(byUser(expected));
        restored.close();
    }

    /**
     * A subtask that started without a snapshot cannot hold the old layout, so it never reads
     * the old value for a new user (a point read per new user on RocksDB): a value planted
     * there by hand is ignored — the user's graph starts afresh — and left as it was.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"heap", "rocksdb"})
    void aSubtaskStartedWithoutASnapshotReadsNoOldLayout(String backend) throws Exception {
        var fresh = open(backend, null);
        EnrichedAction first = action("u0", "item1", Action.PURCHASE, T0, unit(0, 4, 0.1f), "t1");
        send(fresh, first);
        KeyedStateBackend<String> state = fresh.getOperator().getKeyedStateBackend();
        state.setCurrentKey("u0");
        UserGraph planted = new UserGraph();
        planted.epoch = T0 - DAY;
        planted.seq = 41;
        state(state).legacy().update(planted);

        fresh.processWatermark(T0 + 1000);
        List<dev.interestgraph.proto.v2.GraphDelta> deltas = drainWire(fresh);
        assertThat(deltas).hasSize(1);
        assertThat(deltas.get(0).getSeq()).isEqualTo(1); // not 42: the planted graph was not read
        assertThat(deltas.get(0).getEpoch()).isEqualTo(T0);
        state.setCurrentKey("u0");
        assertThat(state(state).legacy().value().seq).isEqualTo(41);
        assertThat(state(state).summary().value().seq).isEqualTo(1);
        fresh.close();
    }

    private static void sendUnchecked(
            KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> h,
            EnrichedAction a) {
        try {
            send(h, a);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
