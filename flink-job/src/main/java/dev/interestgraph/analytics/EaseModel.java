package dev.interestgraph.analytics;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeSet;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.linsol.LinearSolverDense;

/**
 * EASE^R (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): the closed-form
 * item–item model {@code B = I − P·diag(1/diag P)}, {@code P = (XᵀX + λI)⁻¹}, so {@code B_ij =
 * −P_ij / P_jj} off the diagonal and {@code B_jj = 0}. A user's score of item j is {@code Σ_i
 * x_i·B_ij} over the items i the user liked; item i's neighbours are the j with the largest
 * {@code B_ij}.
 *
 * <p>X is binary (user liked item). Items nobody liked have a zero column: their rows and columns
 * of B are exactly zero, so they are left out of the matrix (a smaller inverse, the same model).
 * The inverse is EJML's Cholesky ({@code XᵀX + λI} is symmetric positive definite for λ > 0).
 *
 * <p>Dense: two n×n double matrices (the Gram matrix, then the inverse that becomes B), so
 * {@link #denseBytes} = 16·n² bytes and O(n³) time. Measured on MovieLens ml-latest-small
 * (6,229 liked items): 620 MB and 56 s of one core; by n³, {@link #PRACTICAL_MAX_ITEMS} items
 * take 1.6 GB and about 4 minutes, 20,000 items 6.4 GB and half an hour, 50,000 items 40 GB
 * and eight hours. Beyond the limit the analytics job keeps the Gelly measures.
 * Plain Java, no Flink types: the evaluation and the analytics job share it.
 */
public final class EaseModel {
    /** Most items (liked at least once) the analytics job fits a dense model for. */
    public static final int PRACTICAL_MAX_ITEMS = 10_000;

    private final List<String> items;
    private final Map<String, Integer> index;
    private final int n;
    /** B, row-major: {@code b[i * n + j] = B_ij}. */
    private final double[] b;
    private final double lambda;

    private EaseModel(List<String> items, Map<String, Integer> index, double[] b, double lambda) {
        this.items = items;
        this.index = index;
        this.n = items.size();
        this.b = b;
        this.lambda = lambda;
    }

    /** Heap the dense fit needs for {@code items} items: the Gram matrix and its inverse. */
    public static long denseBytes(int items) {
        return 16L * items * items;
    }

    /** The distinct items liked by at least one user: the size of the model's matrices. */
    public static int itemCount(Map<String, ? extends Collection<String>> likedByUser) {
        return collectItems(likedByUser).size();
    }

