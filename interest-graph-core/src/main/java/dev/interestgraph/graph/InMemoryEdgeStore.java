package dev.interestgraph.graph;

import dev.interestgraph.graph.UserGraph.Edge;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Edges in a {@link TreeMap}: the store of graphs held whole in memory (replays, the
 * materializer side, unit tests, a graph read from the legacy one-value state). Iterates in item
 * order, which keeps tools' listings stable; nothing in the updater depends on it.
 */
public final class InMemoryEdgeStore implements EdgeStore {
    private final TreeMap<String, Edge> edges = new TreeMap<>();

    @Override
    public Edge get(String itemId) {
        return edges.get(itemId);
    }

    @Override
    public void put(Edge edge) {
        edges.put(edge.itemId, edge);
    }

    @Override
    public Edge remove(String itemId) {
        return edges.remove(itemId);
    }

    @Override
    public int size() {
        return edges.size();
    }

    @Override
    public boolean isEmpty() {
        return edges.isEmpty();
    }

    @Override
    public boolean containsKey(String itemId) {
        return edges.containsKey(itemId);
    }

    @Override
    public Collection<Edge> values() {
        return edges.values();
    }

    @Override
    public Set<String> keySet() {
        return edges.keySet();
    }

    @Override
    public Map<String, Edge> asMap() {
        return Collections.unmodifiableMap(edges);
    }

    @Override
    public void clear() {
        edges.clear();
    }
}
