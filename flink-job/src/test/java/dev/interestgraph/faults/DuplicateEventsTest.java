package dev.interestgraph.faults;

import static dev.interestgraph.faults.UserGraphHarness.action;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.model.Action;
import dev.interestgraph.proto.v1.EdgeUpsert;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.Test;

/**
 * What the user-graph does with duplicate event ids (they are not dead letters: a duplicate is a
 * well-formed record): an id seen for the user within graph.dedup-window (keyed state with a TTL)
 * is not applied again, whatever flush slot it lands in (counter {@code duplicateEvents}); at most
 * graph.dedup-max-ids of the user's latest ids are remembered.
 */
class DuplicateEventsTest {
    private static final long T0 = 1_700_000_000_000L;

    @Test
    void aDuplicateInTheSameFlushSlotIsDropped() throws Exception {
        try (UserGraphHarness h = new UserGraphHarness(new Configuration())) {
            h.send(action("e1", "u", "a", Action.PURCHASE, T0));
            h.send(action("e1", "u", "a", Action.PURCHASE, T0)); // redelivered copy
            h.send(action("e2", "u", "a", Action.CLICK, T0 + 10));
            h.watermark(T0 + 999);
            assertThat(edge(h, "a").getActionCountsMap())
                    .containsEntry("PURCHASE", 1).containsEntry("CLICK", 1);
        }
    }

    @Test
    void aCopyThatArrivesAfterItsSlotWasFlushedIsNotAppliedAgain() throws Exception {
        try (UserGraphHarness h = new UserGraphHarness(new Configuration())) {
            DeltaMaterializer downstream = new DeltaMaterializer();
            h.send(action("e1", "u", "a", Action.PURCHASE, T0));
            h.watermark(T0 + 999); // the slot is flushed
            h.drain().forEach(downstream::apply);
            h.send(action("e1", "u", "a", Action.PURCHASE, T0)); // late copy
            h.send(action("e2", "u", "a", Action.CLICK, T0 + 1_500));
            h.watermark(T0 + 1_999);
            h.drain().forEach(downstream::apply);
            assertThat(downstream.user("u").orElseThrow().edges().get("a").getActionCountsMap())
                    .containsEntry("PURCHASE", 1).containsEntry("CLICK", 1);
        }
    }

    @Test
    void aReusedIdInAnotherFlushSlotIsNotAppliedAgain() throws Exception {
        try (UserGraphHarness h = new UserGraphHarness(new Configuration())) {
            h.send(action("e1", "u", "a", Action.PURCHASE, T0));
            h.send(action("e1", "u", "a", Action.PURCHASE, T0 + 5_000));
            h.watermark(T0 + 5_999);
            assertThat(edge(h, "a").getActionCountsMap()).containsEntry("PURCHASE", 1);
        }
    }

    @Test
    void theSeenIdsSurviveASnapshotAndRestore() throws Exception {
        DeltaMaterializer downstream = new DeltaMaterializer();
        try (UserGraphHarness h = new UserGraphHarness(new Configuration())) {
            h.send(action("e1", "u", "a", Action.PURCHASE, T0));
            h.watermark(T0 + 999);
            h.drain().forEach(downstream::apply);
            OperatorSubtaskState handles = h.harness.snapshot(1, T0);
            try (UserGraphHarness restored = new UserGraphHarness(new Configuration(), handles)) {
                restored.send(action("e1", "u", "a", Action.PURCHASE, T0 + 2_000)); // redelivered
                restored.send(action("e2", "u", "a", Action.CLICK, T0 + 2_000));
                restored.watermark(T0 + 2_999);
                restored.drain().forEach(downstream::apply);
            }
        }
        assertThat(downstream.user("u").orElseThrow().edges().get("a").getActionCountsMap())
                .containsEntry("PURCHASE", 1).containsEntry("CLICK", 1);
    }

    @Test
    void anIdIsForgottenAfterTheWindow() throws Exception {
        Configuration config = new Configuration();
        config.setString("graph.dedup-window", "10 s");
        try (UserGraphHarness h = new UserGraphHarness(config)) {
            h.harness.setStateTtlProcessingTime(0);
            h.send(action("e1", "u", "a", Action.PURCHASE, T0));
            h.watermark(T0 + 999);
            h.harness.setStateTtlProcessingTime(Duration.ofSeconds(11).toMillis()); // TTL passed
            h.send(action("e1", "u", "a", Action.PURCHASE, T0 + 5_000));
            h.watermark(T0 + 5_999);
            assertThat(edge(h, "a").getActionCountsMap()).containsEntry("PURCHASE", 2);
        }
    }

    @Test
    void onlyTheLatestIdsOfAUserAreRemembered() throws Exception {
        Configuration config = new Configuration();
        config.setString("graph.dedup-max-ids", "2");
        try (UserGraphHarness h = new UserGraphHarness(config)) {
            h.send(action("e1", "u", "a", Action.VIEW, T0));
            h.send(action("e2", "u", "b", Action.VIEW, T0 + 1_000));
            h.send(action("e3", "u", "c", Action.VIEW, T0 + 2_000));
            h.send(action("e1", "u", "a", Action.VIEW, T0 + 3_000)); // e1 was forgotten
            h.send(action("e3", "u", "c", Action.VIEW, T0 + 3_000)); // e3 was not
            h.watermark(T0 + 3_999);
            DeltaMaterializer materializer = new DeltaMaterializer();
            h.drain().forEach(materializer::apply);
            var edges = materializer.user("u").orElseThrow().edges();
            assertThat(edges.get("a").getActionCountsMap()).containsEntry("VIEW", 2);
            assertThat(edges.get("c").getActionCountsMap()).containsEntry("VIEW", 1);
        }
    }

    private static EdgeUpsert edge(UserGraphHarness h, String item) {
        DeltaMaterializer materializer = new DeltaMaterializer();
        h.drain().forEach(materializer::apply);
        return materializer.user("u").orElseThrow().edges().get(item);
    }
}
