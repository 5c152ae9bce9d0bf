package dev.interestgraph.eval;

import dev.interestgraph.config.InterestGraphOptions;
import static dev.interestgraph.config.InterestGraphOptions.EDGE_HALF_LIFE;
import static dev.interestgraph.config.InterestGraphOptions.IDLE_TTL;
import static dev.interestgraph.config.InterestGraphOptions.INTEREST_JOIN_THRESHOLD;
import static dev.interestgraph.config.InterestGraphOptions.INTEREST_MERGE_THRESHOLD;
import static dev.interestgraph.config.InterestGraphOptions.MAX_INTERESTS;
import static dev.interestgraph.config.InterestGraphOptions.PRUNE_THRESHOLD;

import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.recommend.RankingMetrics;
import dev.interestgraph.recommend.Recommender;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;

/**
 * One-at-a-time sweep of the graph parameters around the configured values (prune threshold,
 * half-life, K interests, τ, the interest merge threshold) and of the recommender's signal
 * weights. Graphs come from {@link GraphReplay} — the operator's own logic, in-process — so that
 * dozens of settings fit in minutes; the headline numbers come from the real job.
 */
final class Sweep {
    private static final int NEIGHBOURS_PER_ITEM = 1000;

    private Sweep() {}

    static String run(List<ItemVersion> items, List<UserAction> replay,
            Map<String, float[]> embeddings, Configuration base, Recommender.Weights weights)
            throws Exception {
        Map<String, ItemVersion> catalogue = EvaluationMain.catalogue(items, embeddings);
        // Every setting scores the same events against the same cosine table, and several
        // settings are the defaults again (each parameter's middle value, the weight mixes):
        // the table is computed once and each distinct graph parameter set replayed once.
        Map<String, Map<String, Float>> cosine = ItemItemCosine.neighbours(
                new TemporalSplit(replay, 0.6, 0.8).afterUpdate(), NEIGHBOURS_PER_ITEM);
        Map<String, List<GraphDelta>> replays = new HashMap<>();
        StringBuilder md = new StringBuilder();
        md.append("Graphs from the in-process replay of the operator's logic (`GraphReplay`, "
                + "proven equal to the operator by `GraphReplayTest`); our recommender on the "
                + "updated graph (after events[:b]), one parameter varied at a time, the others at "
                + "their defaults.\n\n");
        md.append("| parameter | value | NDCG@10 | P@10 | R@10 | HR@10 | edges per user |\n"
                + "|---|---|---|---|---|---|---|\n");
        String[][] grid = {
            {PRUNE_THRESHOLD.key(), "0.01", "0.05", "0.5"},
            {EDGE_HALF_LIFE.key(), "7 d", "30 d", "365 d"},
            {MAX_INTERESTS.key(), "3", "6", "10"},
            {INTEREST_JOIN_THRESHOLD.key(), "0.3", "0.5", "0.7"},
            {INTEREST_MERGE_THRESHOLD.key(), "0.3", "0.4", "0.7"},
            {IDLE_TTL.key(), "180 d", "730 d"},
        };
        for (String[] parameter : grid) {
            for (int v = 1; v < parameter.length; v++) {
                Configuration config = new Configuration(base);
                config.setString(parameter[0], parameter[v]);
                row(md, parameter[0], parameter[v], config, items, replay, embeddings, catalogue,
                        weights, cosine, replays);
            }
        }
        md.append("\nRecommender signal weights (graph at defaults):\n\n");
        md.append("| weights (interests, short-term, neighbours, popularity) | NDCG@10 | P@10 | "
                + "R@10 | HR@10 |\n|---|---|---|---|---|\n");
        double[][] mixes = {{1, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 1, 0.05}, {0.1, 0.1, 1, 0.05},
            {0.3, 0.3, 1, 0.05}, {1, 1, 1, 0.05}};
        for (double[] mix : mixes) {
            Recommender.Weights w = new Recommender.Weights();
            w.interests = mix[0];
            w.shortTerm = mix[1];
            w.neighbours = mix[2];
            w.popularity = mix[3];
            w.halfLifeMs = weights.halfLifeMs;
            Evaluation.Result result = evaluate(items, replay, embeddings, catalogue, base, w,
                    cosine, replays);
            RankingMetrics.Summary after = result.row(Evaluation.OURS, "after").at(10);
            md.append(String.format("| %.2f, %.2f, %.2f, %.2f | %.4f | %.4f | %.4f | %.4f |%n",
                    mix[0], mix[1], mix[2], mix[3], after.ndcg(), after.precision(),
                    after.recall(), after.hitRate()));
        }
        return md.toString();
    }

    private static void row(StringBuilder md, String key, String value, Configuration config,
            List<ItemVersion> items, List<UserAction> replay, Map<String, float[]> embeddings,
            Map<String, ItemVersion> catalogue, Recommender.Weights weights,
            Map<String, Map<String, Float>> cosine,
            Map<String, List<GraphDelta>> replays) throws Exception {
        Evaluation.Result result = evaluate(items, replay, embeddings, catalogue, config, weights,
                cosine, replays);
        RankingMetrics.Summary after = result.row(Evaluation.OURS, "after").at(10);
        md.append(String.format("| `%s` | %s | %.4f | %.4f | %.4f | %.4f | %.1f |%n", key, value,
                after.ndcg(), after.precision(), after.recall(), after.hitRate(),
                result.edgesPerUserAfter));
        System.out.printf("      %s = %s: NDCG@10 after %.4f%n", key, value, after.ndcg());
    }

    private static Evaluation.Result evaluate(List<ItemVersion> items, List<UserAction> replay,
            Map<String, float[]> embeddings, Map<String, ItemVersion> catalogue,
            Configuration config, Recommender.Weights weights,
            Map<String, Map<String, Float>> cosine,
            Map<String, List<GraphDelta>> replays) throws Exception {
        GraphParameters parameters = InterestGraphOptions.graphParameters(config);
        Evaluation.GraphSource replayed = GraphReplay.source(parameters, catalogue);
        // one replay per distinct parameter set: the evaluation asks for the deltas of the same
        // events each time
        String settings = key(parameters);
        Evaluation.GraphSource graphs = events -> {
            // the evaluation's cuts of the same replay differ in size (the sweep asks for one)
            String key = settings + "/" + events.size();
            List<GraphDelta> deltas = replays.get(key);
            if (deltas == null) {
                deltas = replayed.deltas(events);
                replays.put(key, deltas);
            }
            return deltas;
        };
        return new Evaluation(items, replay, embeddings, weights, NEIGHBOURS_PER_ITEM, 0)
                .oursAfterOnly().withCosineNeighbours(cosine).evaluate(graphs, false);
    }

    /** GraphParameters has no equals: its serialised form (all fields) is the key. */
    static String key(GraphParameters parameters) throws java.io.IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(parameters);
        }
        return java.util.Base64.getEncoder().encodeToString(bytes.toByteArray());
    }
}
