package dev.interestgraph.usergraph;

import dev.interestgraph.graph.EdgeStore;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.graph.UserGraph.Edge;
import java.util.Map;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;

/**
 * Where the {@code user-graph} operator keeps a user's graph (issue 16's layout): the graph
 * without its edges in a value ({@code user-graph-summary}: header, interests with their derived
 * fields, profiles, the edge count) and each edge as an entry of a map ({@code user-graph-edges},
 * item id → {@link EdgeSerializer edge}). A flush reads the summary and the edges it looks up and
 * writes the summary and the edges it changed: on RocksDB no longer the whole graph per flush.
 *
 * <p>The layout before it kept the whole graph in one value ({@code user-graph},
 * {@link UserGraphSerializer}); a savepoint of that layout restores, and each user's old value is
 * split into the new states on first access ({@link #load}).
 */
final class UserGraphState {
    private final ValueState<UserGraph> legacy;
    private final ValueState<UserGraph> summary;
    private final MapState<String, Edge> edges;
    /**
     * Whether the old layout can hold a graph: only in a subtask restored from a snapshot (one
     * started empty writes only the new layout), so a new user costs no read of the old value.
     */
    private final boolean legacyPossible;

    /** {@code restored}: whether the subtask started from a checkpoint or savepoint. */
    UserGraphState(RuntimeContext context, boolean restored) {
        legacyPossible = restored;
        legacy = context.getState(legacyDescriptor());
        summary = context.getState(summaryDescriptor());
        edges = context.getMapState(edgesDescriptor());
    }

    /** The whole graph in one value: the layout before issue 16, read only to migrate it. */
    static ValueStateDescriptor<UserGraph> legacyDescriptor() {
        return new ValueStateDescriptor<>("user-graph", UserGraphSerializer.INSTANCE);
    }

    static ValueStateDescriptor<UserGraph> summaryDescriptor() {
        return new ValueStateDescriptor<>("user-graph-summary", UserGraphSummarySerializer.INSTANCE);
    }

    static MapStateDescriptor<String, Edge> edgesDescriptor() {
        return new MapStateDescriptor<>("user-graph-edges", StringSerializer.INSTANCE,
                EdgeSerializer.INSTANCE);
    }

    /**
     * The current user's graph with its edges attached (a {@link MapStateEdgeStore} good for
     * this key until {@link #store}), or null when the user has none. A user still in the old
     * layout is split into the new one here, once.
     */
    UserGraph load() throws Exception {
        UserGraph graph = summary.value();
        if (graph == null) {
            UserGraph old = legacyPossible ? legacy.value() : null;
            if (old == null) {
                return null;
            }
            MapStateEdgeStore store = replacingWith(old.edges.values());
            store.writeBack();
            old.edges = EdgeStore.unattached(store.size());
            summary.update(old);
            legacy.clear();
            graph = old;
        }
        graph.edges = new MapStateEdgeStore(edges, graph.edges.size());
        return graph;
    }

    /**
     * Stores the current user's graph after a flush, sweep or expiry: the summary and the edges
     * the flush changed; null clears the user's graph. A graph the updater began in the flush
     * (first events, or events after an erasure) holds its edges in memory: they replace the map.
     */
    void store(UserGraph graph) throws Exception {
        if (graph == null) {
            summary.clear();
            edges.clear();
            if (legacyPossible) {
                legacy.clear();
            }
            return;
        }
        MapStateEdgeStore store;
        if (graph.edges instanceof MapStateEdgeStore attached) {
            store = attached;
        } else {
            store = replacingWith(graph.edges.values());
        }
        store.writeBack();
        // the summary carries the count only: its edges are the map's
        graph.edges = EdgeStore.unattached(store.size());
        summary.update(graph);
    }

    /** A store that replaces the current user's map with {@code all} (written at writeBack). */
    private MapStateEdgeStore replacingWith(Iterable<Edge> all) {
        MapStateEdgeStore store = MapStateEdgeStore.replacing(edges);
        for (Edge edge : all) {
            store.put(edge);
        }
        return store;
    }

    /**
     * The current key's whole graph (edges in memory), read from {@code backend} without
     * changing it — the new layout, else the old one; null when none. For tests and tools.
     */
    static UserGraph readWhole(KeyedStateBackend<?> backend) throws Exception {
        UserGraph graph = backend.getPartitionedState(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE, summaryDescriptor()).value();
        if (graph == null) {
            UserGraph old = backend.getPartitionedState(VoidNamespace.INSTANCE,
                    VoidNamespaceSerializer.INSTANCE, legacyDescriptor()).value();
            return old == null ? null : UserGraphSerializer.INSTANCE.copy(old);
        }
        UserGraph whole = UserGraphSummarySerializer.INSTANCE.copy(graph);
        whole.edges = new dev.interestgraph.graph.InMemoryEdgeStore();
        MapState<String, Edge> map = backend.getPartitionedState(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE, edgesDescriptor());
        for (Map.Entry<String, Edge> entry : map.entries()) {
            whole.edges.put(new Edge(entry.getKey(), entry.getValue()));
        }
        if (whole.edges.size() != graph.edges.size()) {
            throw new IllegalStateException("the summary counts " + graph.edges.size()
                    + " edges, the map holds " + whole.edges.size());
        }
        return whole;
    }
}
