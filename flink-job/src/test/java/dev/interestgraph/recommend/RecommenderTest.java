package dev.interestgraph.recommend;

import dev.interestgraph.analytics.ItemGraph;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.proto.v1.DeltaOp;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v1.GraphDelta;
import dev.interestgraph.proto.v1.InterestUpsert;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RecommenderTest {
    private static final float[] X = {1, 0, 0};
    private static final float[] Y = {0, 1, 0};
    private static final float[] Z = {0, 0, 1};
    private static final float[] XY = {0.8f, 0.6f, 0};

    private static final Map<String, float[]> ITEMS =
            Map.of("seen-x", X, "x-like", XY, "y", Y, "z", Z);

    /** A user who holds seen-x on an interest pointing along X. */
    private static DeltaMaterializer.UserView user() {
        DeltaMaterializer materializer = new DeltaMaterializer();
        materializer.apply(GraphDelta.newBuilder().setUserId("u").setEpoch(1).setSeq(1)
                .setEventTimeMs(1000)
                .addOps(DeltaOp.newBuilder().setEdgeUpsert(EdgeUpsert.newBuilder()
                        .setItemId("seen-x").setWeight(1.0).setLastMs(1000).setInterestId(0)))
                .addOps(DeltaOp.newBuilder().setInterestUpsert(InterestUpsert.newBuilder()
                        .setInterestId(0).setLabel("x").setWeight(1.0).setSize(1)
                        .addAllCentroid(List.of(1f, 0f, 0f))))
                .build());
        return materializer.user("u").orElseThrow();
    }

    @Test
    void itemsCloseToAnInterestRankFirstAndSeenItemsNeverAppear() {
        Recommender.Weights weights = new Recommender.Weights();
        weights.interests = 1;
        weights.shortTerm = 0;
        weights.popularity = 0;
        Recommender recommender = new Recommender(ITEMS, Map.of(), Map.of(), weights);
        List<Recommender.Recommendation> top = recommender.recommend(user(), 3);
        assertThat(top).extracting(r -> r.itemId).startsWith("x-like").doesNotContain("seen-x");
        assertThat(top.get(0).interestId).isEqualTo(0);
        assertThat(top.get(0).score).isEqualTo(0.8f, org.assertj.core.api.Assertions.within(1e-6));
    }

    /** A user with a heavy interest along X (weight 3) and a light one along Y (weight 1). */
    private static DeltaMaterializer.UserView twoInterests() {
        DeltaMaterializer materializer = new DeltaMaterializer();
        materializer.apply(GraphDelta.newBuilder().setUserId("u").setEpoch(1).setSeq(1)
                .setEventTimeMs(1000)
                .addOps(DeltaOp.newBuilder().setEdgeUpsert(EdgeUpsert.newBuilder()
                        .setItemId("seen-x").setWeight(1.0).setLastMs(1000).setInterestId(0)))
                .addOps(DeltaOp.newBuilder().setInterestUpsert(InterestUpsert.newBuilder()
                        .setInterestId(0).setLabel("x").setWeight(3.0).setSize(1)
                        .addAllCentroid(List.of(1f, 0f, 0f))))
                .addOps(DeltaOp.newBuilder().setInterestUpsert(InterestUpsert.newBuilder()
                        .setInterestId(4).setLabel("y").setWeight(1.0).setSize(1)
                        .addAllCentroid(List.of(0f, 1f, 0f))))
                .build());
        return materializer.user("u").orElseThrow();
    }

    private static float[] tilted(float[] axis, float[] towards, float amount) {
        float[] v = new float[3];
        double norm = 0;
        for (int d = 0; d < 3; d++) {
            v[d] = axis[d] + amount * towards[d];
            norm += v[d] * v[d];
        }
        for (int d = 0; d < 3; d++) {
            v[d] /= (float) Math.sqrt(norm);
        }
        return v;
    }

    @Test
    void perInterestRetrievalSharesTheSlotsByInterestWeight() {
        Map<String, float[]> items = new java.util.HashMap<>();
        items.put("seen-x", X);
        for (int i = 1; i <= 6; i++) {
            items.put("x" + i, tilted(X, Z, i * 0.05f));
        }
        for (int i = 1; i <= 3; i++) {
            items.put("y" + i, tilted(Y, Z, i * 0.05f));
        }
        Recommender.Weights weights = new Recommender.Weights();
        weights.interests = 1;
        weights.shortTerm = 0;
        weights.popularity = 0;
        Recommender recommender = new Recommender(items, Map.of(), Map.of(), weights);

        // one score for all: the light interest's items (at most 1/3) never make the top 4
        assertThat(recommender.recommend(twoInterests(), java.util.Set.of(), 4))
                .extracting(r -> r.itemId).containsExactly("x1", "x2", "x3", "x4");
        // per interest: 3 slots for X, 1 for Y, each interest's best first, heavier on ties
        List<Recommender.Recommendation> shared =
                recommender.recommendPerInterest(twoInterests(), java.util.Set.of("x2"), 4);
        assertThat(shared).extracting(r -> r.itemId).containsExactly("x1", "x3", "y1", "x4");
        assertThat(shared).extracting(r -> r.interestId).containsExactly(0, 0, 4, 0);
    }

    @Test
    void quotasFollowTheWeightsByLargestRemainders() {
        double[] interests = {5, 3, 1, 1};
        assertThat(Recommender.quotas(interests, 10)).containsExactly(5, 3, 1, 1);
        // 4 slots: 2, 1.2, 0.4, 0.4 → 2, 1, then the two 0.4 remainders tie for one slot
        // (equal weights: the first)
        assertThat(Recommender.quotas(interests, 4)).containsExactly(2, 1, 1, 0);
    }

    @Test
    void perInterestQuotasUseWeightsDecayedToNow() {
        long halfLife = 30L * 24 * 3600 * 1000;
        long now = 2 * halfLife;
        // X weighs 3 as of its last item, two half-lives ago (0.75 now); Y weighs 1 now
        DeltaMaterializer materializer = new DeltaMaterializer();
        materializer.apply(GraphDelta.newBuilder().setUserId("u").setEpoch(1).setSeq(1)
                .setEventTimeMs(now)
                .addOps(DeltaOp.newBuilder().setEdgeUpsert(EdgeUpsert.newBuilder()
                        .setItemId("seen-x").setWeight(1.0).setLastMs(0).setInterestId(0)))
                .addOps(DeltaOp.newBuilder().setEdgeUpsert(EdgeUpsert.newBuilder()
                        .setItemId("seen-y").setWeight(1.0).setLastMs(now).setInterestId(4)))
                .addOps(DeltaOp.newBuilder().setInterestUpsert(InterestUpsert.newBuilder()
                        .setInterestId(0).setLabel("x").setWeight(3.0).setSize(1)
                        .addAllCentroid(List.of(1f, 0f, 0f))))
                .addOps(DeltaOp.newBuilder().setInterestUpsert(InterestUpsert.newBuilder()
                        .setInterestId(4).setLabel("y").setWeight(1.0).setSize(1)
                        .addAllCentroid(List.of(0f, 1f, 0f))))
                .build());
        Map<String, float[]> items = new java.util.HashMap<>();
        for (int i = 1; i <= 7; i++) {
            items.put("x" + i, tilted(X, Z, i * 0.05f));
            items.put("y" + i, tilted(Y, Z, i * 0.05f));
        }
        Recommender.Weights weights = new Recommender.Weights();
        weights.halfLifeMs = halfLife;
        List<Recommender.Recommendation> top = new Recommender(items, Map.of(), Map.of(), weights)
                .recommendPerInterest(materializer.user("u").orElseThrow(), java.util.Set.of(), 7);
        // 7 slots by 0.75 : 1 → 3 : 4 (by the undecayed 3 : 1 it would be 5 : 2)
        assertThat(top).filteredOn(r -> r.interestId == 0).hasSize(3);
        assertThat(top).filteredOn(r -> r.interestId == 4).hasSize(4);
    }

    @Test
    void perInterestRetrievalFallsBackToTheSingleScoreWithoutInterests() {
        Recommender recommender = new Recommender(ITEMS, Map.of(),
                Map.of("y", 50, "z", 10, "x-like", 1), new Recommender.Weights());
        assertThat(recommender.recommendPerInterest(null, java.util.Set.of(), 3))
                .extracting(r -> r.itemId).containsExactly("y", "z", "x-like");
    }

    @Test
    void graphNeighboursOfTheUsersItemsAreRecommendedWithTheReason() {
        Recommender.Weights weights = new Recommender.Weights();
        weights.interests = 0;
        weights.popularity = 0;
        Recommender recommender = new Recommender(ITEMS,
                Map.of("seen-x", Map.of("z", 0.9f, "y", 0.2f)), Map.of(), weights);
        List<Recommender.Recommendation> top = recommender.recommend(user(), 2);
        assertThat(top).extracting(r -> r.itemId).containsExactly("z", "y");
        assertThat(top.get(0).becauseOf).isEqualTo("seen-x");
    }

    @Test
    void usersWithoutAGraphGetTheMostPopularItems() {
        Recommender recommender = new Recommender(ITEMS, Map.of(),
                Map.of("y", 50, "z", 10, "x-like", 1), new Recommender.Weights());
        assertThat(recommender.recommend(null, 3)).extracting(r -> r.itemId)
                .containsExactly("y", "z", "x-like");
    }

    /** An item graph with communities: seen-x and x-like in community 7, y and z in 9. */
    private static ItemGraph communities(Map<String, Map<String, Float>> neighbours) {
        return new ItemGraph() {
            @Override
            public Map<String, Float> neighbours(String itemId) {
                return neighbours.getOrDefault(itemId, Map.of());
            }

            @Override
            public long communityOf(String itemId) {
                return itemId.contains("x") ? 7 : 9;
            }

            @Override
            public List<Popular> popularIn(long communityId) {
                return communityId == 7
                        ? List.of(new Popular("seen-x", 40), new Popular("new-x", 20))
                        : List.of(new Popular("y", 30), new Popular("z", 3));
            }

            @Override
            public java.util.Collection<Long> communities() {
                return List.of(7L, 9L);
            }
        };
    }

    @Test
    void neighboursWithoutEmbeddingsAreCandidatesToo() {
        // the streaming job knows no item vectors: candidates come from the item graph alone
        Recommender recommender = new Recommender(Map.of(),
                ItemGraph.of(Map.of("seen-x", Map.of("unembedded", 0.7f))), Map.of(),
                new Recommender.Weights());
        List<Recommender.Recommendation> top = recommender.recommend(user(), 5);
        assertThat(top).extracting(r -> r.itemId).contains("unembedded");
        assertThat(top.get(0).source).isEqualTo(Recommender.Source.NEIGHBORS);
    }

    @Test
    void coldStartUsersGetTheirCommunitysPopularItems() {
        Recommender.Weights weights = new Recommender.Weights();
        Recommender recommender = new Recommender(Map.of(), communities(Map.of()), Map.of(),
                weights);
        // one edge (< 3): the popular items of seen-x's community first, seen-x itself excluded;
        // then the other communities' popular items by popularity (no counts: the communities')
        List<Recommender.Recommendation> top = recommender.recommend(user(), 5);
        assertThat(top).extracting(r -> r.itemId).containsExactly("new-x", "y", "z");
        assertThat(top.get(0).source).isEqualTo(Recommender.Source.COMMUNITY);
        assertThat(top.get(0).communityId).isEqualTo(7);
        assertThat(top.get(0).score).isEqualTo(weights.community * 20 / 40
                + weights.popularity * Math.log1p(20) / Math.log1p(40),
                org.assertj.core.api.Assertions.within(1e-9));
        assertThat(top.get(1).source).isEqualTo(Recommender.Source.POPULAR);

        weights.coldStartEdges = 1; // no longer cold, but seen-x has no neighbours: still served
        assertThat(new Recommender(Map.of(), communities(Map.of()), Map.of(), weights)
                .recommend(user(), 5)).extracting(r -> r.itemId).first().isEqualTo("new-x");
    }

    @Test
    void usersPastColdStartWithNeighboursGetNoCommunityFill() {
        Recommender.Weights weights = new Recommender.Weights();
        weights.coldStartEdges = 1;
        Recommender recommender = new Recommender(Map.of(),
                communities(Map.of("seen-x", Map.of("z", 0.5f))), Map.of(), weights);
        // the neighbour first, then popularity alone: new-x (20 users) after y (30), no
        // community signal for a user past cold start whose items have neighbours
        List<Recommender.Recommendation> top = recommender.recommend(user(), 5);
        assertThat(top).extracting(r -> r.itemId).containsExactly("z", "y", "new-x");
        assertThat(top).extracting(r -> r.source).doesNotContain(Recommender.Source.COMMUNITY);
    }

    @Test
    void fittedWeightsWithoutCommunityOrPopularityBackfillByCommunityThenPopularity() {
        // the fitted blend's shape: only neighbours (and content, which needs item vectors)
        Recommender.Weights fitted = new Recommender.Weights();
        fitted.interests = 0.03;
        fitted.shortTerm = 0.01;
        fitted.neighbours = 1;
        fitted.community = 0;
        fitted.popularity = 0;
        // seen-x has one neighbour: one positively scored candidate, the other 4 slots backfilled:
        // seen-x's community (new-x) first, then popularity (y 30 users before z 3)
        Recommender recommender = new Recommender(Map.of(),
                communities(Map.of("seen-x", Map.of("w", 0.4f))), Map.of(), fitted);
        List<Recommender.Recommendation> top = recommender.recommend(user(), 5);
        assertThat(top).extracting(r -> r.itemId).containsExactly("w", "new-x", "y", "z");
        assertThat(top.get(0).score).isPositive();
        assertThat(top.get(0).source).isEqualTo(Recommender.Source.NEIGHBORS);
        assertThat(top.get(1).score).isZero();
        assertThat(top.get(1).source).isEqualTo(Recommender.Source.COMMUNITY);
        assertThat(top.get(2).source).isEqualTo(Recommender.Source.POPULAR);
        // enough positively scored candidates: the backfill takes no slot
        assertThat(recommender.recommend(user(), 1)).extracting(r -> r.itemId)
                .containsExactly("w");
    }

    @Test
    void theRankingRulePutsPositiveScoresFirstThenCommunityThenPopularityThenId() {
        assertThat(Recommender.rank(0.1, 0, 0, "b", 0.2, 0, 0, "a")).isPositive();
        assertThat(Recommender.rank(0.1, 0, 0, "b", 0.1, 0, 0, "a")).isPositive(); // id
        assertThat(Recommender.rank(0.001, 0, 0, "b", 0, 1, 1, "a")).isNegative();
        assertThat(Recommender.rank(0, 0.2, 0, "b", 0, 0.1, 0.9, "a")).isNegative();
        assertThat(Recommender.rank(0, 0, 0.2, "b", 0, 0, 0.1, "a")).isNegative();
        assertThat(Recommender.rank(0, 0, 0, "a", 0, 0, 0, "b")).isNegative();
        // negative evidence: after every unscored candidate, whatever their community or
        // popularity; among negatives the least negative first, then community, popularity
        assertThat(Recommender.rank(0, 0, 0, "b", -0.01, 1, 1, "a")).isNegative();
        assertThat(Recommender.rank(0.001, 0, 0, "b", -0.5, 1, 1, "a")).isNegative();
        assertThat(Recommender.rank(-0.1, 0, 0, "b", -0.2, 1, 1, "a")).isNegative();
        assertThat(Recommender.rank(-0.1, 0, 0.2, "b", -0.1, 0, 0.1, "a")).isNegative();
    }

    /** A user with two liked items, a and b, of equal weight. */
    private static DeltaMaterializer.UserView likesAAndB() {
        DeltaMaterializer materializer = new DeltaMaterializer();
        GraphDelta.Builder delta = GraphDelta.newBuilder().setUserId("u").setEpoch(1).setSeq(1)
                .setEventTimeMs(1000);
        for (String item : List.of("a", "b")) {
            delta.addOps(DeltaOp.newBuilder().setEdgeUpsert(EdgeUpsert.newBuilder()
                    .setItemId(item).setWeight(1.0).setLastMs(1000).setInterestId(-1)));
        }
        materializer.apply(delta.build());
        return materializer.user("u").orElseThrow();
    }

    /** The neighbour signals alone (the other weights 0). */
    private static Recommender.Weights neighboursOnly() {
        Recommender.Weights weights = new Recommender.Weights();
        weights.interests = 0;
        weights.shortTerm = 0;
        weights.community = 0;
        weights.popularity = 0;
        return weights;
    }

    @Test
    void negativeNeighbourEvidenceLowersACandidateAndRanksBelowUnscoredOnes() {
        Recommender.Weights weights = neighboursOnly();
        // EASE-like table: b "explains away" c (a negative weight) and f
        Map<String, Map<String, Float>> table = Map.of(
                "a", Map.of("c", 0.6f, "d", 0.5f, "e", 0.3f),
                "b", Map.of("d", 0.1f, "c", -0.4f, "f", -0.2f));
        Map<String, float[]> vectors = Map.of("c", X, "d", Y, "e", Z, "f", X, "g", Y);
        // f is far more popular than g: only the evidence puts it last
        Recommender recommender = new Recommender(vectors, table,
                Map.of("f", 100, "g", 1, "c", 1, "d", 1, "e", 1), weights);
        List<Recommender.Recommendation> top = recommender.recommend(likesAAndB(), 5);
        // Σ over the two edges / their total weight 2: d 0.3, e 0.15, c 0.1, g 0, f −0.1
        assertThat(top).extracting(r -> r.itemId).containsExactly("d", "e", "c", "g", "f");
        assertThat(top.get(2).score).isCloseTo(0.1, org.assertj.core.api.Assertions.within(1e-6));
        assertThat(top.get(2).becauseOf).isEqualTo("a"); // the positive contribution names it
        assertThat(top.get(4).score).isCloseTo(-0.1, org.assertj.core.api.Assertions.within(1e-6));
        assertThat(top.get(4).becauseOf).isNull(); // no positive evidence to name
        // without b's negative weights c (0.3) ties d and ranks before it by id
        Recommender positiveOnly = new Recommender(vectors, Map.of(
                "a", Map.of("c", 0.6f, "d", 0.5f, "e", 0.3f), "b", Map.of("d", 0.1f)),
                Map.of("f", 100, "g", 1, "c", 1, "d", 1, "e", 1), weights);
        assertThat(positiveOnly.recommend(likesAAndB(), 5)).extracting(r -> r.itemId)
                .containsExactly("c", "d", "e", "f", "g");
        // the blend fit sees the same evidence, split by sign: c's positive 0.3 and negative −0.2
        Recommender.Signals signals = recommender.signals(likesAAndB(), java.util.Set.of());
        int f = signals.items().indexOf("f");
        int c = signals.items().indexOf("c");
        int positive = Recommender.Signal.NEIGHBOURS.ordinal();
        int negative = Recommender.Signal.NEGATIVE_NEIGHBOURS.ordinal();
        assertThat(signals.values()[f][positive]).isZero();
        assertThat(signals.values()[f][negative])
                .isCloseTo(-0.1f, org.assertj.core.api.Assertions.within(1e-6f));
        assertThat(signals.values()[c][positive])
                .isCloseTo(0.3f, org.assertj.core.api.Assertions.within(1e-6f));
        assertThat(signals.values()[c][negative])
                .isCloseTo(-0.2f, org.assertj.core.api.Assertions.within(1e-6f));
    }

    /**
     * The scale of negative neighbour weights: at 0.5 b's negative weight on c counts half (c
     * 0.3 − 0.1 = 0.2, between d 0.3 and e 0.15); at 0 the table ranks exactly as one without
     * negative weights, and f, which only a negative weight brings, is no candidate at all.
     */
    @Test
    void theScaleOfNegativeNeighboursWeighsThemAndZeroIgnoresThem() {
        Recommender.Weights weights = neighboursOnly();
        Map<String, Map<String, Float>> table = Map.of(
                "a", Map.of("c", 0.6f, "d", 0.5f, "e", 0.3f),
                "b", Map.of("d", 0.1f, "c", -0.4f, "f", -0.2f));
        Map<String, Map<String, Float>> positiveOnly = Map.of(
                "a", Map.of("c", 0.6f, "d", 0.5f, "e", 0.3f), "b", Map.of("d", 0.1f));

        weights.negativeNeighbours = 0.5;
        List<Recommender.Recommendation> half =
                new Recommender(Map.of(), table, Map.of(), weights).recommend(likesAAndB(), 5);
        assertThat(half).extracting(r -> r.itemId).containsExactly("d", "c", "e", "f");
        assertThat(half.get(1).score).isCloseTo(0.2, org.assertj.core.api.Assertions.within(1e-6));
        assertThat(half.get(3).score)
                .isCloseTo(-0.05, org.assertj.core.api.Assertions.within(1e-6));

        weights.negativeNeighbours = 0;
        assertThat(new Recommender(Map.of(), table, Map.of(), weights).recommend(likesAAndB(), 5))
                .usingRecursiveFieldByFieldElementComparator()
                .containsExactlyElementsOf(new Recommender(Map.of(), positiveOnly, Map.of(),
                        weights).recommend(likesAAndB(), 5))
                .extracting(r -> r.itemId).containsExactly("c", "d", "e");
    }

    /**
     * Neighbour evidence LIKED counts every item with an edge weight of at least 0.4 (a 3.5-star
     * rating) as 1 and the others 0, as EASE^R counts a user's items; EDGE_WEIGHTS weighs them
     * by their (decayed) edge weights. A loved item (1.0, a 5-star rating) and a liked one (0.4)
     * whose neighbours differ: by edge weights the loved item's neighbour wins, counted as liked
     * the two tie (and rank by id); a 3-star item (0.2) brings nothing when counted as liked.
     */
    @Test
    void likedEvidenceCountsEveryLikedItemOnceAndIgnoresLukewarmOnes() {
        DeltaMaterializer materializer = new DeltaMaterializer();
        GraphDelta.Builder delta = GraphDelta.newBuilder().setUserId("u").setEpoch(1).setSeq(1)
                .setEventTimeMs(1000);
        Map<String, Double> edges = Map.of("loved", 1.0, "liked", 0.4, "lukewarm", 0.2);
        edges.forEach((item, weight) -> delta.addOps(DeltaOp.newBuilder().setEdgeUpsert(
                EdgeUpsert.newBuilder().setItemId(item).setWeight(weight).setLastMs(1000)
                        .setInterestId(-1))));
        materializer.apply(delta.build());
        DeltaMaterializer.UserView user = materializer.user("u").orElseThrow();
        Map<String, Map<String, Float>> table = Map.of("loved", Map.of("q", 0.5f),
                "liked", Map.of("p", 0.5f), "lukewarm", Map.of("r", 0.9f));
        Recommender.Weights weights = neighboursOnly();

        List<Recommender.Recommendation> byWeight =
                new Recommender(Map.of(), table, Map.of(), weights).recommend(user, 3);
        // Σ / total 1.6: q 0.5/1.6, r 0.18/1.6, p 0.2/1.6
        assertThat(byWeight).extracting(r -> r.itemId).containsExactly("q", "p", "r");

        weights.evidence = Recommender.NeighbourEvidence.LIKED;
        List<Recommender.Recommendation> liked =
                new Recommender(Map.of(), table, Map.of(), weights).recommend(user, 3);
        assertThat(liked).extracting(r -> r.itemId).containsExactly("p", "q");
        assertThat(liked.get(0).score).isCloseTo(0.25, org.assertj.core.api.Assertions.within(1e-6));
        assertThat(liked.get(1).score).isCloseTo(0.25, org.assertj.core.api.Assertions.within(1e-6));
    }

    @Test
    void withoutPopularityCountsAUserWithoutAGraphGetsThePopularItemsOfAllCommunities() {
        Recommender recommender = new Recommender(Map.of(), communities(Map.of()), Map.of(),
                new Recommender.Weights());
        assertThat(recommender.recommend(null, 3)).extracting(r -> r.itemId)
                .containsExactly("seen-x", "y", "new-x");
    }
}
