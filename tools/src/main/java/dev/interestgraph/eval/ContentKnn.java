package dev.interestgraph.eval;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * The content side at its plainest, for the cold-start item protocol: a candidate's score is the
 * mean cosine of its item vector with the {@value #NEAREST} liked items of the user nearest to it
 * ("more like the items you liked"), from the item texts' embeddings alone — no interaction of
 * anybody with the candidate is read, so it scores an item nobody has seen as well as any other.
 * Beside "interests only" (a user's interest centroids) it shows what the embeddings give when a
 * user's taste is not first summarised into a few centroids. {@value #NEAREST} is fixed, not
 * fitted: one nearest item is the noisiest choice, the mean of all the smoothest.
 *
 * <p>The candidates' unit vectors are one matrix; a user's scores are one product with their
 * liked items' vectors (EJML), then the mean of each row's {@value #NEAREST} largest entries.
 */
final class ContentKnn {
    static final int NEAREST = 3;

    private final Map<String, float[]> embeddings;
    private final List<String> candidates = new ArrayList<>();
    private final DMatrixRMaj candidateVectors;

    /** @param candidates the items it may rank (those without a vector are left out) */
    ContentKnn(Map<String, float[]> embeddings, Collection<String> candidates) {
        this.embeddings = embeddings;
        for (String item : candidates) {
            if (embeddings.get(item) != null) {
                this.candidates.add(item);
            }
        }
        this.candidates.sort(null); // a fixed order: ties break by item id
        int dims = this.candidates.isEmpty() ? 0 : embeddings.get(this.candidates.get(0)).length;
        candidateVectors = unitRows(this.candidates, dims);
    }

    /**
     * The user's candidates, best first, at most {@code k}, without {@code exclude}; empty when
     * the user liked no item with a vector.
     */
    List<String> recommend(Set<String> liked, Set<String> exclude, int k) {
        List<String> likedWithVector = new ArrayList<>();
        liked.stream().filter(item -> embeddings.get(item) != null).sorted()
                .forEach(likedWithVector::add);
        if (likedWithVector.isEmpty() || candidates.isEmpty()) {
            return List.of();
        }
        DMatrixRMaj likedVectors = unitRows(likedWithVector, candidateVectors.numCols);
        DMatrixRMaj cosines = new DMatrixRMaj(candidates.size(), likedWithVector.size());
        CommonOps_DDRM.multTransB(candidateVectors, likedVectors, cosines);
        int nearest = Math.min(NEAREST, likedWithVector.size());
        double[] score = new double[candidates.size()];
        double[] top = new double[nearest];
        for (int row = 0; row < candidates.size(); row++) {
            java.util.Arrays.fill(top, Double.NEGATIVE_INFINITY);
            int offset = row * cosines.numCols;
            for (int col = 0; col < cosines.numCols; col++) {
                double cosine = cosines.data[offset + col];
                if (cosine > top[nearest - 1]) { // insert into the descending top list
                    int at = nearest - 1;
                    while (at > 0 && top[at - 1] < cosine) {
                        top[at] = top[at - 1];
                        at--;
                    }
                    top[at] = cosine;
                }
            }
            double sum = 0;
            for (double t : top) {
                sum += t;
            }
            score[row] = sum / nearest;
        }
        List<Integer> order = new ArrayList<>();
        for (int row = 0; row < candidates.size(); row++) {
            if (!exclude.contains(candidates.get(row))) {
                order.add(row);
            }
        }
        order.sort((a, b) -> Double.compare(score[b], score[a])); // stable: ties keep id order
        List<String> ranked = new ArrayList<>();
        for (int i = 0; i < order.size() && ranked.size() < k; i++) {
            ranked.add(candidates.get(order.get(i)));
        }
        return ranked;
    }

    private DMatrixRMaj unitRows(List<String> items, int dims) {
        DMatrixRMaj matrix = new DMatrixRMaj(items.size(), dims);
        for (int row = 0; row < items.size(); row++) {
            float[] vector = embeddings.get(items.get(row));
            double norm = 0;
            for (float v : vector) {
                norm += (double) v * v;
            }
            double scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
            for (int col = 0; col < dims; col++) {
                matrix.data[row * dims + col] = vector[col] * scale;
            }
        }
        return matrix;
    }
}
