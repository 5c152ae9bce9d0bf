package dev.interestgraph.graph;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * The periodic re-clustering of a user's interests (PinnerSage-style, at the decay sweep):
 * agglomerative clustering with Ward linkage, and the matching of the new clusters to the old
 * interest ids by shared members, so that an interest whose membership barely changed keeps its
 * id (consumers key their caches and explanations by it).
 *
 * <p>Hand-written rather than from a library: the core depends on protobuf only, and the input is
 * at most graph.max-interests (≤ 64) points, for which the plain O(n³) loop below is both the
 * clearest and fast enough.
 */
public final class InterestClustering {
    private InterestClustering() {}

    /**
     * Ward agglomerative clustering of weighted unit vectors: repeatedly merges the two clusters
     * whose merge raises the within-cluster sum of squares least, Δ = wa·wb/(wa+wb)·‖ma − mb‖²
     * (ma, mb the clusters' weighted means), among the pairs whose means' cosine is at least
     * {@code minCosine}; stops when no pair is that similar. Unrelated clusters therefore never
     * merge, however few there are.
     *
     * @return the clusters as lists of input indexes (each ascending), ordered by first index
     */
    public static List<List<Integer>> ward(List<float[]> vectors, double[] weights,
            double minCosine) {
        int n = vectors.size();
        List<List<Integer>> clusters = new ArrayList<>(n);
        List<double[]> means = new ArrayList<>(n);
        List<Double> masses = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            clusters.add(new ArrayList<>(List.of(i)));
            double[] mean = new double[vectors.get(i).length];
            for (int d = 0; d < mean.length; d++) {
                mean[d] = vectors.get(i)[d];
            }
            means.add(mean);
            // a weight of 0 (a decayed interest) still counts as a point
            masses.add(Math.max(weights[i], 1e-9));
        }
        while (clusters.size() > 1) {
            int bestA = -1;
            int bestB = -1;
            double bestCost = Double.POSITIVE_INFINITY;
            for (int a = 0; a < clusters.size(); a++) {
                for (int b = a + 1; b < clusters.size(); b++) {
                    double[] ma = means.get(a);
                    double[] mb = means.get(b);
                    if (cosine(ma, mb) < minCosine) {
                        continue;
                    }
                    double wa = masses.get(a);
                    double wb = masses.get(b);
                    double cost = wa * wb / (wa + wb) * squaredDistance(ma, mb);
                    if (cost < bestCost) {
                        bestCost = cost;
                        bestA = a;
                        bestB = b;
                    }
                }
            }
            if (bestA < 0) {
                break;
            }
            double wa = masses.get(bestA);
            double wb = masses.get(bestB);
            double[] ma = means.get(bestA);
            double[] mb = means.get(bestB);
            for (int d = 0; d < ma.length; d++) {
                ma[d] = (ma[d] * wa + mb[d] * wb) / (wa + wb);
            }
            masses.set(bestA, wa + wb);
            clusters.get(bestA).addAll(clusters.get(bestB));
            clusters.get(bestA).sort(null);
            clusters.remove(bestB);
            means.remove(bestB);
            masses.remove(bestB);
        }
        return clusters;
    }

    /**
     * Matches new clusters to old ids by member overlap, greedily (largest overlap first, ties to
     * the smaller old id, then the earlier new cluster): each old id goes to at most one new
     * cluster, and a new cluster that shares no member with an unmatched old one gets -1 (a new
     * id). Greedy rather than Hungarian: with the overlaps of nested or near-identical clusters
     * the two agree, and the greedy order is easy to explain to whoever reads the ids.
     *
     * @return per new cluster, the old id it keeps, or -1
     */
    public static int[] matchIds(List<? extends Collection<String>> oldMembers, int[] oldIds,
            List<? extends Set<String>> newMembers) {
        List<long[]> pairs = new ArrayList<>(); // overlap, old index, new index
        for (int o = 0; o < oldMembers.size(); o++) {
            for (int c = 0; c < newMembers.size(); c++) {
                long overlap = 0;
                for (String member : oldMembers.get(o)) {
                    if (newMembers.get(c).contains(member)) {
                        overlap++;
                    }
                }
                if (overlap > 0) {
                    pairs.add(new long[] {overlap, o, c});
                }
            }
        }
        pairs.sort((x, y) -> x[0] != y[0] ? Long.compare(y[0], x[0])
                : oldIds[(int) x[1]] != oldIds[(int) y[1]]
                        ? Integer.compare(oldIds[(int) x[1]], oldIds[(int) y[1]])
                        : Long.compare(x[2], y[2]));
        int[] matched = new int[newMembers.size()];
        java.util.Arrays.fill(matched, -1);
        boolean[] oldTaken = new boolean[oldMembers.size()];
        for (long[] pair : pairs) {
            int o = (int) pair[1];
            int c = (int) pair[2];
            if (!oldTaken[o] && matched[c] == -1) {
                oldTaken[o] = true;
                matched[c] = oldIds[o];
            }
        }
        return matched;
    }

    private static double cosine(double[] a, double[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int d = 0; d < a.length; d++) {
            dot += a[d] * b[d];
            na += a[d] * a[d];
            nb += b[d] * b[d];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }

    private static double squaredDistance(double[] a, double[] b) {
        double sum = 0;
        for (int d = 0; d < a.length; d++) {
            double diff = a[d] - b[d];
            sum += diff * diff;
        }
        return sum;
    }
}
