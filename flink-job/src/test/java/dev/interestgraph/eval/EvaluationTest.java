package dev.interestgraph.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.recommend.Recommender;
import dev.interestgraph.testing.HashingTestEmbedder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** On generated data with a planted drift, updating the graph must pay off. */
class EvaluationTest {
    private static final long DAY = 24L * 3600 * 1000;

    @Test
    void theUpdatedGraphBeatsTheFrozenGraphAfterThePlantedDrift() throws Exception {
        SyntheticDataset data = SyntheticDataset.builder().users(60).itemsPerTopic(25)
                .eventsPerUser(50).spanMs(100 * DAY).noise(0.05).build();
        Map<String, ItemVersion> items = new HashMap<>();
        Map<String, float[]> embeddings = new HashMap<>();
        for (ItemVersion item : data.items()) {
            item.embedding = HashingTestEmbedder.embed(item.text());
            item.modelVersion = HashingTestEmbedder.MODEL_VERSION;
            items.put(item.itemId, item);
            embeddings.put(item.itemId, item.embedding);
        }
        Evaluation.GraphSource source =
                GraphReplay.source(GraphParameters.defaults(), items, 5000);

        // cuts at 40% and 60% of each user's events: the drift (at 50%) lies between them
        // content-led weights: in this data the signal is the items' text, not co-occurrence
        // (the defaults, tuned on MovieLens, lean on graph neighbours)
        Recommender.Weights weights = new Recommender.Weights();
        weights.interests = 1;
        weights.shortTerm = 1;
        Evaluation.Result result = new Evaluation(data.items(), data.events(), embeddings,
                weights, 200, 500).withCuts(0.4, 0.6).evaluate(source, true);

        double before = result.row(Evaluation.OURS, "before").at(10).ndcg();
        double after = result.row(Evaluation.OURS, "after").at(10).ndcg();
        assertThat(result.scoredUsers).isEqualTo(60);
        assertThat(after).as("NDCG@10 after the update vs before (%.3f)", before)
                .isGreaterThan(before + 0.15);
        var prequential = result.prequential.overall;
        assertThat(prequential.get("updated graph").ndcg())
                .isGreaterThan(prequential.get("graph frozen at the split").ndcg());
        // and the graph beats plain popularity after the update
        assertThat(after).isGreaterThan(result.row(Evaluation.POPULARITY, "after").at(10).ndcg());
        assertThat(List.of(Evaluation.OURS, Evaluation.INTERESTS_ONLY, Evaluation.ITEM_ITEM,
                Evaluation.POPULARITY)).allSatisfy(m -> result.row(m, "after"));
    }
}
