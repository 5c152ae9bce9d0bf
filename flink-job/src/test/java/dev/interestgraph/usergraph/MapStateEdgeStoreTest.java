package dev.interestgraph.usergraph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.graph.UserGraph.Edge;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.apache.flink.api.common.state.MapState;
import org.junit.jupiter.api.Test;

/**
 * The map-state edge store writes back only what a flush put or removed, reads each edge at
 * most once per flush, and sees the edges added in the flush in its iteration. (The store on a
 * real heap and RocksDB backend: UserGraphFunctionTest's snapshot/restore and
 * StateLayoutMigrationTest.)
 */
class MapStateEdgeStoreTest {

    /** A map state over a HashMap that counts what the store asks of it. */
    static final class CountingMapState implements MapState<String, Edge> {
        final Map<String, Edge> map = new HashMap<>();
        int gets;
        int puts;
        int removes;
        int iterations;
        int clears;

        @Override
        public Edge get(String key) {
            gets++;
            Edge stored = map.get(key);
            return stored == null ? null : EdgeSerializer.INSTANCE.copy(stored);
        }

        @Override
        public void put(String key, Edge value) {
            puts++;
            map.put(key, new Edge(null, value)); // as stored: no id in the value
        }

        @Override
        public void putAll(Map<String, Edge> values) {
            values.forEach(this::put);
        }

        @Override
        public void remove(String key) {
            removes++;
            map.remove(key);
        }

        @Override
        public boolean contains(String key) {
            return map.containsKey(key);
        }

        @Override
        public Iterable<Map.Entry<String, Edge>> entries() {
            iterations++;
            Map<String, Edge> copy = new HashMap<>();
            map.forEach((k, v) -> copy.put(k, new Edge(null, v)));
            return copy.entrySet();
        }

        @Override
        public Iterable<String> keys() {
            return map.keySet();
        }

        @Override
        public Iterable<Edge> values() {
            return map.values();
        }

        @Override
        public Iterator<Map.Entry<String, Edge>> iterator() {
            return entries().iterator();
        }

        @Override
        public boolean isEmpty() {
            return map.isEmpty();
        }

        @Override
        public void clear() {
            clears++;
            map.clear();
        }
    }

    private static Edge edge(String itemId, double weight) {
        Edge edge = new Edge(itemId, 1_000L);
        edge.weight = weight;
        return edge;
    }

    private static CountingMapState stateWith(String... items) {
        CountingMapState state = new CountingMapState();
        for (String item : items) {
            state.map.put(item, new Edge(null, edge(item, 1.0)));
        }
        return state;
    }

    @Test
    void aFlushWritesBackOnlyWhatItPutOrRemoved() throws Exception {
        CountingMapState state = stateWith("a", "b", "c", "d");
        MapStateEdgeStore store = new MapStateEdgeStore(state, 4);

        Edge a = store.get("a");
        assertThat(a.itemId).isEqualTo("a"); // the key, given back to the value
        a.weight = 2.5;
        store.put(a);
        assertThat(store.get("a")).isSameAs(a); // one object per flush, read once
        store.remove("b");
        store.put(edge("e", 0.5));
        assertThat(store.get("c").weight).isEqualTo(1.0); // read, not changed
        assertThat(store.size()).isEqualTo(4);
        assertThat(state.gets).isEqualTo(4); // a, b, e (absent), c
        assertThat(state.puts + state.removes).isZero(); // nothing written before writeBack

        store.writeBack();
        assertThat(state.puts).isEqualTo(2); // a and e
        assertThat(state.removes).isEqualTo(1); // b
        assertThat(state.map.keySet()).containsExactlyInAnyOrder("a", "c", "d", "e");
        assertThat(state.map.get("a").weight).isEqualTo(2.5);
        assertThat(state.iterations).isZero(); // no walk
    }

    @Test
    void aWalkSeesStoredEdgesAsChangedInTheFlushAndTheAddedOnes() {
        CountingMapState state = stateWith("a", "b", "c");
        MapStateEdgeStore store = new MapStateEdgeStore(state, 3);
        Edge a = store.get("a");
        a.weight = 7;
        store.put(a);
        store.remove("b");
        store.put(edge("x", 3));
        store.remove("x");
        store.put(edge("y", 4));

        Map<String, Double> walked = new HashMap<>();
        store.values().forEach(e -> walked.put(e.itemId, e.weight));
        assertThat(walked).isEqualTo(Map.of("a", 7.0, "c", 1.0, "y", 4.0));
        assertThat(store.size()).isEqualTo(3);
        assertThat(store.values()).hasSize(3).allSatisfy(e -> assertThat(e).isSameAs(
                store.get(e.itemId))); // later look-ups return the walked objects
    }

    /**
     * A flush that walks the edges more than once (the sweep's prune check, then the cap, a
     * re-clustering or a merge's member moves) iterates the state once: later walks, and
     * look-ups of keys the walk did not find, are answered from what it cached — with the changes
     * made in between, and written back as usual.
     */
    @Test
    void aSecondWalkInTheFlushReadsTheCacheNotTheState() throws Exception {
        CountingMapState state = stateWith("a", "b", "c");
        MapStateEdgeStore store = new MapStateEdgeStore(state, 3);
        store.put(edge("w", 2)); // added before the walk
        assertThat(store.values()).extracting(e -> e.itemId)
                .containsExactlyInAnyOrder("a", "b", "c", "w");
        int gets = state.gets;

        Edge a = store.get("a");
        a.weight = 9;
        store.put(a);
        store.remove("b");
        assertThat(store.get("z")).isNull(); // not stored: known without a read
        store.put(edge("z", 5));
        Map<String, Double> walked = new HashMap<>();
        store.values().forEach(e -> walked.put(e.itemId, e.weight));
        assertThat(walked).isEqualTo(Map.of("a", 9.0, "c", 1.0, "w", 2.0, "z", 5.0));
        assertThat(store.size()).isEqualTo(4);
        assertThat(state.iterations).isEqualTo(1);
        assertThat(state.gets).isEqualTo(gets);

        store.writeBack();
        assertThat(state.map.keySet()).containsExactlyInAnyOrder("a", "c", "w", "z");
        assertThat(state.map.get("a").weight).isEqualTo(9.0);
    }

    @Test
    void aReplacingStoreClearsTheMapAndWritesItsEdges() throws Exception {
        CountingMapState state = stateWith("old1", "old2");
        MapStateEdgeStore store = MapStateEdgeStore.replacing(state);
        assertThat(store.get("old1")).isNull(); // nothing stored is read
        store.put(edge("new", 1));
        assertThat(store.values()).extracting(e -> e.itemId).containsExactly("new");

        store.writeBack();
        assertThat(state.clears).isEqualTo(1);
        assertThat(state.map.keySet()).containsExactly("new");
        assertThat(state.gets).isZero();
    }
}
