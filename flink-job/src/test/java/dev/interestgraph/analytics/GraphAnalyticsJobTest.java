package dev.interestgraph.analytics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.interestgraph.analytics.GraphAnalyticsJob.Ranking;
import dev.interestgraph.analytics.GraphSnapshot.Edge;
import dev.interestgraph.proto.v1.Community;
import dev.interestgraph.proto.v1.ItemNeighbors;
import dev.interestgraph.proto.v1.Neighbor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each Gelly algorithm of the analytics job on a hand-built graph whose answers are worked out
 * below.
 *
 * <pre>
 *   u1 u2 u3 hold A B C        → {A, B, C}: every pair shares 3 users (support ≥ 2)
 *   u4 u5    hold X Y          → {X, Y}: shares 2 users
 *   u6       holds A and X     → a bridge: A–X share 1 user only (below the minimum support)
 *   u1       dislikes X        → weight -1: not evidence of similarity, ignored
 *   u7 u8    hold Q            → a second component; Q has no neighbour
 *   catalogue also has Z       → no edge at all: an isolated item
 * </pre>
 */
class GraphAnalyticsJobTest {
    @TempDir
    static Path dir;
    static AnalyticsOutput output;

    @BeforeAll
    static void runJob() throws Exception {
        List<Edge> edges = new ArrayList<>();
        for (String user : List.of("u1", "u2", "u3")) {
            for (String item : List.of("A", "B", "C")) {
                edges.add(new Edge(user, item, 1.0, 1000));
            }
        }
        for (String user : List.of("u4", "u5")) {
            for (String item : List.of("X", "Y")) {
                edges.add(new Edge(user, item, 2.0, 1000));
            }
        }
        edges.add(new Edge("u6", "A", 0.5, 1000));
        edges.add(new Edge("u6", "X", 0.5, 1000));
        edges.add(new Edge("u1", "X", -1.0, 1000));
        edges.add(new Edge("u7", "Q", 1.0, 1000));
        edges.add(new Edge("u8", "Q", 1.0, 1000));
        Map<String, String> texts = Map.of(
                "A", "Alien: space horror",
                "B", "Night of space horror",
                "C", "Horror in the space station",
                "X", "A romantic comedy in Paris",
                "Y", "Romantic comedy, London",
                "Q", "Quiz show",
                "Z", "Zither music");
        new GraphSnapshot(edges, texts).write(dir.resolve("snapshot"));

        GraphAnalyticsJob.Settings settings = new GraphAnalyticsJob.Settings();
        settings.minSupport = 2;
        settings.neighborsPerItem = 5;
        output = GraphAnalyticsJob.runLocally(dir.resolve("snapshot"), dir.resolve("out"),
                settings, 2, 42L);
    }

    private static Neighbor neighbor(String item, String other) {
        return output.items().get(item).getNeighborsList().stream()
                .filter(n -> n.getItemId().equals(other)).findFirst().orElseThrow();
    }

    @Test
    void jaccardIsSharedUsersOverUsersOfEither() {
        // users(A) = {u1, u2, u3, u6}, users(B) = {u1, u2, u3}
        assertThat(neighbor("A", "B").getJaccard()).isCloseTo(3f / 4, within(1e-6f));
        assertThat(neighbor("A", "B").getSupport()).isEqualTo(3);
        assertThat(neighbor("B", "C").getJaccard()).isCloseTo(1f, within(1e-6f));
        // users(X) = {u4, u5, u6} (u1's dislike does not count), users(Y) = {u4, u5}
        assertThat(neighbor("X", "Y").getJaccard()).isCloseTo(2f / 3, within(1e-6f));
    }

    @Test
    void adamicAdarWeighsSharedUsersByTheirDegree() {
        // shared users of A and B: u1, u2, u3, each with 3 positive edges
        assertThat(neighbor("A", "B").getAdamicAdar())
                .isCloseTo((float) (3 / Math.log(3)), within(1e-4f));
        // shared users of X and Y: u4, u5 with 2 edges each
        assertThat(neighbor("X", "Y").getAdamicAdar())
                .isCloseTo((float) (2 / Math.log(2)), within(1e-4f));
        // the default ranking score is the Jaccard index
        assertThat(neighbor("X", "Y").getScore()).isCloseTo(2f / 3, within(1e-6f));
    }

