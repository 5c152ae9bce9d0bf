package dev.interestgraph.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.graph.UserGraph.Edge;
import dev.interestgraph.graph.UserGraph.Interest;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.proto.v2.InterestUpsert;
import dev.interestgraph.vector.HalfFloats;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Issue 17: merging with hysteresis, provisional interests, eviction at the cap, re-clustering. */
class GraphUpdaterInterestsTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final long DAY = 24L * 3600 * 1000;
    private static int events;

    /** A unit vector in the plane of axes {@code i} and {@code j}, {@code degrees} from i. */
    private static float[] direction(int i, int j, double degrees) {
        float[] v = new float[8];
        v[i] = (float) Math.cos(Math.toRadians(degrees));
        v[j] = (float) Math.sin(Math.toRadians(degrees));
        return v;
    }

    private static EnrichedAction action(String item, Action action, long timeMs, float[] vector,
            String... terms) {
        EnrichedAction e = new EnrichedAction();
        e.eventId = "e" + (events++);
        e.userId = "u";
        e.itemId = item;
        e.action = action;
        e.eventTimeMs = timeMs;
        e.vector = HalfFloats.fromFloats(vector);
        e.modelVersion = "v1";
        e.terms = terms;
        return e;
    }

    private static Map<String, Integer> interestOf(UserGraph graph) {
        return graph.edges.values().stream()
                .collect(Collectors.toMap(e -> e.itemId, e -> e.interestId));
    }

    @Test
    void twoInterestsOfOneTopicMergeAfterTheFlushBelowTheCap() {
        // 40° apart: below the join threshold (cos 0.77 < 0.9), above the merge threshold
        GraphUpdater updater = new GraphUpdater(GraphParameters.builder()
                .interestJoinThreshold(0.9).interestMergeThreshold(0.7).maxInterests(6).build());
        UserGraph graph = updater.flush(null, "u", List.of(
                action("a", Action.PURCHASE, T0, direction(0, 1, 0), "football"))).graph;
        GraphUpdater.Result result = updater.flush(graph, "u", List.of(
                action("b", Action.PURCHASE, T0 + 5000, direction(0, 1, 40), "football")));
        assertThat(result.interestsOpened).isEqualTo(1);
        assertThat(result.interestsMerged).isEqualTo(1);
        assertThat(graph.interests).hasSize(1);
        assertThat(interestOf(graph)).containsEntry("a", 0).containsEntry("b", 0);
        // the survivor is the published one: consumers keep its id and never saw the other
        assertThat(result.deltas.get(0).getInterestUpsertsList())
                .extracting(InterestUpsert::getInterestId).containsExactly(0);
        assertThat(result.deltas.get(0).getInterestRemovesList()).isEmpty();
    }

    @Test
    void unrelatedInterestsNeverMergeAtTheCapTheWeakestIsEvicted() {
        GraphUpdater updater = new GraphUpdater(GraphParameters.builder().maxInterests(2)
                .interestMergeThreshold(0.7).build());
        UserGraph graph = updater.flush(null, "u", List.of(
                action("x1", Action.PURCHASE, T0, direction(0, 1, 0), "scifi"),
                action("x2", Action.PURCHASE, T0 + 10, direction(0, 1, 20), "scifi"),
                action("y1", Action.PURCHASE, T0 + 20, direction(2, 3, 0), "cooking"))).graph;
        assertThat(graph.interests).hasSize(2);
        int scifi = graph.edges.get("x1").interestId;
        int cooking = graph.edges.get("y1").interestId;

        // a third, unrelated direction (cosine 0 to both): the weaker, "cooking", is evicted
        GraphUpdater.Result result = updater.flush(graph, "u", List.of(
                action("z1", Action.PURCHASE, T0 + 2000, direction(4, 5, 0), "jazz")));
        assertThat(result.interestsMerged).isZero();
        assertThat(result.interestsEvicted).isEqualTo(1);
        assertThat(graph.interests).hasSize(2).doesNotContainKey(cooking);
        assertThat(graph.edges.get("y1").interestId).isEqualTo(-1);
        assertThat(graph.edges.get("x2").interestId).isEqualTo(scifi);
        assertThat(graph.interests.get(scifi).label).isEqualTo("scifi");
        assertThat(graph.interests.get(scifi).terms).doesNotContainKey("cooking");
        GraphDelta delta = result.deltas.get(0);
        assertThat(delta.getInterestRemovesList()).containsExactly(cooking);
        // the evicted interest's item is re-sent without an interest
        assertThat(delta.getEdgeUpsertsList()).anySatisfy(edge -> {
            assertThat(edge.getItemId()).isEqualTo("y1");
            assertThat(edge.getInterestId()).isEqualTo(-1);
        });
    }

    @Test
    void atTheCapAPairAboveTheMergeThresholdMergesInsteadOfAnEviction() {
        GraphUpdater updater = new GraphUpdater(GraphParameters.builder().maxInterests(2)
                .interestJoinThreshold(0.95).interestMergeThreshold(0.99).build());
        UserGraph graph = updater.flush(null, "u", List.of(
                action("x1", Action.PURCHASE, T0, direction(0, 1, 0), "scifi"),
                action("x2", Action.PURCHASE, T0 + 10, direction(0, 1, 30), "scifi"))).graph;
        assertThat(graph.interests).hasSize(2); // cos 0.87: neither joined nor merged
        GraphUpdater lower = new GraphUpdater(GraphParameters.builder().maxInterests(2)
                .interestJoinThreshold(0.95).interestMergeThreshold(0.8).build());
        GraphUpdater.Result result = lower.flush(graph, "u", List.of(
                action("z1", Action.PURCHASE, T0 + 2000, direction(4, 5, 0), "jazz")));
        assertThat(result.interestsMerged).isEqualTo(1);
        assertThat(result.interestsEvicted).isZero();
        assertThat(graph.edges.get("x1").interestId).isEqualTo(graph.edges.get("x2").interestId);
        assertThat(graph.edges.get("z1").interestId).isNotEqualTo(graph.edges.get("x1").interestId);
    }

    @Test
    void aWeakItemDoesNotEvictAnEstablishedInterest() {
        GraphUpdater updater = new GraphUpdater(GraphParameters.builder().maxInterests(1).build());
        UserGraph graph = updater.flush(null, "u", List.of(
                action("x1", Action.PURCHASE, T0, direction(0, 1, 0), "scifi"))).graph;
        GraphUpdater.Result result = updater.flush(graph, "u", List.of(
                action("v1", Action.VIEW, T0 + 1000, direction(4, 5, 0), "jazz")));
        assertThat(result.interestsEvicted).isZero();
        assertThat(graph.interests).hasSize(1);
        assertThat(graph.edges.get("v1").interestId).isEqualTo(-1);
        assertThat(graph.edges.get("x1").interestId).isEqualTo(0);
    }

    @Test
    void aNewInterestIsProvisionalUntilItHoldsEnoughItemsThenItsMembersNameIt() {
        GraphUpdater updater = new GraphUpdater(GraphParameters.builder().interestMinItems(3)
                .interestMinWeight(1.0).build());
        DeltaMaterializer consumer = new DeltaMaterializer();
        GraphUpdater.Result first = updater.flush(null, "u", List.of(
                action("v1", Action.VIEW, T0, direction(0, 1, 0), "jazz"),
                action("v2", Action.VIEW, T0 + 10, direction(0, 1, 5), "jazz")));
        UserGraph graph = first.graph;
        assertThat(graph.interests).hasSize(1); // held, but not emitted
        GraphDelta delta = first.deltas.get(0);
        assertThat(delta.getInterestUpsertsCount()).isZero();
        assertThat(delta.getEdgeUpsertsList()).allSatisfy(
                edge -> assertThat(edge.getInterestId()).isEqualTo(-1));
        consumer.apply(delta);

        GraphUpdater.Result third = updater.flush(graph, "u", List.of(
                action("v3", Action.VIEW, T0 + 2000, direction(0, 1, 10), "jazz")));
        delta = third.deltas.get(0);
        assertThat(delta.getInterestUpsertsList()).extracting(InterestUpsert::getInterestId)
                .containsExactly(0);
        assertThat(delta.getInterestUpserts(0).getLabel()).isEqualTo("jazz");
        assertThat(delta.getEdgeUpsertsList()).extracting(e -> e.getItemId())
                .containsExactlyInAnyOrder("v1", "v2", "v3");
        assertThat(delta.getEdgeUpsertsList()).allSatisfy(
                edge -> assertThat(edge.getInterestId()).isEqualTo(0));
        consumer.apply(delta);
        var view = consumer.user("u").orElseThrow();
        assertThat(view.interests()).containsOnlyKeys(0);
        assertThat(view.edges().values()).allSatisfy(e -> assertThat(e.getInterestId()).isZero());
    }

    @Test
    void oneStrongItemMakesAnInterestRealAtOnce() {
        GraphUpdater updater = new GraphUpdater(GraphParameters.defaults());
        GraphUpdater.Result result = updater.flush(null, "u", List.of(
                action("p", Action.PURCHASE, T0, direction(0, 1, 0), "jazz")));
        assertThat(result.deltas.get(0).getInterestUpsertsCount()).isEqualTo(1);
        assertThat(result.deltas.get(0).getEdgeUpserts(0).getInterestId()).isZero();
    }

    @Test
    void interestIdsSurviveTheSweepsReclusteringWhenMembershipBarelyChanged() {
        // built with a strict merge threshold (a restart with new options, say), then swept
        // with the default one: the two football interests (cos 0.87) are re-clustered into one
        GraphParameters strict = GraphParameters.builder().interestJoinThreshold(0.95)
                .interestMergeThreshold(0.99).build();
        UserGraph graph = new GraphUpdater(strict).flush(null, "u", List.of(
                action("f1", Action.PURCHASE, T0, direction(0, 1, 0), "football"),
                action("f2", Action.PURCHASE, T0 + 1, direction(0, 1, 2), "football"),
                action("f3", Action.PURCHASE, T0 + 2, direction(0, 1, 4), "football"),
                action("g1", Action.PURCHASE, T0 + 3, direction(0, 1, 30), "football", "league"),
                action("j1", Action.PURCHASE, T0 + 4, direction(4, 5, 0), "jazz"))).graph;
        assertThat(graph.interests).hasSize(3);
        int football = graph.edges.get("f1").interestId;
        int league = graph.edges.get("g1").interestId;
        int jazz = graph.edges.get("j1").interestId;
        String jazzLabel = graph.interests.get(jazz).label;

        GraphUpdater.Result swept = new GraphUpdater(GraphParameters.defaults())
                .sweep(graph, "u", T0 + DAY);
        assertThat(swept.interestsMerged).isEqualTo(1);
        // three of four football items were in `football`: the merged interest keeps its id
        assertThat(graph.interests).containsOnlyKeys(football, jazz);
        assertThat(interestOf(graph)).containsEntry("f1", football).containsEntry("g1", football)
                .containsEntry("j1", jazz);
        assertThat(graph.interests.get(jazz).label).isEqualTo(jazzLabel);
        assertThat(swept.deltas.get(0).getInterestRemovesList()).containsExactly(league);
    }

    /** What consumers materialise equals the state's published part, over random input. */
    @Test
    void theMaterialisedGraphEqualsThePublishedState() {
        GraphUpdater updater = new GraphUpdater(GraphParameters.builder().maxEdgesPerUser(8)
                .maxInterests(3).build());
        Random random = new Random(5);
        DeltaMaterializer consumer = new DeltaMaterializer();
        UserGraph graph = null;
        Action[] actions = {Action.VIEW, Action.CLICK, Action.CART, Action.PURCHASE,
            Action.DISLIKE, Action.SHARE};
        for (int i = 0; i < 400; i++) {
            long t = T0 + i * DAY / 3;
            List<EnrichedAction> batch = new ArrayList<>();
            for (int k = 0; k < 1 + random.nextInt(3); k++) {
                int topic = random.nextInt(4);
                batch.add(action("i" + random.nextInt(30), actions[random.nextInt(actions.length)],
                        t + k, direction(2 * topic, 2 * topic + 1, random.nextInt(60)),
                        "t" + topic));
            }
            GraphUpdater.Result result = i % 10 == 9
                    ? updater.flush(graph, "u", batch, null, t + 500)
                    : updater.flush(graph, "u", batch);
            result.deltas.forEach(consumer::apply);
            graph = result.graph;
            var view = consumer.user("u").orElseThrow();
            assertThat(view.edges().keySet()).isEqualTo(graph.edges.keySet());
            for (Edge edge : graph.edges.values()) {
                assertThat(view.edges().get(edge.itemId).getInterestId()).as("edge %s", edge.itemId)
                        .isEqualTo(InterestMerging.publishedInterestId(graph, edge));
            }
            assertThat(view.interests().keySet())
                    .isEqualTo(InterestMerging.publishedInterests(graph));
            for (Interest interest : graph.interests.values()) {
                if (InterestMerging.isPublished(interest)) {
                    assertThat(view.interests().get(interest.id).getLabel())
                            .isEqualTo(interest.label);
                }
            }
            assertThat(graph.interests.size()).isLessThanOrEqualTo(3);
        }
    }
}
