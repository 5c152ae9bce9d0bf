package dev.interestgraph.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.graph.GraphUpdaterIncrementalTest.Workload;
import dev.interestgraph.graph.UserGraph.Edge;
import dev.interestgraph.model.EnrichedAction;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 16's edge store: the updater must give the same deltas whatever store holds the edges —
 * one that iterates in another order than item order (as RocksDB iterates in serialized-key
 * order), hands out copies and keeps only what was {@link EdgeStore#put put} back (as a store
 * over keyed map state writes back only the edges marked changed).
 */
class EdgeStoreTest {

    /**
     * Edges "in state": each flush reads copies, and only the edges put or removed during the
     * flush are written back by {@link #commit}. Iterates in reverse item order.
     */
    static final class CommittingStore implements EdgeStore {
        final TreeMap<String, Edge> stored = new TreeMap<>();
        private final Map<String, Edge> cache = new HashMap<>();
        private final Set<String> dirty = new HashSet<>();
        private boolean cleared;
        private int size;
        int walks;

        private static Edge copy(Edge from) {
            Edge edge = new Edge(from.itemId, from.firstMs);
            edge.weight = from.weight;
            edge.lastMs = from.lastMs;
            System.arraycopy(from.actionCounts, 0, edge.actionCounts, 0,
                    from.actionCounts.length);
            edge.interestId = from.interestId;
            edge.modelVersion = from.modelVersion;
            return edge;
        }

        @Override
        public Edge get(String itemId) {
            if (cache.containsKey(itemId)) {
                return cache.get(itemId);
            }
            Edge stored = cleared ? null : this.stored.get(itemId);
            Edge edge = stored == null ? null : copy(stored);
            cache.put(itemId, edge);
            return edge;
        }

        @Override
        public void put(Edge edge) {
            if (get(edge.itemId) == null) {
                size++;
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
        public Collection<Edge> values() {
            walks++;
            List<Edge> all = new ArrayList<>(size);
            if (!cleared) {
                for (String itemId : stored.descendingKeySet()) {
                    Edge edge = get(itemId);
                    if (edge != null) {
                        all.add(edge);
                    }
                }
            }
            for (String itemId : dirty) {
                Edge edge = cache.get(itemId);
                if (edge != null && (cleared || !stored.containsKey(itemId))) {
                    all.add(edge);
                }
            }
            return all;
        }

        @Override
        public void clear() {
            cleared = true;
            cache.clear();
            dirty.clear();
            size = 0;
        }

        /** Writes back what was put or removed and forgets the flush's copies. */
        void commit() {
            if (cleared) {
                stored.clear();
            }
            for (String itemId : dirty) {
                Edge edge = cache.get(itemId);
                if (edge == null) {
                    stored.remove(itemId);
                } else {
                    stored.put(itemId, copy(edge));
                }
            }
            cache.clear();
            dirty.clear();
            cleared = false;
            size = stored.size();
        }
    }

    /** What the operator does after a flush: the result's edges into the store, written back. */
    private static UserGraph commit(UserGraph graph, CommittingStore store) {
        if (graph == null) {
            store.clear();
        } else if (graph.edges != store) {
            store.clear(); // a graph begun in this flush (first events, or after an erasure)
            for (Edge edge : graph.edges.values()) {
                store.put(edge);
            }
            graph.edges = store;
        }
        store.commit();
        return graph;
    }

    @ParameterizedTest
    @CsvSource({"14, 30", "60, 90"})
    void deltasDoNotDependOnTheStoreOrItsIterationOrder(int maxEdges, int items) {
        GraphUpdater inMemory = new GraphUpdater(GraphUpdaterIncrementalTest.params(maxEdges));
        GraphUpdater stored = new GraphUpdater(GraphUpdaterIncrementalTest.params(maxEdges));
        int deltas = 0;
        int capped = 0;
        for (long seed = 1; seed <= 30; seed++) {
            Workload workload = new Workload(seed, items);
            CommittingStore store = new CommittingStore();
            UserGraph a = null;
            UserGraph b = null;
            for (int step = 0; step < 150; step++) {
                List<EnrichedAction> flush = workload.nextFlush();
                long sweepAt = workload.sweepAt();
                GraphUpdater.Result ra = inMemory.flush(a, "u", flush, null, sweepAt);
                GraphUpdater.Result rb = stored.flush(b, "u", flush, null, sweepAt);
                assertThat(rb.deltas).as("seed %d step %d", seed, step).isEqualTo(ra.deltas);
                deltas += ra.deltas.size();
                capped += ra.edgesCapped;
                a = ra.graph;
                b = commit(rb.graph, store);
                // what was written back is the in-memory graph's edges, field for field
                Map<String, String> expected = new TreeMap<>();
                if (a != null) {
                    a.edges.values().forEach(e -> expected.put(e.itemId, describe(e)));
                }
                Map<String, String> actual = new TreeMap<>();
                store.stored.values().forEach(e -> actual.put(e.itemId, describe(e)));
                assertThat(actual).as("seed %d step %d", seed, step).isEqualTo(expected);
                assertThat(b == null ? 0 : b.edges.size()).isEqualTo(expected.size());
            }
        }
        assertThat(deltas).isGreaterThan(3000);
        if (maxEdges < items / 2) {
            assertThat(capped).isPositive(); // the cap's scan ran on reversed iteration
        }
    }

    /** Two edges of equal weight over the cap: the first in item order goes, in any store. */
    @org.junit.jupiter.api.Test
    void theCapsTieBreakComparesItemIds() {
        GraphUpdater updater = new GraphUpdater(GraphParameters.builder().maxEdgesPerUser(1)
                .build());
        for (EdgeStore edges : List.<EdgeStore>of(new InMemoryEdgeStore(), new CommittingStore())) {
            UserGraph graph = new UserGraph();
            graph.edges = edges;
            graph.derivedKnown = true;
            List<EnrichedAction> flush = new ArrayList<>();
            for (String item : new String[] {"a", "b"}) {
                EnrichedAction e = new EnrichedAction();
                e.eventId = item;
                e.userId = "u";
                e.itemId = item;
                e.action = dev.interestgraph.model.Action.CLICK;
                e.eventTimeMs = 1_700_000_000_000L;
                flush.add(e);
            }
            GraphUpdater.Result result = updater.flush(graph, "u", flush);
            assertThat(result.edgesCapped).isEqualTo(1);
            assertThat(result.graph.edges.keySet()).containsExactly("b");
        }
    }

    private static String describe(Edge e) {
        return e.weight + "/" + e.firstMs + "/" + e.lastMs + "/" + e.interestId + "/"
                + e.modelVersion + "/" + java.util.Arrays.toString(e.actionCounts);
    }
}
