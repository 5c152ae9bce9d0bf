package dev.interestgraph.usergraph;

import dev.interestgraph.vector.VectorMath;
import dev.interestgraph.graph.InterestMerging;
import dev.interestgraph.graph.UserGraph;
import static dev.interestgraph.usergraph.GraphTestSupport.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v1.DeltaOp;
import dev.interestgraph.proto.v1.EdgeRemove;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v1.GraphDelta;
import dev.interestgraph.proto.v1.InterestUpsert;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackend;

/** Harness tests of the {@code user-graph} operator: state, timers and the deltas it emits. */
class UserGraphFunctionTest {

    private static Map<String, EdgeUpsert> lastUpserts(List<GraphDelta> deltas) {
        return ops(deltas, DeltaOp.OpCase.EDGE_UPSERT).stream()
                .map(DeltaOp::getEdgeUpsert)
                .collect(Collectors.toMap(EdgeUpsert::getItemId, e -> e, (a, b) -> b));
    }

    @Test
    void edgeWeightsDecayExponentiallyAndAddTheActionWeight() throws Exception {
        var h = harness(new Configuration());
        send(h, action("u", "a", Action.CLICK, T0));
        send(h, rate("u", "b", 5.0, T0));
        send(h, rate("u", "c", 1.0, T0));
        send(h, action("u", "d", Action.DISLIKE, T0));
        h.processWatermark(T0 + 1000);
        List<GraphDelta> first = drain(h);
        assertThat(first).hasSize(1);
        assertThat(first.get(0).getSeq()).isEqualTo(1);
        Map<String, EdgeUpsert> edges = lastUpserts(first);
        assertThat(edges.get("a").getWeight()).isCloseTo(0.3, within(1e-6));
        assertThat(edges.get("b").getWeight()).isCloseTo(1.0, within(1e-6));
        assertThat(edges.get("c").getWeight()).isCloseTo(-0.6, within(1e-6));
        assertThat(edges.get("d").getWeight()).isCloseTo(-1.0, within(1e-6));

        // one half-life later: 0.3 · 2^-1 + 1.0
        send(h, action("u", "a", Action.PURCHASE, T0 + 30 * DAY));
        h.processWatermark(T0 + 30 * DAY + 1000);
        List<GraphDelta> second = drain(h).stream()
                .filter(d -> !ops(List.of(d), DeltaOp.OpCase.EDGE_UPSERT).isEmpty())
                .collect(Collectors.toList());
        EdgeUpsert a = lastUpserts(second).get("a");
        assertThat(a.getWeight()).isCloseTo(0.3 * 0.5 + 1.0, within(1e-6));
        assertThat(a.getActionCountsMap()).containsEntry("CLICK", 1).containsEntry("PURCHASE", 1);
        assertThat(a.getFirstMs()).isEqualTo(T0);
        assertThat(a.getLastMs()).isEqualTo(T0 + 30 * DAY);
    }

    @Test
    void decaySweepRemovesEdgesBelowThePruneThreshold() throws Exception {
        var h = harness(new Configuration());
        send(h, action("u", "viewed", Action.VIEW, T0));        // 0.1
        send(h, action("u", "bought", Action.PURCHASE, T0));    // 1.0
        h.processWatermark(T0 + 1000);
        drain(h);
        // 0.1 · 2^(-t/30d) falls below 0.05 just after 30 days; 1.0 stays far above
        h.processWatermark(T0 + 29 * DAY);
        assertThat(ops(drain(h), DeltaOp.OpCase.EDGE_REMOVE)).isEmpty();
        h.processWatermark(T0 + 32 * DAY);
        List<GraphDelta> deltas = drain(h);
        List<DeltaOp> removes = ops(deltas, DeltaOp.OpCase.EDGE_REMOVE);
        assertThat(removes).hasSize(1);
        assertThat(removes.get(0).getEdgeRemove().getItemId()).isEqualTo("viewed");
        assertThat(removes.get(0).getEdgeRemove().getReason()).isEqualTo(EdgeRemove.Reason.DECAYED);
        long removedAt = deltas.stream().filter(d -> !ops(List.of(d), DeltaOp.OpCase.EDGE_REMOVE)
                .isEmpty()).findFirst().orElseThrow().getEventTimeMs();
        assertThat(removedAt).isBetween(T0 + 30 * DAY, T0 + 31 * DAY + 1000);
        assertThat(stateOf(h, "u").edges.asMap()).containsOnlyKeys("bought");
    }

