package dev.interestgraph.graph;

import dev.interestgraph.graph.UserGraph.Edge;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A user's edges, by item id: what {@link GraphUpdater} reads and changes instead of a map it
 * holds, so that the operator can keep the edges where a flush reads and writes only the edges
 * it touches (flink-job's {@code MapStateEdgeStore}, one RocksDB entry per edge) while replays,
 * the materializer side and the unit tests keep them in memory ({@link InMemoryEdgeStore}).
 *
 * <p>Edges are mutable objects: whoever changes an edge it got from the store calls
 * {@link #put} with it afterwards (that marks it changed; an in-memory store ignores the call).
 * Iteration order is unspecified — a store backed by RocksDB iterates in serialized-key order —
 * so every decision that a tie could turn compares item ids explicitly.
 */
public interface EdgeStore {
    /** The edge of {@code itemId}, or null. */
    Edge get(String itemId);

    /** Adds the edge, or notes that the edge (got from this store) changed. */
    void put(Edge edge);

    /** Removes and returns the edge of {@code itemId}, or null when there is none. */
    Edge remove(String itemId);

    /** How many edges there are (without a walk). */
    int size();

    /** Every edge, in an unspecified order; a walk over the store (a RocksDB iteration). */
    Collection<Edge> values();

    /** Removes every edge. */
    void clear();

    default boolean isEmpty() {
        return size() == 0;
    }

    default boolean containsKey(String itemId) {
        return get(itemId) != null;
    }

    /** The item ids, sorted; a walk. */
    default Set<String> keySet() {
        Set<String> ids = new TreeSet<>();
        for (Edge edge : values()) {
            ids.add(edge.itemId);
        }
        return ids;
    }

    /** A sorted copy of the edges by item id (tools, tests); a walk. */
    default Map<String, Edge> asMap() {
        Map<String, Edge> map = new TreeMap<>();
        for (Edge edge : values()) {
            map.put(edge.itemId, edge);
        }
        return map;
    }

    /**
     * A store that knows only how many edges there are: the edges of a graph summary read from
     * state before the operator attaches the store that holds them. Anything else throws.
     */
    static EdgeStore unattached(int size) {
        return new EdgeStore() {
            @Override
            public Edge get(String itemId) {
                throw unattached();
            }

            @Override
            public void put(Edge edge) {
                throw unattached();
            }

            @Override
            public Edge remove(String itemId) {
                throw unattached();
            }

            @Override
            public int size() {
                return size;
            }

            @Override
            public Collection<Edge> values() {
                throw unattached();
            }

            @Override
            public void clear() {
                throw unattached();
            }

            private IllegalStateException unattached() {
                return new IllegalStateException(
                        "the edges of this graph summary are held elsewhere and not attached");
            }
        };
    }
}
