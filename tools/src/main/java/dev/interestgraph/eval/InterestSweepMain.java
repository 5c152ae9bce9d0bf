package dev.interestgraph.eval;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.MovieLensDataset;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.inference.MiniLmEncoder;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.recommend.RankingMetrics;
import dev.interestgraph.recommend.Recommender;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;

/**
 * The interest parameters' evaluation (issue 17), cheap enough for a shared machine: item
 * vectors from all-MiniLM-L6-v2 ({@link MiniLmEncoder}, the job's model) computed once, graphs
 * from the in-process replay of the operator's logic ({@link GraphReplay}, proven equal to the
 * job by GraphReplayTest), the rows of {@link Evaluation} at K = 10.
 *
 * <p>{@code --eval.window validation} (default) scores each setting on the validation window:
 * every user's training events events[:b] are cut again at ⌊0.8·b⌋, graphs at that cut, targets
 * the liked items of events[⌊0.8·b⌋:b] — the defaults are chosen here, never on the target.
 * {@code --eval.window target} scores the standard split (graph at b, targets events[b:]).
 * Settings: {@code --eval.settings "join,merge,minItems,minWeight;..."}; without it the job's
 * options (any {@code --graph.*} given) as one setting. Other options as {@link EvaluationMain}:
 * {@code --eval.data DIR}, {@code --eval.max-users N}; {@code --eval.embeddings FILE} caches the
 * item vectors between runs; {@code --eval.rows all} scores every row of the before/after table
 * (default: interests only, multi-interest retrieval and popularity, after the update).
 */
public final class InterestSweepMain {
    private InterestSweepMain() {}

    public static void main(String[] args) throws Exception {
        Configuration options = InterestGraphOptions.fromArgs(args);
        String data = options.getString("eval.data", "");
        int maxUsers = options.getInteger("eval.max-users", 0);
        String window = options.getString("eval.window", "validation");
        String cache = options.getString("eval.embeddings", "");
        String settings = options.getString("eval.settings", "");
        boolean allRows = options.getString("eval.rows", "interests").equals("all");
        Configuration jobOptions = EvaluationMain.jobOptions(options);

        List<ItemVersion> items;
        List<UserAction> replay;
        if (data.isEmpty()) {
            SyntheticDataset generated = SyntheticDataset.builder().users(300).itemsPerTopic(40)
                    .eventsPerUser(60).spanMs(Duration.ofDays(120).toMillis()).build();
            items = generated.items();
            replay = generated.events();
        } else {
            MovieLensDataset movieLens = MovieLensDataset.load(Path.of(data), 0);
            items = movieLens.items();
            replay = movieLens.events().stream().filter(e -> e.action == Action.RATE)
                    .collect(Collectors.toList());
        }
        if (maxUsers > 0) {
            Set<String> kept = replay.stream().map(e -> e.userId).distinct()
                    .sorted(Comparator.comparing((String u) -> u.length()).thenComparing(u -> u))
                    .limit(maxUsers).collect(Collectors.toSet());
            replay = replay.stream().filter(e -> kept.contains(e.userId))
                    .collect(Collectors.toList());
        }
        Map<String, float[]> embeddings = embed(items, cache);
        Map<String, ItemVersion> catalogue = new HashMap<>();
        for (ItemVersion item : items) {
            item.embedding = embeddings.get(item.itemId);
            item.modelVersion = "1";
            catalogue.put(item.itemId, item);
        }
        List<UserAction> scored = window.equals("target") ? replay
                : TemporalSplit.standard(replay).afterUpdate();
        System.out.printf("%s window: %,d events of %,d users, %,d items%n", window,
                scored.size(), scored.stream().map(e -> e.userId).distinct().count(),
                items.size());

        List<String[]> grid = new ArrayList<>();
        if (settings.isEmpty()) {
            grid.add(null);
        } else {
            for (String setting : settings.split(";")) {
                grid.add(setting.trim().split(","));
            }
        }
        Recommender.Weights weights = InterestGraphOptions.recommenderWeights(jobOptions);
        System.out.println("| join | merge | min items | min weight | interests per user "
                + "| method | NDCG@10 | R@10 | HR@10 |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        for (String[] setting : grid) {
            Configuration config = new Configuration(jobOptions);
            if (setting != null) {
                config.setString(InterestGraphOptions.INTEREST_JOIN_THRESHOLD.key(), setting[0]);
                config.setString("graph.interest-merge-threshold", setting[1]);
                config.setString("graph.interest-min-items", setting[2]);
                config.setString("graph.interest-min-weight", setting[3]);
            }
            GraphParameters params = InterestGraphOptions.graphParameters(config);
            Evaluation.GraphSource graphs = GraphReplay.source(params, catalogue);
            Evaluation evaluation = new Evaluation(items, scored, embeddings, weights, 1000, 0);
            if (!allRows) {
                evaluation.interestRowsOnly();
            }
            Evaluation.Result result = evaluation.evaluate(graphs, false);
            for (Evaluation.Row row : result.rows) {
                if (!row.phase.equals("after") || !row.slice.equals(Evaluation.ALL)) {
                    continue;
                }
                RankingMetrics.Summary at10 = row.at(10);
                System.out.printf("| %s | %s | %s | %s | %.2f | %s | %.4f | %.4f | %.4f |%n",
                        setting == null ? "-" : setting[0], setting == null ? "-" : setting[1],
                        setting == null ? "-" : setting[2], setting == null ? "-" : setting[3],
                        result.interestsPerUserAfter, row.method, at10.ndcg(), at10.recall(),
                        at10.hitRate());
            }
        }
    }

    /** Every item's vector of {@link ItemVersion#text()}, from the cache file when it has them. */
    private static Map<String, float[]> embed(List<ItemVersion> items, String cache)
            throws IOException {
        Map<String, float[]> vectors = new HashMap<>();
        Path file = cache.isEmpty() ? null : Path.of(cache);
        if (file != null && Files.exists(file)) {
            try (DataInputStream in = new DataInputStream(
                    new java.io.BufferedInputStream(Files.newInputStream(file)))) {
                int n = in.readInt();
                for (int i = 0; i < n; i++) {
                    String id = in.readUTF();
                    float[] v = new float[in.readInt()];
                    for (int d = 0; d < v.length; d++) {
                        v[d] = in.readFloat();
                    }
                    vectors.put(id, v);
                }
            }
            if (items.stream().allMatch(item -> vectors.containsKey(item.itemId))) {
                return vectors;
            }
            vectors.clear();
        }
        long started = System.nanoTime();
        try (MiniLmEncoder encoder = MiniLmEncoder.load()) {
            for (int from = 0; from < items.size(); from += 64) {
                List<ItemVersion> batch = items.subList(from, Math.min(items.size(), from + 64));
                float[][] encoded = encoder.encode(batch.stream().map(ItemVersion::text).toList());
                for (int i = 0; i < encoded.length; i++) {
                    vectors.put(batch.get(i).itemId, encoded[i]);
                }
            }
        }
        System.out.printf("embedded %,d items in %.0f s%n", items.size(),
                (System.nanoTime() - started) / 1e9);
        if (file != null) {
            try (DataOutputStream out = new DataOutputStream(
                    new java.io.BufferedOutputStream(Files.newOutputStream(file)))) {
                out.writeInt(vectors.size());
                for (Map.Entry<String, float[]> entry : vectors.entrySet()) {
                    out.writeUTF(entry.getKey());
                    out.writeInt(entry.getValue().length);
                    for (float x : entry.getValue()) {
                        out.writeFloat(x);
                    }
                }
            }
        }
        return vectors;
    }
}
