package dev.interestgraph.analytics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.eval.GraphReplay;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.proto.v1.Community;
import dev.interestgraph.proto.v1.ItemNeighbors;
import dev.interestgraph.proto.v1.Neighbor;
import dev.interestgraph.testing.HashingTestEmbedder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The analytics job on the materialised graph of the generated data set, whose users read items
 * of 8 planted topics (item ids "topic-n"): the communities must be the planted topics and the
 * neighbours must stay inside them.
 */
class PlantedTopicsAnalyticsTest {

    private static String topic(String itemId) {
        return itemId.substring(0, itemId.lastIndexOf('-'));
    }

    @Test
    void communitiesAreThePlantedTopicsAndNeighboursStayInside(@TempDir Path work)
            throws Exception {
        SyntheticDataset data = SyntheticDataset.builder().users(200).eventsPerUser(60)
                .spanMs(60L * 24 * 3600 * 1000).build();
        Map<String, ItemVersion> catalogue = new HashMap<>();
        Map<String, String> texts = new HashMap<>();
        for (ItemVersion item : data.items()) {
            item.embedding = HashingTestEmbedder.embed(item.text());
            item.modelVersion = HashingTestEmbedder.MODEL_VERSION;
            catalogue.put(item.itemId, item);
            texts.put(item.itemId, item.text());
        }
        DeltaMaterializer graphs = new DeltaMaterializer();
        GraphReplay.source(GraphParameters.defaults(), catalogue).deltas(data.events())
                .forEach(graphs::apply);

        AnalyticsOutput output = GraphAnalyticsJob.runLocally(GraphSnapshot.of(graphs, texts),
                work, new GraphAnalyticsJob.Settings(), 2, 1L);

        Set<String> topics = new TreeSet<>();
        data.items().forEach(item -> topics.add(topic(item.itemId)));
        assertThat(output.communityTable()).hasSize(topics.size());
        for (Community community : output.communityTable().values()) {
            Set<String> members = new TreeSet<>();
            output.items().values().stream()
                    .filter(item -> item.getCommunityId() == community.getCommunityId())
                    .forEach(item -> members.add(topic(item.getItemId())));
            assertThat(members).as("topics in community \"%s\"", community.getLabel())
                    .hasSize(1);
            // the label names the topic (its items' titles start with the topic's word)
            assertThat(community.getLabel()).contains(members.iterator().next());
        }
        // a topic has 20 items: 19 possible neighbours inside it, so look at the first 19 of 20
        int inside = 0;
        int all = 0;
        for (ItemNeighbors item : output.items().values()) {
            for (Neighbor neighbor : item.getNeighborsList().subList(0,
                    Math.min(19, item.getNeighborsCount()))) {
                all++;
                inside += topic(neighbor.getItemId()).equals(topic(item.getItemId())) ? 1 : 0;
            }
        }
        assertThat(all).isGreaterThan(1000);
        assertThat((double) inside / all).as("strongest neighbours inside the item's topic")
                .isGreaterThan(0.98);
        assertThat(output.health().components()).isEqualTo(1);
    }
}
