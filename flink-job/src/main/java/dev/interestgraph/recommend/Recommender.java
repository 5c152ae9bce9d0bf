package dev.interestgraph.recommend;

import dev.interestgraph.delta.DeltaMaterializer.UserView;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v1.InterestUpsert;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Recommends items to a user from their materialised interest graph: similarity of each candidate
 * item to the user's interest centroids (weighted by interest weight), plus graph neighbours
 * (item–item similarity to the items on the user's edges, weighted by edge weight) when a
 * neighbour table is given, plus popularity — which alone serves users without a graph. Items the
 * graph already holds (seen, disliked) are never recommended. Each recommendation says why.
 */
public final class Recommender {

    /** One recommended item with its score and explanation. */
    public static final class Recommendation {
        public final String itemId;
        public final double score;
        /** The interest it is most similar to, or -1. */
        public final int interestId;
        /** The user's item whose neighbour it is (strongest contribution), or null. */
        public final String becauseOf;

        Recommendation(String itemId, double score, int interestId, String becauseOf) {
            this.itemId = itemId;
            this.score = score;
            this.interestId = interestId;
            this.becauseOf = becauseOf;
        }

        @Override
        public String toString() {
            return itemId + String.format(" (%.3f", score)
                    + (interestId >= 0 ? ", interest " + interestId : "")
                    + (becauseOf != null ? ", like " + becauseOf : "") + ")";
        }
    }

    /**
     * Weights of the signals and the edge half-life used to weigh edges now. Defaults from the
     * sweep on MovieLens (docs/evaluation.md): the collaborative signal (graph neighbours) carries
     * the ranking; content similarity (interests, short-term profile) only breaks ties — with the
     * two at 1.0 NDCG@10 fell from ~0.114 to ~0.080.
     */
    public static final class Weights {
        public double interests = 0.1;
        /** Similarity to the short-term profile: what the user is into right now. */
        public double shortTerm = 0.1;
        public double neighbours = 1.0;
        public double popularity = 0.05;
        public long halfLifeMs = 30L * 24 * 3600 * 1000;
    }

    private final List<String> itemIds;
    private final float[][] vectors;
    private final Map<String, Integer> index = new HashMap<>();
    private final Map<String, Map<String, Float>> neighbours;
    private final double[] popularity;
    private final Weights weights;

    /**
     * @param itemEmbeddings L2-normalised item vectors; the candidates are these items
     * @param neighbours item → similar items with similarity (may be empty)
     * @param popularityCounts item → interaction count (may be empty)
     */
    public Recommender(Map<String, float[]> itemEmbeddings,
            Map<String, Map<String, Float>> neighbours, Map<String, Integer> popularityCounts,
            Weights weights) {
        this.itemIds = new ArrayList<>(itemEmbeddings.keySet());
        Collections.sort(itemIds);
        this.vectors = new float[itemIds.size()][];
        for (int i = 0; i < itemIds.size(); i++) {
            index.put(itemIds.get(i), i);
            vectors[i] = itemEmbeddings.get(itemIds.get(i));
        }
        this.neighbours = Objects.requireNonNull(neighbours);
        int maxCount = popularityCounts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        this.popularity = new double[itemIds.size()];
        for (int i = 0; i < itemIds.size(); i++) {
            int count = popularityCounts.getOrDefault(itemIds.get(i), 0);
            popularity[i] = maxCount == 0 ? 0 : Math.log1p(count) / Math.log1p(maxCount);
        }
        this.weights = weights;
    }

    /** The top {@code k} items for the user (null or empty graph: the most popular). */
    public List<Recommendation> recommend(UserView user, int k) {
        return recommend(user, Set.of(), k);
    }

    /**
     * The top {@code k} items for the user, never an item the graph holds nor one in {@code
     * exclude} (e.g. everything the user has already seen).
     */
    public List<Recommendation> recommend(UserView user, Set<String> exclude, int k) {
        int n = itemIds.size();
        double[] interestScore = new double[n];
        int[] bestInterest = new int[n];
        java.util.Arrays.fill(bestInterest, -1);
        double[] neighbourScore = new double[n];
        String[] because = new String[n];
        double[] becauseWeight = new double[n];
        boolean[] excluded = new boolean[n];
        for (String item : exclude) {
            Integer i = index.get(item);
            if (i != null) {
                excluded[i] = true;
            }
        }

        if (user != null) {
            long now = user.eventTimeMs();
            for (String seen : user.edges().keySet()) {
                Integer i = index.get(seen);
                if (i != null) {
                    excluded[i] = true;
                }
            }
            scoreInterests(user, interestScore, bestInterest);
            scoreShortTerm(user, interestScore);
            scoreNeighbours(user, now, neighbourScore, because, becauseWeight);
        }
        PriorityQueue<Recommendation> top = new PriorityQueue<>(k + 1,
                (a, b) -> a.score != b.score ? Double.compare(a.score, b.score)
                        : b.itemId.compareTo(a.itemId));
        for (int i = 0; i < n; i++) {
            if (excluded[i]) {
                continue;
            }
            double score = weights.interests * interestScore[i]
                    + weights.neighbours * neighbourScore[i]
                    + weights.popularity * popularity[i];
            if (top.size() < k || score > top.peek().score
                    || score == top.peek().score && itemIds.get(i).compareTo(top.peek().itemId) < 0) {
                top.add(new Recommendation(itemIds.get(i), score, bestInterest[i], because[i]));
                if (top.size() > k) {
                    top.poll();
                }
            }
        }
        List<Recommendation> ranked = new ArrayList<>(top);
        ranked.sort((a, b) -> a.score != b.score ? Double.compare(b.score, a.score)
                : a.itemId.compareTo(b.itemId));
        return ranked;
    }

    private void scoreInterests(UserView user, double[] score, int[] best) {
        double maxWeight = user.interests().values().stream()
                .mapToDouble(InterestUpsert::getWeight).max().orElse(0);
        if (maxWeight <= 0) {
            return;
        }
        for (InterestUpsert interest : user.interests().values()) {
            if (interest.getCentroidCount() == 0 || interest.getWeight() <= 0) {
                continue;
            }
            float[] centroid = new float[interest.getCentroidCount()];
            for (int d = 0; d < centroid.length; d++) {
                centroid[d] = interest.getCentroid(d);
            }
            double relative = interest.getWeight() / maxWeight;
            for (int i = 0; i < vectors.length; i++) {
                float[] v = vectors[i];
                if (v.length != centroid.length) {
                    continue; // another model's vectors are not comparable
                }
                double dot = 0;
                for (int d = 0; d < v.length; d++) {
                    dot += v[d] * centroid[d];
                }
                double s = relative * Math.max(0, dot);
                if (s > score[i]) {
                    score[i] = s;
                    best[i] = interest.getInterestId();
                }
            }
        }
    }

    /** Adds the short-term profile's similarity (relative to the interest weight) in place. */
    private void scoreShortTerm(UserView user, double[] score) {
        if (weights.shortTerm == 0 || user.profile().isEmpty()
                || user.profile().get().getShortTermCount() == 0 || weights.interests == 0) {
            return;
        }
        List<Float> profile = user.profile().get().getShortTermList();
        float[] shortTerm = new float[profile.size()];
        for (int d = 0; d < shortTerm.length; d++) {
            shortTerm[d] = profile.get(d);
        }
        double scale = weights.shortTerm / weights.interests;
        for (int i = 0; i < vectors.length; i++) {
            float[] v = vectors[i];
            if (v.length != shortTerm.length) {
                continue;
            }
            double dot = 0;
            for (int d = 0; d < v.length; d++) {
                dot += v[d] * shortTerm[d];
            }
            score[i] += scale * Math.max(0, dot);
        }
    }

    private void scoreNeighbours(UserView user, long now, double[] score, String[] because,
            double[] becauseWeight) {
        if (neighbours.isEmpty()) {
            return;
        }
        double total = 0;
        for (EdgeUpsert edge : user.edges().values()) {
            double w = decayed(edge, now);
            if (w <= 0) {
                continue;
            }
            total += w;
            for (Map.Entry<String, Float> similar :
                    neighbours.getOrDefault(edge.getItemId(), Map.of()).entrySet()) {
                Integer i = index.get(similar.getKey());
                if (i == null) {
                    continue;
                }
                double contribution = w * similar.getValue();
                score[i] += contribution;
                if (contribution > becauseWeight[i]) {
                    becauseWeight[i] = contribution;
                    because[i] = edge.getItemId();
                }
            }
        }
        if (total > 0) {
            for (int i = 0; i < score.length; i++) {
                score[i] /= total;
            }
        }
    }

    private double decayed(EdgeUpsert edge, long now) {
        long elapsed = Math.max(0, now - edge.getLastMs());
        return edge.getWeight() * Math.pow(2, -(double) elapsed / weights.halfLifeMs);
    }
}
