package dev.interestgraph.usergraph;

import static dev.interestgraph.usergraph.GraphTestSupport.DAY;
import static dev.interestgraph.usergraph.GraphTestSupport.T0;
import static dev.interestgraph.usergraph.GraphTestSupport.action;
import static dev.interestgraph.usergraph.GraphTestSupport.drainWire;
import static dev.interestgraph.usergraph.GraphTestSupport.send;
import static dev.interestgraph.usergraph.GraphTestSupport.unit;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v2.EdgeRemove;
import dev.interestgraph.proto.v2.GraphDelta;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * How far the watermark climbs before a bounded input ends depends on the machine (issue 18's
 * run-to-run differences): the deltas must not. A watermark that jumps from the start to +∞ in
 * one step gives the deltas of one that passed every event, sweeps and idle expiry between the
 * user's events included; and a bounded run gives the same deltas however far its watermark got.
 */
class EndOfInputTest {
    private static final String USER = "u1";

    private static Configuration config() {
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.EDGE_HALF_LIFE, Duration.ofDays(3));
        config.set(InterestGraphOptions.IDLE_TTL, Duration.ofDays(8));
        return config;
    }

    /** Days 0, 1, then 14 and 15: idle for 13 days, expired on day 9 (a new epoch). */
    private static List<EnrichedAction> events() {
        List<EnrichedAction> events = new ArrayList<>();
        long[] days = {0, 1, 14, 15};
        for (int d = 0; d < days.length; d++) {
            for (int i = 0; i < 3; i++) {
                events.add(action(USER, "item-" + d + "-" + i, Action.CLICK,
                        T0 + days[d] * DAY + i * 60_000L, unit(d % 4, (d + 1) % 4, 0.1f * i),
                        "topic" + d));
            }
        }
        return events;
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord>
            harness(boolean bounded) throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new UserGraphFunction(
                        InterestGraphOptions.graphParameters(config()), null, bounded)),
                (EnrichedAction a) -> a.userId, Types.STRING);
        harness.open();
        return harness;
    }

    /** The watermark follows every event; it ends just past the last one's flush. */
    private static List<GraphDelta> stepByStep(boolean bounded, long finalWatermark)
            throws Exception {
        try (var h = harness(bounded)) {
            for (EnrichedAction event : events()) {
                send(h, event);
                h.processWatermark(event.eventTimeMs - 1);
            }
            h.processWatermark(finalWatermark);
            return drainWire(h);
        }
    }

    private static long lastEventTime() {
        List<EnrichedAction> events = events();
        return events.get(events.size() - 1).eventTimeMs;
    }

    private static List<EdgeRemove.Reason> removals(List<GraphDelta> deltas) {
        return deltas.stream().flatMap(d -> d.getEdgeRemovesList().stream())
                .map(EdgeRemove::getReason).collect(Collectors.toList());
    }

    @Test
    void aWatermarkThatJumpsToTheEndGivesTheDeltasOfOneThatPassedEveryEvent() throws Exception {
        // just past the last flush, before the next maintenance (a day later)
        List<GraphDelta> passedEveryEvent = stepByStep(false, lastEventTime() + 1_000);
        assertThat(removals(passedEveryEvent)).as("sweeps between the user's events")
                .contains(EdgeRemove.Reason.DECAYED);
        assertThat(passedEveryEvent.stream().map(GraphDelta::getEpoch).distinct())
                .as("an idle expiry between the user's events").hasSize(2);

        for (boolean bounded : new boolean[] {false, true}) {
            try (var h = harness(bounded)) {
                for (EnrichedAction event : events()) {
                    send(h, event);
                }
                // e.g. the catalogue was embedded only after every event had been read
                h.processWatermark(Long.MAX_VALUE);
                assertThat(drainWire(h)).as("bounded " + bounded).isEqualTo(passedEveryEvent);
            }
        }
    }

    @Test
    void aBoundedRunGivesTheSameDeltasHoweverFarItsWatermarkGot() throws Exception {
        List<GraphDelta> justPastTheLastEvent = stepByStep(true, lastEventTime() + 1_000);
        List<GraphDelta> aMonthLater = stepByStep(true, lastEventTime() + 30 * DAY);
        assertThat(aMonthLater).isEqualTo(justPastTheLastEvent);
        assertThat(aMonthLater).isEqualTo(stepByStep(false, lastEventTime() + 1_000));

        // live, a month passing does sweep and expire the idle user
        List<GraphDelta> live = stepByStep(false, lastEventTime() + 30 * DAY);
        assertThat(live.size()).isGreaterThan(justPastTheLastEvent.size());
        assertThat(live.get(live.size() - 1).getEventTimeMs())
                .as("the idle expiry, 8 days after the last event")
                .isGreaterThanOrEqualTo(lastEventTime() + 8 * DAY);
    }
}
