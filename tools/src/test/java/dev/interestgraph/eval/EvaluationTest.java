package dev.interestgraph.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.interestgraph.analytics.GraphAnalyticsJob;
import dev.interestgraph.analytics.GraphSnapshot;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.recommend.Recommender;
import dev.interestgraph.testing.HashingTestEmbedder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** On generated data with a planted drift, updating the graph must pay off. */
class EvaluationTest {
    private static final long DAY = 24L * 3600 * 1000;

    @Test
    void theUpdatedGraphBeatsTheFrozenGraphAfterThePlantedDrift() throws Exception {
        SyntheticDataset data = SyntheticDataset.builder().users(60).itemsPerTopic(25)
                .eventsPerUser(50).spanMs(100 * DAY).noise(0.05).build();
        Map<String, ItemVersion> items = embed(data);
        Map<String, float[]> embeddings = embeddings(items);
        Evaluation.GraphSource source =
                GraphReplay.source(GraphParameters.defaults(), items);

        // cuts at 40% and 60% of each user's events: the drift (at 50%) lies between them
        // content-led weights: in this data the signal is the items' text, not co-occurrence
        // (the defaults, tuned on MovieLens, lean on graph neighbours)
        Recommender.Weights weights = new Recommender.Weights();
        weights.interests = 1;
        weights.shortTerm = 1;
        Evaluation.Result result = new Evaluation(data.items(), data.events(), embeddings,
                weights, 200, 500).withCuts(0.4, 0.6).evaluate(source, true);

        double before = result.row(Evaluation.OURS, "before").at(10).ndcg();
        double after = result.row(Evaluation.OURS, "after").at(10).ndcg();
        assertThat(result.scoredUsers).isEqualTo(60);
        assertThat(after).as("NDCG@10 after the update vs before (%.3f)", before)
                .isGreaterThan(before + 0.15);
        var prequential = result.prequential.overall;
        assertThat(prequential.get("updated graph").ndcg())
                .isGreaterThan(prequential.get("graph frozen at the split").ndcg());
        // and the graph beats plain popularity after the update
        assertThat(after).isGreaterThan(result.row(Evaluation.POPULARITY, "after").at(10).ndcg());
        assertThat(List.of(Evaluation.OURS, Evaluation.INTERESTS_ONLY, Evaluation.MULTI_INTEREST,
                Evaluation.ITEM_ITEM, Evaluation.POPULARITY)).allSatisfy(
                        m -> assertThat(result.row(m, "after").at(10).users()).isEqualTo(60));
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "blend objective {0}, floor {1}")
    @org.junit.jupiter.params.provider.CsvSource({"FRESH, ITEM_ITEM", "MEAN, ITEM_ITEM",
            "GUARDED, ITEM_ITEM", "GUARDED, HAND_SET"})
    void easeBaselineEaseNeighboursAndTheFittedBlendAreScoredWithSlices(
            BlendFit.Objective objective, BlendFit.Floor floor) throws Exception {
        SyntheticDataset data = SyntheticDataset.builder().users(60).itemsPerTopic(25)
                .eventsPerUser(50).spanMs(100 * DAY).noise(0.05).build();
        Map<String, ItemVersion> items = embed(data);
        Map<String, float[]> embeddings = embeddings(items);
        Evaluation.GraphSource source =
                GraphReplay.source(GraphParameters.defaults(), items);
        Evaluation.Result result = new Evaluation(data.items(), data.events(), embeddings,
                new Recommender.Weights(), 200, 100)
                .withEase(EaseBaseline.LAMBDAS)
                .withBlendFit(source, BlendFit.Grid.standard())
                .withBlendEvidence(List.of(Recommender.NeighbourEvidence.LIKED))
                .withBlendObjective(objective)
                .withBlendFloor(floor, 1)
                .withBlendEaseNeighbours(50, 200) // the evaluation's 200 and a smaller table
                .evaluate(source, false);

        assertThat(result.ease.validationNdcg()).containsOnlyKeys(100.0, 300.0, 1000.0);
        assertThat(result.ease.lambda()).isIn(100.0, 300.0, 1000.0);
        assertThat(result.easeItems).isPositive().isLessThanOrEqualTo(data.items().size());
        // the default weights are a point of the standard grid: the fit cannot do worse (and
        // some weights reach the guarded objective's stale floor: the hand-set weights' own
        // figure, or item-item's and a standard error, which the grid beats on this data)
        assertThat(result.blend.ndcg()).isGreaterThanOrEqualTo(result.blend.baseNdcg());
        assertThat(result.blend.cases()).isPositive();
        assertThat(result.blend.guardMet()).isTrue();
        // item-item on the same window, both conditions, and the floor taken as asked
        assertThat(result.blendFloor).isEqualTo(floor);
        assertThat(result.itemItemFresh).isBetween(0.0, 1.0);
        assertThat(result.itemItemStale.mean()).isBetween(0.0, 1.0);
        assertThat(result.itemItemStale.standardError()).isPositive();
        assertThat(result.itemItemStale.margin()).isEqualTo(1.0);
        assertThat(result.staleFloor).isEqualTo(floor == BlendFit.Floor.HAND_SET
                ? result.baseStale : result.itemItemStale.mean()
                        + result.itemItemStale.standardError());
        // the objective: the fresh validation graphs' NDCG, fresh and stale weighed equally, or
        // (the default) fresh among the weights no worse than the defaults on stale graphs; per
        // evidence (the weights' own first) every graded scale of EASE's negative weights was
        // fitted, and the chosen blend is at least the best of them (one refinement step)
        boolean mean = objective == BlendFit.Objective.MEAN;
        assertThat(result.blendObjective).isEqualTo(objective);
        assertThat(result.blend.ndcg()).isCloseTo(mean
                ? (result.blendFresh + result.blendStale) / 2 : result.blendFresh, within(1e-12));
        assertThat(result.blend.baseNdcg()).isCloseTo(mean
                ? (result.baseFresh + result.baseStale) / 2 : result.baseFresh, within(1e-12));
        if (objective == BlendFit.Objective.GUARDED) {
            assertThat(result.blendStale).isGreaterThanOrEqualTo(result.staleFloor);
        }
        // the chosen blend's stale lead over item-item, user by user: the difference of means
        assertThat(result.blendStaleLead.mean()).isCloseTo(
                result.blendStale - result.itemItemStale.mean(), within(1e-9));
        assertThat(result.blendStaleLead.standardError()).isPositive();
        // per count of EASE neighbours (the evaluation's first), evidence and scale
        assertThat(result.blendChoices).extracting(
                c -> c.neighbours() + "/" + c.evidence() + "@" + c.negativeScale())
                .containsExactly("200/EDGE_WEIGHTS@0.0", "200/EDGE_WEIGHTS@0.25",
                        "200/EDGE_WEIGHTS@0.5", "200/EDGE_WEIGHTS@1.0", "200/LIKED@0.0",
                        "200/LIKED@0.25", "200/LIKED@0.5", "200/LIKED@1.0",
                        "50/EDGE_WEIGHTS@0.0", "50/EDGE_WEIGHTS@0.25", "50/EDGE_WEIGHTS@0.5",
                        "50/EDGE_WEIGHTS@1.0", "50/LIKED@0.0", "50/LIKED@0.25", "50/LIKED@0.5",
                        "50/LIKED@1.0");
        assertThat(result.blendEaseNeighbours).isIn(50, 200);
        assertThat(result.blendChoices).filteredOn(Evaluation.BlendChoice::guardMet)
                .isNotEmpty().allSatisfy(c -> {
                    assertThat(c.weights().negativeNeighbours).isEqualTo(c.negativeScale());
                    assertThat(c.weights().evidence).isEqualTo(c.evidence());
                    assertThat(result.blend.ndcg())
                            .isGreaterThanOrEqualTo((mean ? c.mean() : c.fresh()) - 1e-12);
                    if (objective == BlendFit.Objective.GUARDED) {
                        assertThat(c.stale()).isGreaterThanOrEqualTo(result.staleFloor);
                    }
                });
        if (objective != BlendFit.Objective.GUARDED) {
            assertThat(result.blendChoices).allMatch(Evaluation.BlendChoice::guardMet);
        }
        // the same fit with cosine neighbours: the same validation users, never below the defaults
        assertThat(result.blendCosine.cases()).isEqualTo(result.blend.cases());
        assertThat(result.blendCosine.ndcg())
                .isGreaterThanOrEqualTo(result.blendCosine.baseNdcg());
        for (String phase : List.of("before", "after")) {
            for (String method : List.of(Evaluation.EASE, Evaluation.OURS_EASE,
                    Evaluation.OURS_EASE_FITTED)) {
                assertThat(result.row(method, phase).at(10).users())
                        .isEqualTo(result.scoredUsers);
            }
        }
        // issue 17: the no-neighbour fits on the same validation window. Popularity alone and
        // the hand-set content weights are points of the grids, so neither fit is below them
        // (the content fits keep the first of the blend fits' validation windows)
        assertThat(result.contentFit.cases()).isEqualTo(result.blendWindowUsers.get(0));
        assertThat(result.contentFit.weights().neighbours).isZero();
        assertThat(result.contentFit.ndcg())
                .isGreaterThanOrEqualTo(result.validationPopularityNdcg)
                .isGreaterThanOrEqualTo(result.contentFit.baseNdcg());
        assertThat(result.multiInterestFit.weights().shortTerm)
                .isIn(result.contentFit.weights().shortTerm, 0.1);
        assertThat(result.multiInterestFit.ndcg())
                .isGreaterThanOrEqualTo(result.multiInterestFit.baseNdcg());
        // the items' text carries this data set: the fitted content beats popularity on it
        assertThat(result.contentFit.ndcg()).isGreaterThan(result.validationPopularityNdcg);
        for (String method : List.of(Evaluation.INTERESTS_ONLY_FITTED,
                Evaluation.INTERESTS_ONLY_NO_POPULARITY, Evaluation.MULTI_INTEREST_FITTED,
                Evaluation.OURS_EASE_ALONE)) {
            assertThat(result.row(method, "after").at(10).users()).isEqualTo(result.scoredUsers);
        }
        assertThat(result.row(Evaluation.INTERESTS_ONLY_FITTED, "after").at(10).ndcg())
                .isGreaterThan(result.row(Evaluation.POPULARITY, "after").at(10).ndcg());
        // co-occurrence is topical here: EASE beats popularity after the update
        assertThat(result.row(Evaluation.EASE, "after").at(10).ndcg())
                .isGreaterThan(result.row(Evaluation.POPULARITY, "after").at(10).ndcg());
        // every user has 50 events: nobody is new; every method has its rest row
        assertThat(result.sliceUsers).containsEntry("after/" + Evaluation.NEW_USERS, 0);
        assertThat(result.sliceRows.stream().filter(r -> r.phase.equals("after")
                && r.slice.equals(Evaluation.REST)).map(r -> r.method))
                .contains(Evaluation.OURS, Evaluation.INTERESTS_ONLY, Evaluation.ITEM_ITEM,
                        Evaluation.POPULARITY, Evaluation.EASE, Evaluation.OURS_EASE,
                        Evaluation.OURS_EASE_FITTED);
    }