    @Test
    void pairsBelowTheMinimumSupportAreNotNeighbours() {
        assertThat(output.neighbours("A")).containsOnlyKeys("B", "C");
        assertThat(output.neighbours("X")).containsOnlyKeys("Y");
        assertThat(output.neighbours("Q")).isEmpty();
    }

    @Test
    void labelPropagationFindsOneCommunityPerDenseGroupLabelledFromText() {
        long horror = output.communityOf("A");
        assertThat(horror).isNotNegative();
        assertThat(output.communityOf("B")).isEqualTo(horror);
        assertThat(output.communityOf("C")).isEqualTo(horror);
        long comedy = output.communityOf("X");
        assertThat(comedy).isNotNegative().isNotEqualTo(horror);
        assertThat(output.communityOf("Y")).isEqualTo(comedy);
        assertThat(output.communityOf("Q")).isEqualTo(-1);
        assertThat(output.communities()).containsExactlyInAnyOrder(horror, comedy);

        Community horrorCommunity = output.communityTable().get(horror);
        assertThat(horrorCommunity.getSize()).isEqualTo(3);
        assertThat(horrorCommunity.getLabel()).isIn("horror, space", "space, horror");
        // most users first: A has 4, B and C 3 (tie by id)
        assertThat(horrorCommunity.getPopularItemsList()).containsExactly("A", "B", "C");
        assertThat(horrorCommunity.getPopularDegreesList()).containsExactly(4, 3, 3);
        assertThat(output.communityTable().get(comedy).getLabel())
                .isIn("comedy, romantic", "romantic, comedy");
    }

    @Test
    void connectedComponentsAndIsolatedItemsDescribeTheGraphsHealth() {
        AnalyticsOutput.GraphHealth health = output.health();
        assertThat(health.components()).isEqualTo(2);
        assertThat(health.largestComponentUsers()).isEqualTo(6);
        assertThat(health.largestComponentItems()).isEqualTo(5);
        assertThat(health.users()).isEqualTo(8);
        assertThat(health.itemsWithEdges()).isEqualTo(6);
        assertThat(health.catalogueItems()).isEqualTo(7);
        assertThat(health.isolatedCatalogueItems()).isEqualTo(1); // Z
        assertThat(health.itemsWithoutNeighbors()).isEqualTo(1); // Q
        assertThat(dir.resolve("out").resolve(AnalyticsOutput.HEALTH_FILE)).exists();
    }

    @Test
    void recordsCarryTheRunAndEndWithTheMarker() {
        List<String> keys = new ArrayList<>(output.records().keySet());
        assertThat(keys.get(keys.size() - 1)).isEqualTo(AnalyticsOutput.RUN_KEY);
        assertThat(keys).contains("item/A", "item/Q");
        ItemNeighbors a = output.records().get("item/A").getItemNeighbors();
        assertThat(a.getRunId()).isEqualTo(42L);
        assertThat(a.getDegree()).isEqualTo(4);
        assertThat(output.records().get("run").getRun().getCommunities()).isEqualTo(2);
    }

    @Test
    void settingsNameTheKeyAndTheFix() {
        GraphAnalyticsJob.Settings settings = new GraphAnalyticsJob.Settings();
        settings.minSupport = 0;
        assertThatThrownBy(settings::validate)
                .hasMessageContaining("--analytics.min-support")
                .hasMessageContaining("at least 1");
    }

