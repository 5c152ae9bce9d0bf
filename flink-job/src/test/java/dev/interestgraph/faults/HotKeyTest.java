package dev.interestgraph.faults;

import static dev.interestgraph.faults.UserGraphHarness.action;
import static dev.interestgraph.faults.UserGraphHarness.serializedSize;
import static dev.interestgraph.faults.UserGraphHarness.vectorOf;
import static dev.interestgraph.faults.UserGraphHarness.withVector;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.model.Action;
import dev.interestgraph.proto.v1.GraphDelta;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/**
 * A hot key: one user with a million events on 5,000 items spread over eight topics, through the
 * real {@code user-graph} operator (Flink's keyed test harness, heap state backend), with item
 * vectors from the hashing test embedder. The user's state must stay within the configured caps
 * however many events come — edges ≤ graph.max-edges-per-user, interests ≤ graph.max-interests —
 * so its serialized size is bounded, no flush slot stays behind, and the heap does not grow with
 * the number of events.
 *
 * <p>The harness instead of the whole job: a million events through Kafka, the source and the
 * async embedding take minutes on a two-core CI machine; the caps are the user-graph operator's.
 */
class HotKeyTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final int EVENTS = 1_000_000;
    private static final int ITEMS = 5_000;
    private static final int MAX_EDGES = 200;
    private static final int MAX_INTERESTS = 6;
    /** 50 events per 1-s flush slot: 20,000 flushes over 5.6 hours of event time. */
    private static final long STEP_MS = 20;
    /**
     * Generous bound of the serialized state at the caps: 200 edges and 6 interests with 384-dim
     * half-float centroids and two profiles come to ~20 KB (docs/architecture.md: ~7 KB at 50
     * edges and 5 interests).
     */
    private static final int MAX_STATE_BYTES = 64 * 1024;

    @Test
    void aMillionEventsOfOneUserStayWithinTheStateCaps() throws Exception {
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.MAX_EDGES_PER_USER, MAX_EDGES);
        config.set(InterestGraphOptions.MAX_INTERESTS, MAX_INTERESTS);
        // hourly decay sweeps (the maintenance timer) run during the replay as well
        config.set(InterestGraphOptions.SWEEP_INTERVAL, java.time.Duration.ofHours(1));
        String[] topics = {"scifi", "cooking", "football", "jazz", "gardening", "finance",
            "travel", "history"};
        short[][] vectors = new short[ITEMS][];
        for (int i = 0; i < ITEMS; i++) {
            String topic = topics[i % topics.length];
            vectors[i] = vectorOf(topic + " item " + i + " " + topic + " story");
        }
        Action[] actions = {Action.VIEW, Action.CLICK, Action.CART, Action.PURCHASE,
            Action.SHARE, Action.DISLIKE};
        Random random = new Random(7);
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        DeltaMaterializer downstream = new DeltaMaterializer();
        long deltas = 0;
        int maxEdges = 0;
        int maxInterests = 0;
        List<Integer> sizes = new ArrayList<>(); // state size after each 100,000 events
        long heapAt100k = 0;
        long heapAtEnd = 0;
        try (UserGraphHarness h = new UserGraphHarness(config)) {
            for (int e = 1; e <= EVENTS; e++) {
                int item = random.nextInt(ITEMS);
                long time = T0 + e * STEP_MS;
                h.send(withVector(action("e" + e, "hot", "item-" + item,
                        actions[random.nextInt(actions.length)], time), vectors[item],
                        topics[item % topics.length]));
                if (e % 1_000 == 0) {
                    // event time follows the input (out-of-orderness bound as in the job)
                    h.watermark(time - 5_000 - 1);
                    for (GraphDelta delta : h.drain()) {
                        downstream.apply(delta);
                        deltas++;
                    }
                    UserGraph graph = h.graph("hot");
                    maxEdges = Math.max(maxEdges, graph.edges.size());
                    maxInterests = Math.max(maxInterests, graph.interests.size());
                    assertThat(downstream.user("hot").orElseThrow().edges().size())
                            .isLessThanOrEqualTo(MAX_EDGES);
                    // only actions within the out-of-orderness bound and the emit slot still
                    // wait for their flush
                    assertThat(h.pendingActions("hot"))
                            .isLessThanOrEqualTo((int) ((5_000 + 1_000) / STEP_MS) + 1);
                }
                if (e % 100_000 == 0) {
                    sizes.add(serializedSize(h.graph("hot")));
                    if (e == 100_000) {
                        heapAt100k = usedHeapAfterGc(memory);
                    }
                }
            }
            heapAtEnd = usedHeapAfterGc(memory);
            UserGraph graph = h.graph("hot");
            assertThat(graph.edges.asMap()).hasSizeLessThanOrEqualTo(MAX_EDGES);
            assertThat(graph.interests).hasSizeLessThanOrEqualTo(MAX_INTERESTS);
        }
        assertThat(maxEdges).as("edges at most the cap, and the cap was reached")
                .isEqualTo(MAX_EDGES);
        assertThat(maxInterests).isLessThanOrEqualTo(MAX_INTERESTS).isGreaterThan(1);
        assertThat(sizes).hasSize(10).allSatisfy(size ->
                assertThat(size).isLessThanOrEqualTo(MAX_STATE_BYTES));
        // bounded, not growing with the event count: the last size is no larger than the
        // largest seen after the first 100,000 events plus a little for label and term churn
        int first = sizes.get(0);
        assertThat(sizes.get(sizes.size() - 1)).isLessThanOrEqualTo(first + first / 5);
        long growthMb = (heapAtEnd - heapAt100k) / (1024 * 1024);
        assertThat(growthMb).as("heap growth from 100,000 to 1,000,000 events, MiB")
                .isLessThan(64);
        System.out.printf("hot key: %d events, %d deltas, max %d edges, max %d interests, state "
                + "bytes per 100k events %s, heap after GC %d MiB at 100k, %d MiB at 1M%n",
                EVENTS, deltas, maxEdges, maxInterests, sizes, heapAt100k / (1024 * 1024),
                heapAtEnd / (1024 * 1024));
    }

    private static long usedHeapAfterGc(MemoryMXBean memory) {
        System.gc(); // a full collection, so that what is measured is what is reachable
        return memory.getHeapMemoryUsage().getUsed();
    }
}
