package dev.interestgraph.recommend;

import dev.interestgraph.proto.v1.EdgeUpsert;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The part of a user's graph the recommender needs: the edges (item, weight decayed to last_ms,
 * last_ms), sorted by item id. A POJO of arrays so that Flink serialises it without Kryo and
 * compactly (~30 bytes per edge).
 */
public class UserEdges {
    public long epoch;
    public long eventTimeMs;
    public String[] items = new String[0];
    public double[] weights = new double[0];
    public long[] lastMs = new long[0];

    public UserEdges() {}

    public int size() {
        return items.length;
    }

    /** Inserts or replaces the edge of {@code itemId}. */
    public void upsert(String itemId, double weight, long last) {
        int i = Arrays.binarySearch(items, itemId);
        if (i >= 0) {
            weights[i] = weight;
            lastMs[i] = last;
            return;
        }
        int at = -i - 1;
        items = insert(items, at, itemId);
        double[] w = new double[weights.length + 1];
        long[] l = new long[lastMs.length + 1];
        System.arraycopy(weights, 0, w, 0, at);
        System.arraycopy(lastMs, 0, l, 0, at);
        w[at] = weight;
        l[at] = last;
        System.arraycopy(weights, at, w, at + 1, weights.length - at);
        System.arraycopy(lastMs, at, l, at + 1, lastMs.length - at);
        weights = w;
        lastMs = l;
    }

    public void remove(String itemId) {
        int i = Arrays.binarySearch(items, itemId);
        if (i < 0) {
            return;
        }
        String[] it = new String[items.length - 1];
        double[] w = new double[weights.length - 1];
        long[] l = new long[lastMs.length - 1];
        System.arraycopy(items, 0, it, 0, i);
        System.arraycopy(items, i + 1, it, i, items.length - i - 1);
        System.arraycopy(weights, 0, w, 0, i);
        System.arraycopy(weights, i + 1, w, i, weights.length - i - 1);
        System.arraycopy(lastMs, 0, l, 0, i);
        System.arraycopy(lastMs, i + 1, l, i, lastMs.length - i - 1);
        items = it;
        weights = w;
        lastMs = l;
    }

    /** The edges as the Recommender reads them. */
    public List<EdgeUpsert> asEdges() {
        List<EdgeUpsert> edges = new ArrayList<>(items.length);
        for (int i = 0; i < items.length; i++) {
            edges.add(EdgeUpsert.newBuilder().setItemId(items[i]).setWeight(weights[i])
                    .setLastMs(lastMs[i]).build());
        }
        return edges;
    }

    private static String[] insert(String[] array, int at, String value) {
        String[] copy = new String[array.length + 1];
        System.arraycopy(array, 0, copy, 0, at);
        copy[at] = value;
        System.arraycopy(array, at, copy, at + 1, array.length - at);
        return copy;
    }
}