    @Test
    void easeNeighboursReplaceGellysUpToTheItemLimit() {
        GraphSnapshot snapshot = GraphSnapshot.read(dir.resolve("snapshot"));
        GraphAnalyticsJob.Settings settings = new GraphAnalyticsJob.Settings();
        settings.neighbourModel = GraphAnalyticsJob.NeighbourModel.EASE;
        settings.easeLambda = 1;
        settings.neighborsPerItem = 5;
        settings.easeNegatives = false; // the positive table; negatives: the test below
        AnalyticsOutput ease = GraphAnalyticsJob.withEaseNeighbours(output, snapshot, settings);

        // the model of the positive edges only (u1's dislike of X is no evidence)
        Map<String, java.util.Set<String>> liked = new java.util.HashMap<>();
        snapshot.edges().stream().filter(e -> e.weight() > 0).forEach(e -> liked
                .computeIfAbsent(e.userId(), u -> new java.util.HashSet<>()).add(e.itemId()));
        Map<String, Map<String, Float>> expected = EaseModel.fit(liked, 1).neighbours(5);
        assertThat(ease.ranking()).isEqualTo("ease");
        assertThat(ease.neighbours("A")).containsKeys("B", "C").isEqualTo(expected.get("A"));
        assertThat(ease.neighbours("X")).isEqualTo(expected.get("X"));
        assertThat(ease.neighbours("Q")).isEmpty(); // alone with its users: no positive weight
        assertThat(ease.communityOf("A")).isEqualTo(output.communityOf("A"));
        assertThat(ease.records().get(AnalyticsOutput.RUN_KEY).getRun().getRanking())
                .isEqualTo("ease");

        // six items have a positive edge: above the limit the Gelly neighbours stay
        settings.easeMaxItems = 5;
        assertThat(GraphAnalyticsJob.withEaseNeighbours(output, snapshot, settings))
                .isSameAs(output);
    }

    /**
     * analytics.ease.negatives: the published neighbours carry the model's negative weights
     * after its positive ones, and a negative score survives the topic's serialisation (the
     * record bytes the recommend operator's broadcast state parses) unchanged.
     */
    @Test
    void easeNegativeWeightsArePublishedAndSurviveTheTopicsSerialisation() throws Exception {
        GraphSnapshot snapshot = GraphSnapshot.read(dir.resolve("snapshot"));
        GraphAnalyticsJob.Settings settings = new GraphAnalyticsJob.Settings();
        settings.neighbourModel = GraphAnalyticsJob.NeighbourModel.EASE;
        settings.easeLambda = 1;
        settings.neighborsPerItem = 5;
        settings.easeNegatives = true;
        AnalyticsOutput ease = GraphAnalyticsJob.withEaseNeighbours(output, snapshot, settings);

        Map<String, java.util.Set<String>> liked = new java.util.HashMap<>();
        snapshot.edges().stream().filter(e -> e.weight() > 0).forEach(e -> liked
                .computeIfAbsent(e.userId(), u -> new java.util.HashSet<>()).add(e.itemId()));
        Map<String, Map<String, Float>> expected = EaseModel.fit(liked, 1).neighbours(5, true);
        assertThat(expected.values().stream().flatMap(m -> m.values().stream()))
                .as("the snapshot's model has negative weights").anyMatch(w -> w < 0);
        int negatives = 0;
        for (Map.Entry<String, dev.interestgraph.proto.v1.AnalyticsRecord> record
                : ease.records().entrySet()) {
            if (!record.getValue().hasItemNeighbors()) {
                continue;
            }
            dev.interestgraph.proto.v1.AnalyticsRecord parsed =
                    dev.interestgraph.proto.v1.AnalyticsRecord.parseFrom(
                            record.getValue().toByteArray());
            String item = parsed.getItemNeighbors().getItemId();
            Map<String, Float> scores = AnalyticsOutput.scores(parsed.getItemNeighbors());
            assertThat(scores).as(item).containsExactlyEntriesOf(
                    expected.getOrDefault(item, Map.of()));
            negatives += (int) scores.values().stream().filter(w -> w < 0).count();
        }
        assertThat(negatives).isPositive();
    }

    @Test
    void adamicAdarRankingIsRelativeToTheStrongestNeighbour() throws Exception {
        GraphAnalyticsJob.Settings settings = new GraphAnalyticsJob.Settings();
        settings.ranking = Ranking.ADAMIC_ADAR;
        settings.neighborsPerItem = 1;
        AnalyticsOutput adamicAdar = GraphAnalyticsJob.runLocally(dir.resolve("snapshot"),
                dir.resolve("out-adamic-adar"), settings, 1, 43L);
        // A: B and C tie (3 / ln 3 each) → the smaller id; top 1 only; the strongest scores 1
        assertThat(adamicAdar.neighbours("A")).containsOnlyKeys("B");
        assertThat(adamicAdar.neighbours("A").get("B")).isEqualTo(1f);
        assertThat(adamicAdar.neighbours("X").get("Y")).isEqualTo(1f);
    }
}
