package dev.interestgraph.analytics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.analytics.GraphSnapshot.Edge;
import dev.interestgraph.eval.JobReplay;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v1.RecommendedItem;
import dev.interestgraph.proto.v1.Recommendations;
import dev.interestgraph.testing.HashingTestEmbedder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end: graph snapshot → Gelly analytics job → item-neighbors topic (real in-process
 * broker, one transaction per run) → the streaming job's broadcast state → the recommendations
 * topic; and a second analytics run that links A to E instead of B changes what the job
 * recommends for the same user, leaving nothing of the first run behind.
 */
class AnalyticsFeedbackIT {
    private static final long T0 = System.currentTimeMillis() - 3_600_000L;

    @TempDir
    static Path dir;
    static JobReplay job;

    @BeforeAll
    static void start() {
        job = new JobReplay(2, HashingTestEmbedder.factory());
    }

    @AfterAll
    static void stop() {
        job.close();
    }

    /** Users s1..s5 hold A and {@code partnerOfA}; s6..s8 hold C and D. */
    private static AnalyticsOutput analyse(String partnerOfA, long runId) throws Exception {
        List<Edge> edges = new ArrayList<>();
        for (int u = 1; u <= 5; u++) {
            edges.add(new Edge("s" + u, "A", 1.0, T0));
            edges.add(new Edge("s" + u, partnerOfA, 1.0, T0));
        }
        for (int u = 6; u <= 8; u++) {
            edges.add(new Edge("s" + u, "C", 1.0, T0));
            edges.add(new Edge("s" + u, "D", 1.0, T0));
        }
        Map<String, String> texts = Map.of("A", "space opera", "B", "space western",
                "C", "cooking show", "D", "cooking contest", "E", "space documentary");
        Path snapshot = dir.resolve("snapshot-" + runId);
        new GraphSnapshot(edges, texts).write(snapshot);
        return GraphAnalyticsJob.runLocally(snapshot, dir.resolve("out-" + runId),
                new GraphAnalyticsJob.Settings(), 1, runId);
    }

    private static List<ItemVersion> items() {
        List<ItemVersion> items = new ArrayList<>();
        for (String id : List.of("A", "B", "C", "D", "E")) {
            items.add(new ItemVersion(id, "item " + id, "", new String[0], T0 - 60_000));
        }
        return items;
    }

    private static List<UserAction> events() {
        return List.of(
                new UserAction("e1", "n1", "A", Action.CLICK, T0 + 1_000, 0, null),
                new UserAction("e2", "n2", "C", Action.CLICK, T0 + 2_000, 0, null));
    }

    private static RecommendedItem top(JobReplay.Result result, String user) {
        Recommendations list = result.recommendations.get(user);
        assertThat(list).as("recommendations of " + user).isNotNull();
        assertThat(list.getItemsList()).isNotEmpty();
        return list.getItems(0);
    }

    @Test
    void recommendationsFollowTheNeighboursTheAnalyticsPublish() throws Exception {
        AnalyticsOutput first = analyse("B", 1_000L);
        assertThat(first.neighbours("A")).containsOnlyKeys("B");

        JobReplay.Result before = job.run(items(), events(), new Configuration(), List.of(first));
        assertThat(top(before, "n1").getItemId()).isEqualTo("B");
        assertThat(top(before, "n1").getBecauseOf()).isEqualTo("A");
        assertThat(top(before, "n1").getSource()).isEqualTo(RecommendedItem.Source.NEIGHBORS);
        assertThat(top(before, "n2").getItemId()).isEqualTo("D");
        assertThat(before.recommendations.get("n1").getAnalyticsRunId()).isEqualTo(1_000L);

        AnalyticsOutput second = analyse("E", 2_000L);
        JobReplay.Result after = job.run(items(), events(), new Configuration(),
                List.of(first, second));
        assertThat(top(after, "n1").getItemId()).isEqualTo("E");
        assertThat(top(after, "n1").getBecauseOf()).isEqualTo("A");
        assertThat(after.recommendations.get("n1").getItemsList())
                .extracting(RecommendedItem::getItemId)
                .as("B was A's neighbour in the first run only").doesNotContain("B");
        assertThat(after.recommendations.get("n1").getAnalyticsRunId()).isEqualTo(2_000L);
    }
}