    @Test
    void theWeakestEdgesGoWhenTheCapIsExceeded() throws Exception {
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.MAX_EDGES_PER_USER, 3);
        var h = harness(config);
        send(h, action("u", "click", Action.CLICK, T0));
        send(h, action("u", "view", Action.VIEW, T0));
        send(h, action("u", "cart", Action.CART, T0));
        h.processWatermark(T0 + 1000);
        drain(h);
        send(h, action("u", "purchase", Action.PURCHASE, T0 + 2000));
        h.processWatermark(T0 + 3000);
        List<GraphDelta> deltas = drain(h);
        List<DeltaOp> removes = ops(deltas, DeltaOp.OpCase.EDGE_REMOVE);
        assertThat(removes).extracting(op -> op.getEdgeRemove().getItemId()).containsExactly("view");
        assertThat(removes.get(0).getEdgeRemove().getReason()).isEqualTo(EdgeRemove.Reason.CAPPED);
        assertThat(stateOf(h, "u").edges.asMap()).containsOnlyKeys("click", "cart", "purchase");
    }

    @Test
    void itemsJoinTheClosestInterestOpenNewOnesAndUnrelatedOnesNeverMergeWhenFull() throws Exception {
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.MAX_INTERESTS, 2);
        var h = harness(config);
        send(h, action("u", "x1", Action.PURCHASE, T0, unit(0, 1, 0f), "scifi"));
        send(h, action("u", "x2", Action.PURCHASE, T0 + 10, unit(0, 1, 0.4f), "scifi")); // cos 0.93
        send(h, action("u", "y1", Action.PURCHASE, T0 + 20, unit(2, 3, 0f), "cooking")); // cos 0
        h.processWatermark(T0 + 1000);
        drain(h);
        UserGraph graph = stateOf(h, "u");
        assertThat(graph.interests).hasSize(2);
        assertThat(graph.edges.get("x1").interestId).isEqualTo(graph.edges.get("x2").interestId);
        assertThat(graph.edges.get("y1").interestId).isNotEqualTo(graph.edges.get("x1").interestId);
        Map<Integer, String> labels = graph.interests.values().stream()
                .collect(Collectors.toMap(i -> i.id, i -> i.label));
        assertThat(labels).containsValues("scifi", "cooking");

        // a third direction with K = 2 (issue 17): "scifi" and "cooking" (cosine 0) do not
        // merge; the weaker interest, "cooking", is evicted and its item left unassigned
        int scifi = graph.edges.get("x1").interestId;
        int cooking = graph.edges.get("y1").interestId;
        send(h, action("u", "z1", Action.PURCHASE, T0 + 2000, unit(4, 5, 0f), "jazz"));
        h.processWatermark(T0 + 3000);
        List<GraphDelta> deltas = drain(h);
        assertThat(ops(deltas, DeltaOp.OpCase.INTEREST_REMOVE))
                .extracting(op -> op.getInterestRemove().getInterestId()).containsExactly(cooking);
        graph = stateOf(h, "u");
        assertThat(graph.interests).hasSize(2).containsKey(scifi).doesNotContainKey(cooking);
        assertThat(graph.edges.get("x2").interestId).isEqualTo(scifi);
        assertThat(graph.edges.get("y1").interestId).isEqualTo(-1);
        int jazz = graph.edges.get("z1").interestId;
        assertThat(jazz).isNotIn(scifi, -1);
        assertThat(graph.interests.get(scifi).label).isEqualTo("scifi");
        assertThat(graph.interests.get(jazz).label).isEqualTo("jazz");
        assertThat(ops(deltas, DeltaOp.OpCase.EDGE_UPSERT)).extracting(DeltaOp::getEdgeUpsert)
                .filteredOn(e -> e.getItemId().equals("y1"))
                .singleElement().satisfies(e -> assertThat(e.getInterestId()).isEqualTo(-1));
        InterestUpsert jazzUpsert = ops(deltas, DeltaOp.OpCase.INTEREST_UPSERT).stream()
                .map(DeltaOp::getInterestUpsert).filter(i -> i.getInterestId() == jazz)
                .findFirst().orElseThrow();
        assertThat(jazzUpsert.getTopItemsList()).containsExactly("z1");
        double norm = 0;
        for (float v : jazzUpsert.getCentroidList()) {
            norm += v * v;
        }
        assertThat(Math.sqrt(norm)).isCloseTo(1.0, within(1e-3));
    }

    @Test
    void profilesFuseOnlyVectorsOfOneModelVersion() throws Exception {
        var h = harness(new Configuration());
        send(h, action("u", "x1", Action.PURCHASE, T0, unit(0, 1, 0f)));
        EnrichedAction otherVersion = action("u", "y1", Action.PURCHASE, T0 + 5000, unit(2, 3, 0f));
        otherVersion.modelVersion = "v2";
        send(h, otherVersion);
        h.processWatermark(T0 + 10_000);
        List<GraphDelta> deltas = drain(h);
        var profile = ops(deltas, DeltaOp.OpCase.PROFILE_UPDATE);
        var last = profile.get(profile.size() - 1).getProfileUpdate();
        assertThat(last.getModelVersion()).isEqualTo("v2");
        // the v2 profile is y1 alone, not a blend with the v1 vector
        assertThat(last.getLongTerm(2)).isCloseTo(1f, within(1e-3f));
        assertThat(last.getLongTerm(0)).isCloseTo(0f, within(1e-3f));
        // and the v2 item opened its own interest instead of being compared with v1 centroids
        assertThat(stateOf(h, "u").interests).hasSize(2);
    }

    @Test
    void outOfOrderArrivalWithinTheWatermarkGivesTheSameDeltasAsInOrder() throws Exception {
        List<EnrichedAction> inOrder = new ArrayList<>();
        Random random = new Random(7);
        for (int i = 0; i < 60; i++) {
            String user = "u" + (i % 3);
            inOrder.add(action(user, "item" + random.nextInt(8),
                    Action.values()[random.nextInt(4)], T0 + i * 150L,
                    unit(random.nextInt(4), 4 + random.nextInt(4), random.nextFloat())));
        }
        List<EnrichedAction> shuffled = new ArrayList<>();
        for (int from = 0; from < inOrder.size(); from += 6) { // displaced by < 1 s
            List<EnrichedAction> window = new ArrayList<>(inOrder.subList(from, from + 6));
            Collections.shuffle(window, random);
            shuffled.addAll(window);
        }
        assertThat(shuffled).isNotEqualTo(inOrder);
        // per user: timers of different users at one timestamp fire in no defined order
        Map<String, List<GraphDelta>> expected = byUser(run(inOrder));
        assertThat(expected).hasSize(3);
        assertThat(byUser(run(shuffled))).isEqualTo(expected);
    }

    private static Map<String, List<dev.interestgraph.proto.v2.GraphDelta>> byUserWire(
            List<dev.interestgraph.proto.v2.GraphDelta> deltas) {
        return deltas.stream().collect(Collectors.groupingBy(
                dev.interestgraph.proto.v2.GraphDelta::getUserId));
    }

    private static Map<String, List<GraphDelta>> byUser(List<GraphDelta> deltas) {
        return deltas.stream().collect(Collectors.groupingBy(GraphDelta::getUserId));
    }

    /** Replays with a watermark 1 s behind the largest time seen; returns all delta bytes. */
    private static List<GraphDelta> run(List<EnrichedAction> actions) throws Exception {
        var h = harness(new Configuration());
        long maxSeen = Long.MIN_VALUE;
        for (EnrichedAction action : actions) {
            send(h, action);
            maxSeen = Math.max(maxSeen, action.eventTimeMs);
            h.processWatermark(maxSeen - 1001);
        }
        h.processWatermark(maxSeen + 10_000);
        return drain(h);
    }

    @Test
    void idleUsersAreClearedAfterTheTtlLeavingNoStateAndNoTimers() throws Exception {
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.IDLE_TTL, Duration.ofDays(3));
        var h = harness(config);
        send(h, action("u", "a", Action.PURCHASE, T0, unit(0, 1, 0f), "scifi"));
        send(h, action("u", "b", Action.CLICK, T0 + 10));
        h.processWatermark(T0 + 1000);
        drain(h);
        assertThat(h.numKeyedStateEntries()).isPositive();
        assertThat(h.numEventTimeTimers()).isEqualTo(1); // the maintenance timer

        h.processWatermark(T0 + 4 * DAY);
        List<GraphDelta> deltas = drain(h);
        List<DeltaOp> removes = ops(deltas, DeltaOp.OpCase.EDGE_REMOVE);
        assertThat(removes).extracting(op -> op.getEdgeRemove().getReason())
                .containsOnly(EdgeRemove.Reason.EXPIRED);
        assertThat(removes).extracting(op -> op.getEdgeRemove().getItemId())
                .containsExactlyInAnyOrder("a", "b");
        assertThat(ops(deltas, DeltaOp.OpCase.INTEREST_REMOVE)).hasSize(1);
        assertThat(ops(deltas, DeltaOp.OpCase.PROFILE_UPDATE)).last()
                .satisfies(op -> assertThat(op.getProfileUpdate().getLongTermCount()).isZero());
        assertThat(h.numKeyedStateEntries()).isZero();
        assertThat(h.numEventTimeTimers()).isZero();
        assertThat(materialize(deltas).user("u")).isEmpty();
    }

    @Test
    void forgetUserErasesEveryStateEntry() throws Exception {
        var h = harness(new Configuration());
        send(h, action("u", "a", Action.PURCHASE, T0, unit(0, 1, 0f), "scifi"));
        h.processWatermark(T0 + 1000);
        send(h, action("u", "b", Action.CLICK, T0 + 2000));
        send(h, action("u", "", Action.FORGET_USER, T0 + 2500));
        h.processWatermark(T0 + 3000);
        List<GraphDelta> deltas = drain(h);
        GraphDelta erased = deltas.get(deltas.size() - 1);
        assertThat(erased.getOpsList()).extracting(DeltaOp::getOpCase)
                .containsExactly(DeltaOp.OpCase.USER_ERASED);
        assertThat(erased.getSeq()).isEqualTo(2);
        // b's click, before the erasure in the same flush, never leaves the job
        assertThat(deltas).hasSize(2);
        assertThat(h.numKeyedStateEntries()).isZero();
        assertThat(h.numEventTimeTimers()).isZero();
        assertThat(materialize(deltas).users()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"heap", "rocksdb"})
    void snapshotAndRestoreContinueWithIdenticalOutput(String backend) throws Exception {
        List<EnrichedAction> before = new ArrayList<>();
        List<EnrichedAction> after = new ArrayList<>();
        Random random = new Random(11);
        for (int i = 0; i < 40; i++) {
            EnrichedAction a = action("u" + (i % 4), "item" + random.nextInt(10),
                    Action.values()[random.nextInt(5)], T0 + i * 2 * DAY / 10,
                    unit(random.nextInt(4), 4 + random.nextInt(4), random.nextFloat()),
                    "t" + random.nextInt(3));
            (i < 20 ? before : after).add(a);
        }
        var original = withBackend(unopened(new Configuration()), backend);
        original.open();
        for (EnrichedAction a : before) {
            send(original, a);
        }
        original.processWatermark(before.get(19).eventTimeMs + 1000);
        OperatorSubtaskState snapshot = original.snapshot(1L, 1L);
        drainWire(original);
        List<dev.interestgraph.proto.v2.GraphDelta> continued = replay(original, after);
        original.close();

        var restored = withBackend(unopened(new Configuration()), backend);
        restored.initializeState(snapshot);
        restored.open();
        restored.processWatermark(before.get(19).eventTimeMs + 1000);
        assertThat(byUserWire(replay(restored, after))).isNotEmpty()
                .isEqualTo(byUserWire(continued));
        restored.close();
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord>
            withBackend(KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> h,
                    String backend) {
        if (backend.equals("rocksdb")) {
            h.setStateBackend(new EmbeddedRocksDBStateBackend());
        }
        return h;
    }

    /**
     * docs/architecture.md: a consumer's vector is within the send threshold's angle
     * (acos(1 − graph.delta.vector-min-distance), 0.015 by default) plus the quantisation of the
     * default INT6 encoding, at most asin(√d / (2·31)) for d dimensions (each component off by at
     * most half a step of max |x| / 31), of the operator's. These vectors have 8 dimensions.
     */
    private static final double DOCUMENTED_ANGLE = Math.acos(1 - 0.015)
            + Math.asin(Math.sqrt(8) / 62);

    private static double angle(List<Float> consumer, UserGraph.DecayedMean state) {
        float[] x = new float[consumer.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = consumer.get(i);
        }
        return Math.acos(Math.min(1, state.cosine(x, VectorMath.norm(x))));
    }

    @Test
    void theGraphMaterialisedFromDeltasEqualsTheOperatorsState() throws Exception {
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.MAX_EDGES_PER_USER, 6);
        config.set(InterestGraphOptions.MAX_INTERESTS, 3);
        var h = harness(config);
        Random random = new Random(3);
        List<GraphDelta> deltas = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            send(h, action("u" + (i % 5), "item" + random.nextInt(20),
                    Action.values()[random.nextInt(8)], T0 + i * DAY / 4,
                    unit(random.nextInt(4), 4 + random.nextInt(4), random.nextFloat()),
                    "t" + random.nextInt(5)));
            h.processWatermark(T0 + i * DAY / 4 + 1000);
            deltas.addAll(drain(h));
        }
        DeltaMaterializer materialized = materialize(deltas);
        for (int u = 0; u < 5; u++) {
            UserGraph state = stateOf(h, "u" + u);
            var view = materialized.user("u" + u).orElseThrow();
            assertThat(view.edges().keySet()).isEqualTo(state.edges.keySet());
            state.edges.values().forEach(edge -> {
                EdgeUpsert upsert = view.edges().get(edge.itemId);
                // weights travel as float32
                assertThat(upsert.getWeight()).isCloseTo(edge.weight,
                        within(Math.abs(edge.weight) * 1e-7));
                // provisional interests (issue 17) are not emitted: their edges say -1
                assertThat(upsert.getInterestId())
                        .isEqualTo(InterestMerging.publishedInterestId(state, edge));
            });
            assertThat(view.interests().keySet())
                    .isEqualTo(InterestMerging.publishedInterests(state));
            state.interests.values().stream().filter(InterestMerging::isPublished)
                    .forEach(interest -> {
                var upsert = view.interests().get(interest.id);
                assertThat(upsert.getLabel()).isEqualTo(interest.label);
                assertThat(angle(upsert.getCentroidList(), interest.centroid))
                        .isLessThanOrEqualTo(DOCUMENTED_ANGLE);
            });
            // the consumer's vectors are the operator's within the documented error: the send
            // threshold (graph.delta.vector-min-distance) plus INT6's quantisation
            var profile = view.profile().orElseThrow();
            assertThat(angle(profile.getLongTermList(), state.longTerm))
                    .isLessThanOrEqualTo(DOCUMENTED_ANGLE);
            assertThat(angle(profile.getShortTermList(), state.shortTerm))
                    .isLessThanOrEqualTo(DOCUMENTED_ANGLE);
            assertThat(view.seq()).isEqualTo(state.seq);
        }
        assertThat(deltas).extracting(GraphDelta::getUserId).contains("u0", "u4");
    }
}
