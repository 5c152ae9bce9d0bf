package dev.interestgraph.usergraph;

import dev.interestgraph.graph.EdgeStore;
import dev.interestgraph.graph.UserGraph.Edge;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.state.MapState;

/**
 * The current user's edges in the operator's {@code graph-edges} map state, one entry per edge
 * (issue 16): a flush reads the edges it looks up (point reads, cached for the flush, so that
 * the updater's in-place changes land on one object), and {@link #writeBack} writes only those
 * put or removed. The count comes from the graph's summary, so {@link #size} needs no
 * iteration. What still walks the edges ({@link #values}: the sweep's prune check, the cap's
 * scan at the cap, re-clustering, an eviction's or merge's member moves, a re-base, expiry)
 * iterates the map — on RocksDB an iteration over the user's key prefix — once per flush; a
 * second walk reads what the first cached.
 *
 * <p>One store per flush of one key: it must not outlive the keyed context it was made in.
 */
final class MapStateEdgeStore implements EdgeStore {
    private final MapState<String, Edge> state;
    /** Edges read or written in this flush; a null value: known absent (or removed). */
    private final Map<String, Edge> cache = new HashMap<>();
    /** Keys put or removed since the store was made: what {@link #writeBack} writes. */
    private final Set<String> dirty = new LinkedHashSet<>();
    /** Keys put in this flush that the state did not hold: what an iteration adds to it. */
    private final Set<String> added = new LinkedHashSet<>();
    /** Whether the whole map is to be cleared first (then nothing stored is read). */
    private boolean cleared;
    /**
     * The stored keys in the state's order, once {@link #values} has walked them (all of them
     * are in the cache then): a later walk in the same flush — the sweep's prune check, then the
     * cap, a re-clustering or a merge's member moves — reads the cache instead of iterating the
     * state again, and a look-up of a key not among them is known absent.
     */
    private List<String> walked;
    private int size;

    /** The store over {@code state}, which holds {@code size} edges (the summary's count). */
    MapStateEdgeStore(MapState<String, Edge> state, int size) {
        this.state = state;
        this.size = size;
    }

    /** A store that replaces whatever {@code state} holds (a graph begun in this flush). */
    static MapStateEdgeStore replacing(MapState<String, Edge> state) {
        MapStateEdgeStore store = new MapStateEdgeStore(state, 0);
        store.cleared = true;
        return store;
    }

    /** The edge as the updater works on it: with its item id (a stored value has none). */
    private static Edge keyed(String itemId, Edge stored) {
        return stored == null || itemId.equals(stored.itemId) ? stored : new Edge(itemId, stored);
    }

    @Override
    public Edge get(String itemId) {
        Edge edge = cache.get(itemId);
        if (edge != null || cleared || cache.containsKey(itemId)) {
            return edge;
        }
        if (walked != null) {
            added.add(itemId); // every stored key is cached after a walk: not in the state
            cache.put(itemId, null);
            return null;
        }
        try {
            edge = keyed(itemId, state.get(itemId));
        } catch (Exception e) {
            throw new IllegalStateException("cannot read an edge from state", e);
        }
        cache.put(itemId, edge);
        if (edge == null) {
            added.add(itemId); // not in the state: if put, an iteration must add it
        }
        return edge;
    }

    @Override
    public void put(Edge edge) {
        if (get(edge.itemId) == null) {
            size++;
            if (cleared) {
                added.add(edge.itemId);
            }
        }
        cache.put(edge.itemId, edge);
        dirty.add(edge.itemId);
    }

    @Override
    public Edge remove(String itemId) {
        Edge edge = get(itemId);
        if (edge != null) {
            size--;
            cache.put(itemId, null);
            dirty.add(itemId);
        }
        return edge;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    /** Every edge: the stored ones (as changed in this flush) and those added in it. */
    @Override
    public Collection<Edge> values() {
        List<Edge> all = new ArrayList<>(size);
        if (!cleared && walked != null) {
            for (String itemId : walked) {
                Edge edge = cache.get(itemId);
                if (edge != null) {
                    all.add(edge);
                }
            }
        } else if (!cleared) {
            List<String> keys = new ArrayList<>(size);
            try {
                for (Map.Entry<String, Edge> entry : state.entries()) {
                    String itemId = entry.getKey();
                    keys.add(itemId);
                    Edge edge = cache.get(itemId);
                    if (edge == null && !cache.containsKey(itemId)) {
                        edge = keyed(itemId, entry.getValue());
                        cache.put(itemId, edge);
                    }
                    if (edge != null) {
                        all.add(edge);
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException("cannot read the edges from state", e);
            }
            walked = keys;
        }
        for (String itemId : added) {
            Edge edge = cache.get(itemId);
            if (edge != null) {
                all.add(edge);
            }
        }
        return all;
    }

    @Override
    public void clear() {
        cleared = true;
        walked = null;
        cache.clear();
        dirty.clear();
        added.clear();
        size = 0;
    }

    /** Writes what this flush put or removed (after clearing the map when it was cleared). */
    void writeBack() throws Exception {
        if (cleared) {
            state.clear();
        }
        for (String itemId : dirty) {
            Edge edge = cache.get(itemId);
            if (edge != null) {
                state.put(itemId, edge);
            } else if (!cleared) {
                state.remove(itemId);
            }
        }
        dirty.clear();
    }
}
