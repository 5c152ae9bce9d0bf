package dev.interestgraph.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.graph.UserGraph.Edge;
import dev.interestgraph.graph.UserGraph.Interest;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.vector.HalfFloats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 16: what a flush keeps incrementally instead of walking the user's edges (the interests'
 * member counts) must always equal what a walk finds, over random workloads that join, move,
 * dislike, prune, cap, merge, evict, re-cluster and restore.
 */
class GraphUpdaterIncrementalTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final long HOUR = 3600L * 1000;
    private static final int DIMENSIONS = 8;
    private static final Action[] ACTIONS = {Action.VIEW, Action.CLICK, Action.CART,
        Action.PURCHASE, Action.RATE, Action.SHARE, Action.DISLIKE};

    /** Small caps so that the cap, eviction and merges happen often. */
    static GraphParameters params() {
        return params(14);
    }

    static GraphParameters params(int maxEdges) {
        return GraphParameters.builder()
                .maxEdgesPerUser(maxEdges)
                .maxInterests(4)
                .interestJoinThreshold(0.8)
                .interestMergeThreshold(0.6)
                .interestMinItems(2)
                .interestTopItems(3)
                .edgeHalfLife(Duration.ofDays(2))
                .build();
    }

    /** A random workload: flushes of 1–3 events, some late, some sweeps and restores. */
    static final class Workload {
        private final Random random;
        private final float[][] topics;
        private final int items;
        private long now = T0;
        private int events;

        Workload(long seed) {
            this(seed, 30);
        }

        Workload(long seed, int items) {
            this.items = items;
            random = new Random(seed);
            topics = new float[5][DIMENSIONS];
            for (float[] topic : topics) {
                for (int d = 0; d < DIMENSIONS; d++) {
                    topic[d] = (float) random.nextGaussian();
                }
            }
        }

        List<EnrichedAction> nextFlush() {
            now += (long) (random.nextDouble() * 30 * HOUR);
            List<EnrichedAction> flush = new ArrayList<>();
            int n = 1 + random.nextInt(3);
            for (int i = 0; i < n; i++) {
                EnrichedAction e = new EnrichedAction();
                e.eventId = "e" + events++;
                e.userId = "u";
                int item = random.nextInt(items);
                e.itemId = "item-" + item;
                e.action = ACTIONS[random.nextInt(ACTIONS.length)];
                e.value = 1 + random.nextInt(5);
                // a late event now and then (out of order within and across flushes)
                e.eventTimeMs = random.nextInt(8) == 0 ? now - (long) (random.nextDouble() * 40 * HOUR)
                        : now;
                if (random.nextInt(10) > 0) {
                    float[] topic = topics[item % topics.length];
                    float[] v = new float[DIMENSIONS];
                    for (int d = 0; d < DIMENSIONS; d++) {
                        v[d] = topic[d] + 0.35f * (float) random.nextGaussian();
                    }
                    e.vector = HalfFloats.fromFloats(v);
                    e.modelVersion = "v1";
                    e.terms = new String[] {"t" + (item % 7), "s" + (item % 3)};
                }
                flush.add(e);
            }
            return flush;
        }

        /** Whether to sweep after this flush, and when. */
        long sweepAt() {
            return random.nextInt(6) == 0 ? now + (long) (random.nextDouble() * 48 * HOUR)
                    : Long.MIN_VALUE;
        }

        boolean restore() {
            return random.nextInt(9) == 0;
        }
    }

    private static Map<Integer, Integer> walkedSizes(UserGraph graph) {
        Map<Integer, Integer> sizes = new TreeMap<>();
        graph.interests.keySet().forEach(id -> sizes.put(id, 0));
        for (Edge edge : graph.edges.values()) {
            sizes.computeIfPresent(edge.interestId, (id, n) -> n + 1);
        }
        return sizes;
    }

    private static Map<Integer, Integer> keptSizes(UserGraph graph) {
        Map<Integer, Integer> sizes = new TreeMap<>();
        for (Interest interest : graph.interests.values()) {
            sizes.put(interest.id, interest.size());
        }
        return sizes;
    }

    @Test
    void keptInterestSizesEqualAWalkOverTheEdges() {
        GraphUpdater updater = new GraphUpdater(params());
        int merged = 0;
        int evicted = 0;
        int capped = 0;
        int checked = 0;
        for (long seed = 1; seed <= 40; seed++) {
            Workload workload = new Workload(seed);
            UserGraph graph = null;
            for (int step = 0; step < 150; step++) {
                GraphUpdater.Result result = updater.flush(graph, "u", workload.nextFlush(),
                        null, workload.sweepAt());
                graph = result.graph;
                merged += result.interestsMerged;
                evicted += result.interestsEvicted;
                capped += result.edgesCapped;
                if (graph == null) {
                    continue;
                }
                assertThat(keptSizes(graph)).as("seed %d step %d", seed, step)
                        .isEqualTo(walkedSizes(graph));
                assertThat(graph.interests.values()).allMatch(i -> i.size() > 0);
                checked++;
                if (workload.restore()) {
                    graph.derivedKnown = false; // as a graph read back from state
                }
            }
        }
        // the workload exercised what moves members between interests
        assertThat(checked).isGreaterThan(5000);
        assertThat(merged).isPositive();
        assertThat(evicted).isPositive();
        assertThat(capped).isPositive();
    }

    /** A graph built by hand (or restored) has no derived sizes until the updater derives them. */
    @Test
    void sizesAreDerivedForAGraphTheUpdaterDidNotBuild() {
        Workload workload = new Workload(7);
        GraphUpdater updater = new GraphUpdater(params());
        UserGraph graph = null;
        for (int step = 0; step < 30; step++) {
            graph = updater.flush(graph, "u", workload.nextFlush()).graph;
        }
        for (Interest interest : graph.interests.values()) {
            interest.size = -1; // what a restored object would not know
        }
        graph.derivedKnown = false;
        graph = updater.flush(graph, "u", workload.nextFlush()).graph;
        assertThat(graph.interests).isNotEmpty();
        assertThat(keptSizes(graph)).isEqualTo(walkedSizes(graph));
    }

    /**
     * The delta's top items of an interest found from the cached ranking and the touched
     * members are the walk's, delta for delta, bit for bit (the deltas compare as protobuf
     * messages), with restores in between that drop the cache: small graphs at a tight cap, and
     * larger interests than the cached prefix holds.
     */
    @ParameterizedTest
    @CsvSource({"14, 30", "60, 90"})
    void incrementalTopItemsGiveTheWalksDeltas(int maxEdges, int items) {
        GraphUpdater incremental = new GraphUpdater(params(maxEdges));
        GraphUpdater walking = new GraphUpdater(params(maxEdges), true);
        int interestUpserts = 0;
        for (long seed = 1; seed <= 40; seed++) {
            Workload workload = new Workload(seed, items);
            UserGraph a = null;
            UserGraph b = null;
            for (int step = 0; step < 150; step++) {
                List<EnrichedAction> flush = workload.nextFlush();
                long sweepAt = workload.sweepAt();
                GraphUpdater.Result ra = incremental.flush(a, "u", flush, null, sweepAt);
                GraphUpdater.Result rb = walking.flush(b, "u", flush, null, sweepAt);
                assertThat(ra.deltas).as("seed %d step %d", seed, step).isEqualTo(rb.deltas);
                for (GraphDelta delta : ra.deltas) {
                    interestUpserts += delta.getInterestUpsertsCount();
                }
                a = ra.graph;
                b = rb.graph;
                if (a != null && workload.restore()) {
                    a.derivedKnown = false; // as a graph read back from state: no cache
                }
            }
        }
        assertThat(interestUpserts).isGreaterThan(1000);
        assertThat(walking.rankingsWithoutWalk).isZero();
        // the common case is served without a walk
        assertThat(incremental.rankingsWithoutWalk).isGreaterThan(incremental.rankingWalks);
    }
}
