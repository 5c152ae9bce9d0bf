package dev.interestgraph.faults;

import static dev.interestgraph.faults.UserGraphHarness.action;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.model.Action;
import dev.interestgraph.proto.v1.EdgeUpsert;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/**
 * What the user-graph does with duplicate event ids today (they are not dead letters: a duplicate
 * is a well-formed record). The flush de-duplicates by event id within one flush slot (counter
 * {@code duplicateEvents}); nothing remembers ids across slots. The second and third tests pin
 * down that gap, so that closing it is a deliberate change of these expectations.
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
    void aCopyThatArrivesAfterItsSlotWasFlushedIsAppliedAgainAsALateEvent() throws Exception {
        try (UserGraphHarness h = new UserGraphHarness(new Configuration())) {
            h.send(action("e1", "u", "a", Action.PURCHASE, T0));
            h.watermark(T0 + 999); // the slot is flushed
            h.send(action("e1", "u", "a", Action.PURCHASE, T0)); // late copy
            h.watermark(T0 + 1_999);
            assertThat(edge(h, "a").getActionCountsMap()).containsEntry("PURCHASE", 2);
        }
    }

    @Test
    void aReusedIdInAnotherFlushSlotIsAppliedAgain() throws Exception {
        try (UserGraphHarness h = new UserGraphHarness(new Configuration())) {
            h.send(action("e1", "u", "a", Action.PURCHASE, T0));
            h.send(action("e1", "u", "a", Action.PURCHASE, T0 + 5_000));
            h.watermark(T0 + 5_999);
            assertThat(edge(h, "a").getActionCountsMap()).containsEntry("PURCHASE", 2);
        }
    }

    private static EdgeUpsert edge(UserGraphHarness h, String item) {
        DeltaMaterializer materializer = new DeltaMaterializer();
        h.drain().forEach(materializer::apply);
        return materializer.user("u").orElseThrow().edges().get(item);
    }
}
