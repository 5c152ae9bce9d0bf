package dev.interestgraph.faults;

import static dev.interestgraph.faults.FaultTestSupport.assertContiguous;
import static dev.interestgraph.faults.FaultTestSupport.materialize;
import static dev.interestgraph.faults.FaultTestSupport.publishInput;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v1.GraphDelta;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The real job in arrival order ({@code graph.ordering arrival}) on the MiniCluster with the
 * in-process broker: no event is lost or applied twice. Every user's materialised graph holds
 * each item they acted on, with as many actions as they sent — whether the actions left
 * item-enrich at once (known version) or after the watermark, and whether their user-graph
 * batch left on its processing-time timer or at the end of the bounded input.
 */
class ArrivalOrderIT {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final long HOUR = 3_600_000L;

    @Test
    void theMaterialisedGraphsHoldEveryActionOfEveryUser() throws Exception {
        try (LocalKafkaBroker kafka = LocalKafkaBroker.start()) {
            // an hour of events: nothing decays below the prune threshold, so every item acted
            // on stays an edge and the graphs can be compared with the input
            SyntheticDataset data = SyntheticDataset.builder().users(12).itemsPerTopic(6)
                    .eventsPerUser(25).spanMs(HOUR).seed(16).build();
            publishInput(kafka, data.items(), data.events());

            Configuration config = FaultTestSupport.replayOptions(kafka, "arrival-");
            config.set(InterestGraphOptions.GRAPH_ORDERING,
                    InterestGraphOptions.GraphOrdering.ARRIVAL);
            config.set(InterestGraphOptions.EMIT_INTERVAL, Duration.ofMillis(50));
            Map<String, List<GraphDelta>> deltas = FaultTestSupport.replay(kafka, "arrival-",
                    config);

            assertContiguous(deltas);
            Map<String, Map<String, Integer>> sent = new TreeMap<>();
            for (UserAction event : data.events()) {
                sent.computeIfAbsent(event.userId, u -> new TreeMap<>())
                        .merge(event.itemId, 1, Integer::sum);
            }
            DeltaMaterializer graphs = materialize(deltas);
            Map<String, Map<String, Integer>> held = new TreeMap<>();
            graphs.users().forEach((user, view) -> {
                Map<String, Integer> counts = new TreeMap<>();
                view.edges().forEach((item, edge) -> counts.put(item, edge.getActionCountsMap()
                        .values().stream().mapToInt(Integer::intValue).sum()));
                held.put(user, counts);
            });
            assertThat(held).hasSize(data.users()).isEqualTo(sent);
        }
    }
}