    /**
     * The blend fits pool two validation windows by default: the λ validation's (every user's
     * events[:b] cut again at 0.8) and the same cut of its training events. Its cases are every
     * target user of both, the first window alone is what one window fits on, and the floor is
     * item-item's over the same pooled cases.
     */
    @Test
    void theBlendFitPoolsTwoNestedValidationWindows() throws Exception {
        SyntheticDataset data = SyntheticDataset.builder().users(50).itemsPerTopic(20)
                .eventsPerUser(40).spanMs(100 * DAY).noise(0.05).build();
        Map<String, ItemVersion> items = embed(data);
        Evaluation.GraphSource source = GraphReplay.source(GraphParameters.defaults(), items);
        java.util.function.IntFunction<Evaluation.Result> fit = windows -> {
            try {
                return new Evaluation(data.items(), data.events(), embeddings(items),
                        new Recommender.Weights(), 200, 100)
                        .withEase(100)
                        .withBlendFit(source, BlendFit.Grid.standard())
                        .withBlendWindows(windows)
                        // every weight chosen, so that the stale lead is always computed
                        .withBlendObjective(BlendFit.Objective.FRESH)
                        .validate();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        Evaluation.Result two = fit.apply(Evaluation.DEFAULT_BLEND_WINDOWS);
        Evaluation.Result one = fit.apply(1);

        // the windows' users, counted here from the splits themselves
        List<UserAction> training = new TemporalSplit(data.events(), 0.6, 0.8).afterUpdate();
        TemporalSplit first = new TemporalSplit(training, EaseBaseline.VALIDATION_CUT,
                EaseBaseline.VALIDATION_CUT);
        TemporalSplit second = new TemporalSplit(first.afterUpdate(),
                EaseBaseline.VALIDATION_CUT, EaseBaseline.VALIDATION_CUT);
        int firstUsers = first.relevantTargets().size();
        int secondUsers = second.relevantTargets().size();
        assertThat(firstUsers).isPositive();
        assertThat(secondUsers).isPositive();
        assertThat(one.blendWindowUsers).containsExactly(firstUsers);
        assertThat(two.blendWindowUsers).containsExactly(firstUsers, secondUsers);
        assertThat(one.blend.cases()).isEqualTo(firstUsers);
        assertThat(two.blend.cases()).isEqualTo(firstUsers + secondUsers);
        assertThat(two.blendCosine.cases()).isEqualTo(firstUsers + secondUsers);
        // item-item's stale figure and its standard error are taken over the pooled cases:
        // another mean than the first window's alone
        assertThat(two.itemItemStale.mean()).isNotEqualTo(one.itemItemStale.mean());
        assertThat(two.itemItemStale.standardError()).isPositive();
        // the stale lead is per case too: the difference of the pooled means
        assertThat(two.blendStaleLead.mean()).isCloseTo(
                two.blendStale - two.itemItemStale.mean(), within(1e-9));
        assertThatThrownBy(() -> new Evaluation(data.items(), data.events(), embeddings(items),
                new Recommender.Weights(), 200, 100).withBlendWindows(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least 1");
    }

    /**
     * The λ of the blend's EASE neighbour table as a lever beside EASE^R's own: every λ asked
     * for is fitted on the validation window (EASE^R's first: the hand-set figures are its), the
     * blend takes the best by its objective, and the EASE^R row keeps the λ its own validation
     * chose; the fitted blend's row is scored with a table of the chosen λ.
     */
    @Test
    void theBlendChoosesTheLambdaOfItsNeighbourTableBesideEaseRsOwn() throws Exception {
        SyntheticDataset data = SyntheticDataset.builder().users(50).itemsPerTopic(20)
                .eventsPerUser(40).spanMs(100 * DAY).noise(0.05).build();
        Map<String, ItemVersion> items = embed(data);
        Evaluation.GraphSource source = GraphReplay.source(GraphParameters.defaults(), items);
        Evaluation.Result result = new Evaluation(data.items(), data.events(), embeddings(items),
                new Recommender.Weights(), 200, 100)
                .withEase(100)
                .withBlendFit(source, BlendFit.Grid.standard())
                .withBlendEaseLambdas(1, 100) // EASE^R's 100 listed again: fitted once
                .evaluate(source, false);

        assertThat(result.ease.lambda()).isEqualTo(100.0);
        assertThat(result.blendChoices).extracting(c -> c.lambda() + "@" + c.negativeScale())
                .containsExactly("100.0@0.0", "100.0@0.25", "100.0@0.5", "100.0@1.0",
                        "1.0@0.0", "1.0@0.25", "1.0@0.5", "1.0@1.0");
        // on this data set only λ = 1's table has weights above the stale floor: the fitted
        // row then ranks with a second final model, of λ = 1, beside EASE^R's
        assertThat(result.blendEaseLambda).isEqualTo(1.0);
        assertThat(result.blendChoices).filteredOn(Evaluation.BlendChoice::guardMet)
                .isNotEmpty().allSatisfy(c -> {
                    assertThat(result.blend.ndcg()).isGreaterThanOrEqualTo(c.fresh() - 1e-12);
                    assertThat(c.stale()).isGreaterThanOrEqualTo(result.staleFloor);
                });
        for (String phase : List.of("before", "after")) {
            assertThat(result.row(Evaluation.OURS_EASE_FITTED, phase).at(10).users())
                    .isEqualTo(result.scoredUsers).isPositive();
        }
    }

    /**
     * A catalogue beyond the dense EASE model's limit (a small limit here, 10,000 items in a
     * real run) leaves the EASE rows out, named with the item count and the limit, and the run
     * goes on: every other row and the content fits are scored.
     */
    @Test
    void easeBeyondItsItemLimitIsReportedAsNotComputedAndTheOtherRowsGoOn() throws Exception {
        SyntheticDataset data = SyntheticDataset.builder().users(40).itemsPerTopic(20)
                .eventsPerUser(40).spanMs(100 * DAY).noise(0.05).build();
        Map<String, ItemVersion> items = embed(data);
        Map<String, float[]> embeddings = embeddings(items);
        int liked = dev.interestgraph.analytics.EaseModel.itemCount(EaseBaseline.likedByUser(
                TemporalSplit.standard(data.events()).afterUpdate()));
        int limit = liked / 2;
        assertThat(limit).as("a limit the data set exceeds").isPositive();
        Evaluation.GraphSource source = GraphReplay.source(GraphParameters.defaults(), items);
        Evaluation evaluation = new Evaluation(data.items(), data.events(), embeddings,
                new Recommender.Weights(), 200, 100)
                .withEase(EaseBaseline.LAMBDAS).withEaseMaxItems(limit)
                .withBlendFit(source, BlendFit.Grid.standard())
                .withBlendEvidence(List.of(Recommender.NeighbourEvidence.LIKED));
        Evaluation.Result result = evaluation.evaluate(source, false);

        assertThat(result.ease).isNull();
        assertThat(result.blend).isNull();
        assertThat(result.notComputed).containsOnlyKeys(Evaluation.EASE, Evaluation.OURS_EASE,
                Evaluation.OURS_EASE_ALONE, Evaluation.OURS_EASE_FITTED);
        assertThat(result.notComputed.get(Evaluation.EASE))
                .contains(String.format("%,d items", liked), String.format("limit of %,d", limit))
                .contains(String.format("%,.0f MB",
                        dev.interestgraph.analytics.EaseModel.denseBytes(liked) / 1e6));
        assertThat(result.rows).extracting(r -> r.method)
                .doesNotContainAnyElementsOf(result.notComputed.keySet());
        for (String method : List.of(Evaluation.OURS, Evaluation.ITEM_ITEM,
                Evaluation.POPULARITY, Evaluation.INTERESTS_ONLY_FITTED)) {
            for (String phase : List.of("before", "after")) {
                assertThat(result.row(method, phase).at(10).users())
                        .isEqualTo(result.scoredUsers).isPositive();
            }
        }
        assertThat(result.contentFit.cases()).isPositive();
        assertThat(EvaluationReport.beforeAfterTable(result))
                .contains("| " + Evaluation.EASE + " | after update (at b) | not computed |")
                .contains("**Not computed**: " + Evaluation.EASE + ", " + Evaluation.OURS_EASE)
                .contains(String.format("%,d items", liked));
        // the validation-only run stops as early, with the same reason
        assertThat(evaluation.validate().notComputed).isEqualTo(result.notComputed);

        // at the limit itself the model is fitted
        Evaluation.Result atLimit = new Evaluation(data.items(), data.events(), embeddings,
                new Recommender.Weights(), 200, 100).withEase(300).withEaseMaxItems(liked)
                .oursAfterOnly().evaluate(source, false);
        assertThat(atLimit.notComputed).isEmpty();
        assertThat(atLimit.easeItems).isEqualTo(liked);
    }

    @Test
    void gellyNeighboursFromTheMaterialisedGraphServeAsWellAsTheCosineTable(@TempDir Path work)
            throws Exception {
        SyntheticDataset data = SyntheticDataset.builder().users(80).itemsPerTopic(20)
                .eventsPerUser(40).spanMs(100 * DAY).noise(0.05).build();
        Map<String, ItemVersion> items = embed(data);
        Map<String, float[]> embeddings = embeddings(items);
        Map<String, String> texts = new HashMap<>();
        items.values().forEach(item -> texts.put(item.itemId, item.text()));
        int[] runs = {0};
        Evaluation.GraphAnalytics gelly = (graphs, ranking) -> {
            GraphAnalyticsJob.Settings settings = new GraphAnalyticsJob.Settings();
            settings.ranking = ranking;
            settings.neighborsPerItem = 50;
            return GraphAnalyticsJob.runLocally(GraphSnapshot.of(graphs, texts),
                    work.resolve("run" + (++runs[0])), settings, 1, runs[0]);
        };
        Evaluation.Result result = new Evaluation(data.items(), data.events(), embeddings,
                new Recommender.Weights(), 50, 100)
                .withGraphAnalytics(gelly)
                .evaluate(GraphReplay.source(GraphParameters.defaults(), items), false);

        assertThat(runs[0]).as("one Gelly run per ranking and phase").isEqualTo(4);
        // In this data the items' text carries the signal (content alone scores best here); the
        // neighbours the Gelly job finds in the materialised graphs (capped, decayed edges) must
        // still serve about as well as the cosine table over every raw event, and far better
        // than popularity.
        double cosine = result.row(Evaluation.OURS, "after").at(10).ndcg();
        double popularity = result.row(Evaluation.POPULARITY, "after").at(10).ndcg();
        for (String gellyRow : List.of(Evaluation.OURS_GELLY_ADAMIC_ADAR,
                Evaluation.OURS_GELLY_JACCARD)) {
            double withGelly = result.row(gellyRow, "after").at(10).ndcg();
            assertThat(withGelly).as(gellyRow + " vs the cosine table (%.4f)", cosine)
                    .isGreaterThan(0.9 * cosine);
            assertThat(withGelly).as(gellyRow + " vs popularity (%.4f)", popularity)
                    .isGreaterThan(3 * popularity);
        }
    }

    /** The data set's items by id, each embedded by the test embedder. */
    private static Map<String, ItemVersion> embed(SyntheticDataset data) {
        Map<String, ItemVersion> items = new HashMap<>();
        for (ItemVersion item : data.items()) {
            item.embedding = HashingTestEmbedder.embed(item.text());
            item.modelVersion = HashingTestEmbedder.MODEL_VERSION;
            items.put(item.itemId, item);
        }
        return items;
    }

    /** Each item's embedding by item id. */
    private static Map<String, float[]> embeddings(Map<String, ItemVersion> items) {
        Map<String, float[]> embeddings = new HashMap<>();
        items.forEach((id, item) -> embeddings.put(id, item.embedding));
        return embeddings;
    }
}
