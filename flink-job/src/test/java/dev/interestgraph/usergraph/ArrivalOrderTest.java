package dev.interestgraph.usergraph;

import static dev.interestgraph.usergraph.GraphTestSupport.T0;
import static dev.interestgraph.usergraph.GraphTestSupport.action;
import static dev.interestgraph.usergraph.GraphTestSupport.drain;
import static dev.interestgraph.usergraph.GraphTestSupport.ops;
import static dev.interestgraph.usergraph.GraphTestSupport.send;
import static dev.interestgraph.usergraph.GraphTestSupport.stateOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v1.DeltaOp;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v1.GraphDelta;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Harness tests of {@code user-graph} in arrival order ({@code graph.ordering arrival}): deltas
 * leave on processing time alone, one per user per emit interval (or one per action at 0),
 * duplicates are still dropped, and the watermark only drives maintenance.
 */
class ArrivalOrderTest {
    /** Processing time the harness starts from (its clock is set by hand). */
    private static final long NOW = 1_000_000L;

    private static KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord>
            harness(long emitIntervalMs, boolean bounded) throws Exception {
        return restored(UserGraphFunction.arrivalOrder(
                InterestGraphOptions.graphParameters(new Configuration()), emitIntervalMs,
                bounded), null);
    }

    /** A harness of {@code function}, restored from {@code snapshot} when not null. */
    private static KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord>
            restored(UserGraphFunction function, OperatorSubtaskState snapshot) throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(function),
                (EnrichedAction action) -> action.userId, Types.STRING);
        if (snapshot != null) {
            h.initializeState(snapshot);
        }
        h.open();
        h.setProcessingTime(NOW);
        return h;
    }

    private static UserGraphFunction eventTimeOrder() {
        return new UserGraphFunction(InterestGraphOptions.graphParameters(new Configuration()));
    }

    private static List<String> itemsOf(GraphDelta delta) {
        return ops(List.of(delta), DeltaOp.OpCase.EDGE_UPSERT).stream()
                .map(DeltaOp::getEdgeUpsert).map(EdgeUpsert::getItemId).sorted()
                .collect(Collectors.toList());
    }

    private static int pending(
            KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> h,
            String user) throws Exception {
        h.getOperator().setCurrentKey(user);
        Iterable<EnrichedAction> actions = h.getOperator().getKeyedStateBackend()
                .getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                        new ListStateDescriptor<>("pending-events",
                                PendingActionSerializer.INSTANCE))
                .get();
        int n = 0;
        for (EnrichedAction ignored : actions == null ? List.<EnrichedAction>of() : actions) {
            n++;
        }
        return n;
    }

    @Test
    void actionsOfOneIntervalLeaveAsOneDeltaOnProcessingTimeWithNoWatermark() throws Exception {
        var h = harness(100, false);
        send(h, action("u", "a", Action.CLICK, T0 + 20));
        send(h, action("u", "b", Action.PURCHASE, T0 + 10)); // out of event-time order
        send(h, action("v", "c", Action.VIEW, T0 + 30));
        assertThat(drain(h)).isEmpty();
        assertThat(pending(h, "u")).isEqualTo(2);
        // one flush timer per user with a batch, in processing time; the event-time timers are
        // maintenance only, none registered before a graph exists
        assertThat(h.numProcessingTimeTimers()).isEqualTo(2);
        assertThat(h.numEventTimeTimers()).isZero();

        h.setProcessingTime(NOW + 99);
        assertThat(drain(h)).isEmpty();
        h.setProcessingTime(NOW + 100);
        // no watermark was ever processed: the deltas left on processing time alone
        List<GraphDelta> deltas = drain(h);
        assertThat(deltas).hasSize(2);
        GraphDelta u = deltas.stream().filter(d -> d.getUserId().equals("u")).findFirst()
                .orElseThrow();
        assertThat(itemsOf(u)).containsExactly("a", "b");
        assertThat(u.getSeq()).isEqualTo(1);
        assertThat(u.getEventTimeMs()).as("the batch's newest event time").isEqualTo(T0 + 20);
        assertThat(pending(h, "u")).isZero();
        assertThat(stateOf(h, "u").edges.size()).isEqualTo(2);
        assertThat(h.numProcessingTimeTimers()).isZero();
        // the graphs' maintenance timers (decay sweep, idle expiry) stay in event time
        assertThat(h.numEventTimeTimers()).isEqualTo(2);

        // the next action starts the next batch, an interval after it arrives
        h.setProcessingTime(NOW + 150);
        send(h, action("u", "d", Action.CLICK, T0 + 40));
        h.setProcessingTime(NOW + 249);
        assertThat(drain(h)).isEmpty();
        h.setProcessingTime(NOW + 250);
        List<GraphDelta> next = drain(h);
        assertThat(next).singleElement().satisfies(d -> {
            assertThat(itemsOf(d)).containsExactly("d");
            assertThat(d.getSeq()).isEqualTo(2);
        });
        h.close();
    }

    @Test
    void anEmitIntervalOfZeroEmitsEachActionAtOnce() throws Exception {
        var h = harness(0, false);
        send(h, action("u", "a", Action.CLICK, T0));
        assertThat(drain(h)).singleElement().satisfies(d -> {
            assertThat(itemsOf(d)).containsExactly("a");
            assertThat(d.getSeq()).isEqualTo(1);
        });
        send(h, action("u", "b", Action.CLICK, T0 + 5));
        assertThat(drain(h)).singleElement().satisfies(d -> {
            assertThat(itemsOf(d)).containsExactly("b");
            assertThat(d.getSeq()).isEqualTo(2);
        });
        // nothing waits: no pending action, no flush timer
        assertThat(pending(h, "u")).isZero();
        assertThat(h.numProcessingTimeTimers()).isZero();
        h.close();
    }

    @Test
    void aDuplicateEventIdIsStillDropped() throws Exception {
        var h = harness(0, false);
        EnrichedAction click = action("u", "a", Action.CLICK, T0);
        send(h, click);
        assertThat(drain(h)).hasSize(1);
        send(h, click); // redelivered
        assertThat(drain(h)).isEmpty();
        assertThat(stateOf(h, "u").edges.get("a").actionCounts[Action.CLICK.ordinal()])
                .isEqualTo(1);
        h.close();

        // within one batch too
        var batched = harness(100, false);
        EnrichedAction view = action("w", "b", Action.VIEW, T0);
        send(batched, view);
        send(batched, view);
        assertThat(pending(batched, "w")).isEqualTo(1);
        batched.setProcessingTime(NOW + 100);
        assertThat(drain(batched)).singleElement().satisfies(d -> assertThat(
                ops(List.of(d), DeltaOp.OpCase.EDGE_UPSERT).get(0).getEdgeUpsert()
                        .getActionCountsMap()).containsEntry("VIEW", 1));
        batched.close();
    }

    @Test
    void aBatchOfOlderEventsNeverStepsTheGraphsTimeBack() throws Exception {
        var h = harness(0, false);
        send(h, action("u", "a", Action.CLICK, T0 + 1_000));
        assertThat(drain(h).get(0).getEventTimeMs()).isEqualTo(T0 + 1_000);
        send(h, action("u", "b", Action.CLICK, T0)); // arrives after a newer one
        GraphDelta late = drain(h).get(0);
        assertThat(itemsOf(late)).containsExactly("b");
        assertThat(late.getEventTimeMs()).isEqualTo(T0 + 1_000);
        assertThat(stateOf(h, "u").lastEventMs).isEqualTo(T0 + 1_000);
        h.close();
    }

    @Test
    void aBoundedInputFlushesTheLastBatchAtItsEnd() throws Exception {
        // processing-time timers do not fire after the end of input: the watermark's jump to
        // +∞ flushes what is pending
        var h = harness(100, true);
        send(h, action("u", "a", Action.CLICK, T0));
        send(h, action("u", "b", Action.CLICK, T0 + 1));
        assertThat(drain(h)).isEmpty();
        h.processWatermark(Long.MAX_VALUE);
        assertThat(drain(h)).singleElement()
                .satisfies(d -> assertThat(itemsOf(d)).containsExactly("a", "b"));
        assertThat(pending(h, "u")).isZero();
        // the flush timer registered before finds nothing left to do
        h.setProcessingTime(NOW + 100);
        assertThat(drain(h)).isEmpty();
        h.close();
    }

    @Test
    void maintenanceStaysOnTheEventTimeTimer() throws Exception {
        var h = harness(0, false);
        send(h, action("u", "viewed", Action.VIEW, T0));
        drain(h);
        // a view (0.1) decays below the prune threshold long before the idle expiry: the sweep
        // removes it when the watermark passes its tick, processing time alone never does
        h.setProcessingTime(NOW + 365L * GraphTestSupport.DAY);
        assertThat(drain(h)).isEmpty();
        h.processWatermark(T0 + 400L * GraphTestSupport.DAY);
        List<GraphDelta> maintenance = drain(h);
        assertThat(maintenance).isNotEmpty();
        assertThat(stateOf(h, "u")).isNull();
        h.close();
    }

    @Test
    void actionsThatEventTimeOrderLeftPendingFlushAfterASwitchToArrivalOrder() throws Exception {
        var before = restored(eventTimeOrder(), null);
        send(before, action("u", "a", Action.CLICK, T0));
        assertThat(drain(before)).isEmpty(); // waits for the watermark
        OperatorSubtaskState snapshot = before.snapshot(1L, NOW);
        before.close();

        var after = restored(UserGraphFunction.arrivalOrder(
                InterestGraphOptions.graphParameters(new Configuration()), 100, false), snapshot);
        send(after, action("u", "b", Action.CLICK, T0 + 10)); // a batch of arrival order
        // the slot's event-time timer, restored, takes every pending action when it fires
        after.processWatermark(T0 + 1_000);
        assertThat(drain(after)).singleElement()
                .satisfies(d -> assertThat(itemsOf(d)).containsExactly("a", "b"));
        assertThat(pending(after, "u")).isZero();
        after.setProcessingTime(NOW + 100); // the batch's own timer: nothing left
        assertThat(drain(after)).isEmpty();
        after.close();
    }

    @Test
    void aBatchThatArrivalOrderLeftPendingFlushesAfterASwitchToEventTimeOrder() throws Exception {
        var before = harness(100, false);
        send(before, action("u", "a", Action.CLICK, T0));
        send(before, action("u", "b", Action.CLICK, T0 + 2_500));
        OperatorSubtaskState snapshot = before.snapshot(1L, NOW);
        before.close();

        var after = restored(eventTimeOrder(), snapshot);
        // the batch's processing-time timer, restored, hands it to the event-time slots
        after.setProcessingTime(NOW + 100);
        assertThat(drain(after)).isEmpty();
        assertThat(after.numEventTimeTimers()).isEqualTo(1);
        after.processWatermark(T0 + 999); // the first slot (1 s): a alone
        assertThat(drain(after)).singleElement()
                .satisfies(d -> assertThat(itemsOf(d)).containsExactly("a"));
        after.processWatermark(T0 + 2_999);
        assertThat(drain(after)).singleElement()
                .satisfies(d -> assertThat(itemsOf(d)).containsExactly("b"));
        assertThat(pending(after, "u")).isZero();
        after.close();
    }
}
