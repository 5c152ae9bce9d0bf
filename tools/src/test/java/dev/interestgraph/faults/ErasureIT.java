package dev.interestgraph.faults;

import static dev.interestgraph.faults.FaultTestSupport.assertContiguous;
import static dev.interestgraph.faults.FaultTestSupport.graphs;
import static dev.interestgraph.faults.FaultTestSupport.materialize;
import static dev.interestgraph.faults.FaultTestSupport.publishInput;
import static dev.interestgraph.faults.UserGraphHarness.action;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v1.DeltaOp;
import dev.interestgraph.proto.v1.GraphDelta;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Erasure (FORGET_USER) mid-stream: in the operator, nothing of the user remains — no graph, no
 * waiting actions, no timers — and the changes not yet emitted never leave; through the job, the
 * materialised graph loses the user, re-reading the delta topic does not bring them back, and a
 * reprocessing of the input erases them again.
 */
class ErasureIT {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final long T0 = 1_700_000_000_000L;

    @Test
    void forgetUserLeavesNoStateNoTimersAndNoUnsentChangesInTheOperator() throws Exception {
        try (UserGraphHarness both = new UserGraphHarness(new Configuration());
                UserGraphHarness keptOnly = new UserGraphHarness(new Configuration())) {
            for (UserGraphHarness h : List.of(both, keptOnly)) {
                h.send(action("k1", "kept", "a", Action.PURCHASE, T0));
                h.send(action("k2", "kept", "b", Action.CLICK, T0 + 5_000));
            }
            both.send(action("g1", "gone", "a", Action.PURCHASE, T0));
            both.send(action("g2", "gone", "b", Action.CLICK, T0 + 2_000));
            both.watermark(T0 + 2_999);
            keptOnly.watermark(T0 + 2_999);
            // an action in the erasure's own slot, before it: its change must never be emitted
            both.send(action("g3", "gone", "c", Action.VIEW, T0 + 5_000));
            both.send(action("g4", "gone", "", Action.FORGET_USER, T0 + 5_500));
            assertThat(both.graph("gone")).isNotNull();
            assertThat(both.pendingActions("gone")).isEqualTo(2);
            List<GraphDelta> before = both.drain();
            keptOnly.drain();

            both.watermark(T0 + 5_999);
            keptOnly.watermark(T0 + 5_999);
            List<GraphDelta> gone = both.drain().stream()
                    .filter(d -> d.getUserId().equals("gone")).toList();
            assertThat(gone).hasSize(1);
            assertThat(gone.get(0).getOpsList()).singleElement()
                    .satisfies(op -> assertThat(op.getOpCase()).isEqualTo(DeltaOp.OpCase.USER_ERASED));
            assertThat(gone.get(0).getSeq()).isEqualTo(before.stream()
                    .filter(d -> d.getUserId().equals("gone")).count() + 1);

            // nothing of "gone" remains: the same state entries and timers as without them
            assertThat(both.graph("gone")).isNull();
            assertThat(both.pendingActions("gone")).isZero();
            assertThat(both.harness.numKeyedStateEntries())
                    .isEqualTo(keptOnly.harness.numKeyedStateEntries());
            assertThat(both.harness.numEventTimeTimers())
                    .isEqualTo(keptOnly.harness.numEventTimeTimers());

            // time passing (sweeps, idle expiry) brings nothing back
            both.watermark(T0 + 400 * FaultTestSupport.DAY);
            assertThat(both.drain()).noneMatch(d -> d.getUserId().equals("gone"));
            assertThat(both.graph("gone")).isNull();
        }
    }

    @Test
    void anErasedUserLeavesTheMaterialisedGraphAndReplaysDoNotResurrectThem() throws Exception {
        try (LocalKafkaBroker kafka = LocalKafkaBroker.start()) {
            SyntheticDataset data = SyntheticDataset.builder().users(8).itemsPerTopic(6)
                    .eventsPerUser(30).spanMs(20 * FaultTestSupport.DAY).seed(11).build();
            long erasedAt = data.driftMs();
            // user-3 is erased mid-stream and never comes back; user-5 is erased and comes back
            List<UserAction> events = new ArrayList<>();
            for (UserAction event : data.events()) {
                if (!(event.userId.equals("user-3") && event.eventTimeMs > erasedAt)) {
                    events.add(event);
                }
            }
            events.add(new UserAction("forget-3", "user-3", "", Action.FORGET_USER, erasedAt, 0,
                    null));
            events.add(new UserAction("forget-5", "user-5", "", Action.FORGET_USER, erasedAt, 0,
                    null));
            events.sort((a, b) -> Long.compare(a.eventTimeMs, b.eventTimeMs));
            publishInput(kafka, data.items(), events);

            Map<String, List<GraphDelta>> first = run(kafka, "first-");
            assertContiguous(first);
            List<GraphDelta> erasedUser = first.get("user-3");
            assertThat(erasedUser.get(erasedUser.size() - 1).getOpsList()).singleElement()
                    .satisfies(op -> assertThat(op.hasUserErased()).isTrue());

            DeltaMaterializer graphs = materialize(first);
            assertThat(graphs.users()).doesNotContainKey("user-3").hasSize(7);
            // user-5 starts over: a new epoch made of the events after the erasure only
            Map<String, Integer> after = new TreeMap<>();
            events.stream().filter(e -> e.userId.equals("user-5") && e.eventTimeMs > erasedAt
                    && e.action != Action.FORGET_USER)
                    .forEach(e -> after.merge(e.itemId, 1, Integer::sum));
            DeltaMaterializer.UserView back = graphs.user("user-5").orElseThrow();
            assertThat(back.epoch()).isGreaterThan(erasedAt);
            Map<String, Integer> counts = new TreeMap<>();
            back.edges().forEach((item, edge) -> counts.put(item, edge.getActionCountsMap()
                    .values().stream().mapToInt(Integer::intValue).sum()));
            assertThat(counts).isEqualTo(after);

            // re-reading the whole topic (a consumer restart, a replay) changes nothing
            int total = first.values().stream().mapToInt(List::size).sum();
            Map<String, String> before = graphs(graphs);
            long skipped = graphs.skippedCount();
            first.values().forEach(deltas -> deltas.forEach(graphs::apply));
            assertThat(graphs.skippedCount() - skipped).isEqualTo(total);
            assertThat(graphs(graphs)).isEqualTo(before);

            // a consumer that had stopped just before the erasure catches up: the user goes
            DeltaMaterializer lagging = new DeltaMaterializer();
            first.forEach((user, deltas) -> deltas.subList(0, user.equals("user-3")
                    ? deltas.size() - 1 : deltas.size()).forEach(lagging::apply));
            assertThat(lagging.users()).containsKey("user-3");
            erasedUser.forEach(lagging::apply);
            assertThat(lagging.users()).doesNotContainKey("user-3");
            assertThat(graphs(lagging)).isEqualTo(before);

            // reprocessing the input from the beginning erases the user again, identically
            Map<String, List<GraphDelta>> second = run(kafka, "second-");
            assertThat(second).isEqualTo(first);
        }
    }

    /** A bounded run over the shared input topics into a delta topic of its own. */
    private static Map<String, List<GraphDelta>> run(LocalKafkaBroker kafka, String prefix)
            throws Exception {
        return FaultTestSupport.replay(kafka, prefix, FaultTestSupport.replayOptions(kafka, prefix));
    }
}
