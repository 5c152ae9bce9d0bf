package dev.interestgraph.recommend;

import java.util.List;
import java.util.Set;

/**
 * Top-K ranking metrics for one user, with binary relevance. Averaged over users by {@link
 * Summary}; F1 is the mean of per-user F1 (not the F1 of mean precision and recall).
 */
public final class RankingMetrics {
    public final double precision;
    public final double recall;
    public final double f1;
    public final double ndcg;
    public final double hitRate;

    private RankingMetrics(double precision, double recall, double f1, double ndcg,
            double hitRate) {
        this.precision = precision;
        this.recall = recall;
        this.f1 = f1;
        this.ndcg = ndcg;
        this.hitRate = hitRate;
    }

    /**
     * Scores a ranked list (best first; only the first {@code k} count) against the relevant
     * items. Precision divides by {@code k} even when fewer items were ranked.
     */
    public static RankingMetrics at(int k, List<String> ranked, Set<String> relevant) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        if (relevant.isEmpty()) {
            throw new IllegalArgumentException("a user without relevant items cannot be scored");
        }
        int hits = 0;
        double dcg = 0;
        for (int i = 0; i < Math.min(k, ranked.size()); i++) {
            if (relevant.contains(ranked.get(i))) {
                hits++;
                dcg += 1.0 / log2(i + 2);
            }
        }
        double idcg = 0;
        for (int i = 0; i < Math.min(k, relevant.size()); i++) {
            idcg += 1.0 / log2(i + 2);
        }
        double precision = (double) hits / k;
        double recall = (double) hits / relevant.size();
        double f1 = hits == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return new RankingMetrics(precision, recall, f1, dcg / idcg, hits > 0 ? 1 : 0);
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    /** Means over users. */
    public static final class Summary {
        private int users;
        private double precision;
        private double recall;
        private double f1;
        private double ndcg;
        private double hitRate;

        public void add(RankingMetrics m) {
            users++;
            precision += m.precision;
            recall += m.recall;
            f1 += m.f1;
            ndcg += m.ndcg;
            hitRate += m.hitRate;
        }

        public int users() {
            return users;
        }

        public double precision() {
            return users == 0 ? 0 : precision / users;
        }

        public double recall() {
            return users == 0 ? 0 : recall / users;
        }

        public double f1() {
            return users == 0 ? 0 : f1 / users;
        }

        public double ndcg() {
            return users == 0 ? 0 : ndcg / users;
        }

        public double hitRate() {
            return users == 0 ? 0 : hitRate / users;
        }
    }
}
