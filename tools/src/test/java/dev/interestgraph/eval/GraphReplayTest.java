package dev.interestgraph.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.usergraph.UserGraphFunction;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.util.ArrayList;
import dev.interestgraph.proto.v2.EdgeRemove;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.testing.HashingTestEmbedder;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** The in-process replay gives exactly the operator's deltas, sweeps and expiries included. */
class GraphReplayTest {
    private static final long DAY = 24L * 3600 * 1000;

    @Test
    void replayEqualsTheUserGraphOperator() throws Exception {
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.IDLE_TTL, Duration.ofDays(8));
        config.set(InterestGraphOptions.MAX_EDGES_PER_USER, 8);
        config.set(InterestGraphOptions.EDGE_HALF_LIFE, Duration.ofDays(5));
        GraphParameters params = InterestGraphOptions.graphParameters(config);
        // two busy months with a quiet month between them: caps, sweeps, expiry, new epochs
        long start = 1_700_000_000_000L;
        SyntheticDataset first = SyntheticDataset.builder().users(12).itemsPerTopic(6)
                .eventsPerUser(40).startMs(start).spanMs(30 * DAY).seed(1).build();
        SyntheticDataset second = SyntheticDataset.builder().users(12).itemsPerTopic(6)
                .eventsPerUser(40).startMs(start + 60 * DAY).spanMs(30 * DAY).seed(2).build();
        Map<String, ItemVersion> items = new HashMap<>();
        for (ItemVersion item : first.items()) {
            item.embedding = HashingTestEmbedder.embed(item.text());
            item.modelVersion = HashingTestEmbedder.MODEL_VERSION;
            items.put(item.itemId, item);
        }
        List<UserAction> events = new ArrayList<>(first.events());
        second.events().forEach(e -> {
            e.eventId = "second-" + e.eventId;
            events.add(e);
        });
        List<EnrichedAction> actions = GraphReplay.enrich(events, items);
        long finalWatermark = actions.get(actions.size() - 1).eventTimeMs + 3 * DAY;

        var harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new UserGraphFunction(params)),
                (EnrichedAction a) -> a.userId, Types.STRING);
        harness.open();
        for (EnrichedAction action : actions) {
            harness.processElement(new StreamRecord<>(action, action.eventTimeMs));
            harness.processWatermark(action.eventTimeMs - 1);
        }
        harness.processWatermark(finalWatermark);
        List<GraphDelta> fromOperator = harness.extractOutputValues().stream()
                .map(DeltaRecord::delta).collect(Collectors.toList());

        List<GraphDelta> fromReplay = new GraphReplay(params).replay(actions, finalWatermark);

        assertThat(byUser(fromReplay)).isEqualTo(byUser(fromOperator));
        // the comparison covered the timers: decayed edges and idle expiry occurred
        List<EdgeRemove.Reason> reasons = fromOperator.stream()
                .flatMap(d -> d.getEdgeRemovesList().stream())
                .map(EdgeRemove::getReason).collect(Collectors.toList());
        assertThat(reasons).contains(EdgeRemove.Reason.EXPIRED, EdgeRemove.Reason.CAPPED,
                EdgeRemove.Reason.DECAYED);
        // every user expired in the quiet month and came back in a new epoch
        assertThat(byUser(fromOperator).values()).hasSize(12).allSatisfy(deltas ->
                assertThat(deltas.stream().map(GraphDelta::getEpoch).distinct()).hasSize(2));
    }

    private static Map<String, List<GraphDelta>> byUser(List<GraphDelta> deltas) {
        return deltas.stream().collect(Collectors.groupingBy(GraphDelta::getUserId));
    }
}