    /**
     * Fits B on users' liked items (user → items, X binary).
     *
     * @param lambda the L2 penalty λ, positive
     */
    public static EaseModel fit(Map<String, ? extends Collection<String>> likedByUser,
            double lambda) {
        if (!(lambda > 0)) {
            throw new IllegalArgumentException("EASE λ must be positive, got " + lambda);
        }
        List<String> items = new ArrayList<>(collectItems(likedByUser));
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < items.size(); i++) {
            index.put(items.get(i), i);
        }
        int n = items.size();
        // G = XᵀX + λI from the users' lists (sparse rows: co-counts), never X itself
        DMatrixRMaj gram = new DMatrixRMaj(n, n);
        double[] g = gram.data;
        for (Collection<String> liked : likedByUser.values()) {
            int[] rows = liked.stream().distinct().mapToInt(index::get).toArray();
            for (int i : rows) {
                for (int j : rows) {
                    g[i * n + j] += 1;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            g[i * n + i] += lambda;
        }
        DMatrixRMaj p = new DMatrixRMaj(n, n);
        if (n > 0) {
            LinearSolverDense<DMatrixRMaj> cholesky = LinearSolverFactory_DDRM.chol(n);
            if (!cholesky.setA(gram)) {
                throw new IllegalStateException("XᵀX + λI is not positive definite (λ = " + lambda
                        + "): numerically singular");
            }
            cholesky.invert(p);
        }
        gram = null; // the largest allocation: let it go before B is formed in P's place
        double[] pb = p.data;
        double[] diagonal = new double[n];
        for (int j = 0; j < n; j++) {
            diagonal[j] = pb[j * n + j];
        }
        for (int i = 0; i < n; i++) {
            int row = i * n;
            for (int j = 0; j < n; j++) {
                pb[row + j] = i == j ? 0 : -pb[row + j] / diagonal[j];
            }
        }
        return new EaseModel(items, index, pb, lambda);
    }

    private static Set<String> collectItems(Map<String, ? extends Collection<String>> liked) {
        Set<String> items = new TreeSet<>();
        liked.values().forEach(items::addAll);
        return items;
    }

    public double lambda() {
        return lambda;
    }

    /** The items of the model (liked by someone), sorted. */
    public List<String> items() {
        return items;
    }

    /** {@code B_ij}: how much liking {@code from} adds to the score of {@code to} (0 if unknown). */
    public double weight(String from, String to) {
        Integer i = index.get(from);
        Integer j = index.get(to);
        return i == null || j == null ? 0 : b[i * n + j];
    }

    /**
     * The top {@code k} items by {@code Σ_{i ∈ liked} B_ij}, never one in {@code exclude}; ties
     * by item id. Items outside the model (nobody liked them) score 0 and are not ranked.
     */
    public List<String> recommend(Collection<String> liked, Set<String> exclude, int k) {
        return recommend(liked, exclude, k, false);
    }

    /**
     * As {@link #recommend(Collection, Set, int)}; with {@code positiveOnly} the sum takes only
     * the positive {@code B_ij} — what a neighbour table of positive weights keeps of each full
     * row (the evaluation's check of what dropping the negative weights costs).
     */
    public List<String> recommend(Collection<String> liked, Set<String> exclude, int k,
            boolean positiveOnly) {
        double[] score = new double[n];
        for (String item : liked) {
            Integer i = index.get(item);
            if (i == null) {
                continue;
            }
            int row = i * n;
            for (int j = 0; j < n; j++) {
                double w = b[row + j];
                score[j] += positiveOnly && w < 0 ? 0 : w;
            }
        }
        PriorityQueue<Integer> top = new PriorityQueue<>(k + 1, (x, y) ->
                score[x] != score[y] ? Double.compare(score[x], score[y])
                        : items.get(y).compareTo(items.get(x)));
        for (int j = 0; j < n; j++) {
            if (exclude.contains(items.get(j))) {
                continue;
            }
            top.add(j);
            if (top.size() > k) {
                top.poll();
            }
        }
        List<String> ranked = new ArrayList<>(top.size());
        while (!top.isEmpty()) {
            ranked.add(0, items.get(top.poll()));
        }
        return ranked;
    }

    /**
     * Each item's top {@code topN} neighbours j by {@code B_ij}, positive weights only, scaled
     * by the largest weight of the whole model into (0, 1]: one scale for all items, so that a
     * user's summed neighbour scores rank as the EASE scores do.
     */
    public Map<String, Map<String, Float>> neighbours(int topN) {
        return neighbours(topN, false);
    }

    /**
     * As {@link #neighbours(int)}; with {@code negatives} each item also keeps its {@code topN}
     * most negative weights (scaled by the same factor, so below 0 and possibly below −1),
     * after its positive ones. Positives and negatives are kept separately rather than as the
     * top {@code 2·topN} by absolute value: a row of B has far more small negative weights than
     * positive ones, so a shared budget would give up positive neighbours — the only weights that
     * bring candidates — for negative ones, which can only lower candidates another weight
     * brought; separate budgets leave the positive table exactly as it is without negatives.
     */
    public Map<String, Map<String, Float>> neighbours(int topN, boolean negatives) {
        double max = 0;
        for (double w : b) {
            max = Math.max(max, w);
        }
        Map<String, Map<String, Float>> neighbours = new LinkedHashMap<>();
        if (max <= 0) {
            return neighbours;
        }
        for (int i = 0; i < n; i++) {
            int row = i * n;
            Map<String, Float> similar = new LinkedHashMap<>();
            for (int j : strongest(row, topN, 1)) {
                similar.put(items.get(j), (float) (b[row + j] / max));
            }
            if (negatives) {
                for (int j : strongest(row, topN, -1)) {
                    similar.put(items.get(j), (float) (b[row + j] / max));
                }
            }
            if (!similar.isEmpty()) {
                neighbours.put(items.get(i), similar);
            }
        }
        return neighbours;
    }

    /**
     * The columns of row {@code row} with the {@code topN} largest {@code sign·B_ij} among those
     * with {@code sign·B_ij > 0}, strongest first; ties by item id.
     */
    private List<Integer> strongest(int row, int topN, int sign) {
        java.util.Comparator<Integer> weaker = (x, y) -> b[row + x] != b[row + y]
                ? Double.compare(sign * b[row + x], sign * b[row + y])
                : items.get(y).compareTo(items.get(x));
        PriorityQueue<Integer> top = new PriorityQueue<>(topN + 1, weaker);
        for (int j = 0; j < n; j++) {
            if (sign * b[row + j] > 0) {
                top.add(j);
                if (top.size() > topN) {
                    top.poll();
                }
            }
        }
        List<Integer> sorted = new ArrayList<>(top);
        sorted.sort(weaker.reversed());
        return sorted;
    }
}
