package dev.interestgraph.recommend;

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
}
