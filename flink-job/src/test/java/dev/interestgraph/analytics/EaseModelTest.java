package dev.interestgraph.analytics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EaseModelTest {

    @Test
    void twoItemsMatchTheClosedFormByHand() {
        // G = XᵀX: a liked by 3 users, b by 1, both by 1. For two items the inverse of
        // [[G_aa+λ, G_ab], [G_ab, G_bb+λ]] gives B_ab = G_ab / (G_aa + λ), B_ba = G_ab / (G_bb + λ)
        Map<String, List<String>> liked = Map.of("u1", List.of("a", "b"), "u2", List.of("a"),
                "u3", List.of("a"));
        EaseModel model = EaseModel.fit(liked, 1.0);
        assertThat(model.weight("a", "b")).isCloseTo(1.0 / (3 + 1), within(1e-12));
        assertThat(model.weight("b", "a")).isCloseTo(1.0 / (1 + 1), within(1e-12));
        assertThat(model.weight("a", "a")).isZero();
        assertThat(model.weight("b", "b")).isZero();
    }

    @Test
    void satisfiesTheNormalEquationsOffTheDiagonalWithAZeroDiagonal() {
        // minimising ‖X − XB‖² + λ‖B‖² subject to diag B = 0: ((G + λI)·B)_ij = G_ij for i ≠ j
        Map<String, List<String>> liked = Map.of(
                "u1", List.of("a", "b", "c"), "u2", List.of("b", "c"), "u3", List.of("a", "d"),
                "u4", List.of("c", "d", "e"), "u5", List.of("a", "b", "e"),
                "u6", List.of("d", "e"), "u7", List.of("b"));
        String[] items = {"a", "b", "c", "d", "e"};
        double[][] g = new double[5][5];
        liked.values().forEach(list -> {
            for (String x : list) {
                for (String y : list) {
                    g[List.of(items).indexOf(x)][List.of(items).indexOf(y)]++;
                }
            }
        });
        for (double lambda : new double[] {1e-6, 0.5, 30}) {
            EaseModel model = EaseModel.fit(liked, lambda);
            assertThat(model.items()).containsExactly(items);
            for (int i = 0; i < 5; i++) {
                assertThat(model.weight(items[i], items[i])).isZero();
                for (int j = 0; j < 5; j++) {
                    if (i == j) {
                        continue;
                    }
                    double product = 0;
                    for (int k = 0; k < 5; k++) {
                        product += (g[i][k] + (i == k ? lambda : 0))
                                * model.weight(items[k], items[j]);
                    }
                    assertThat(product).as("λ=%s, (%d,%d)", lambda, i, j)
                            .isCloseTo(g[i][j], within(1e-6 * Math.max(1, lambda)));
                }
            }
        }
    }

    @Test
    void recommendsBySummedRowsAndPublishesPositiveNeighboursScaledByTheLargestWeight() {
        Map<String, List<String>> liked = Map.of("u1", List.of("a", "b"), "u2", List.of("a", "b"),
                "u3", List.of("a", "c"), "u4", List.of("b", "c"), "u5", List.of("d"));
        EaseModel model = EaseModel.fit(liked, 0.5);
        List<String> ranked = model.recommend(List.of("a"), Set.of("a"), 3);
        double wb = model.weight("a", "b");
        double wc = model.weight("a", "c");
        assertThat(wb).isGreaterThan(wc);
        assertThat(ranked.subList(0, 2)).containsExactly("b", "c");

        Map<String, Map<String, Float>> neighbours = model.neighbours(1);
        assertThat(neighbours.get("a")).containsOnlyKeys("b");
        double max = 0;
        for (String x : model.items()) {
            for (String y : model.items()) {
                max = Math.max(max, model.weight(x, y));
            }
        }
        assertThat(neighbours.get("a").get("b")).isCloseTo((float) (wb / max), within(1e-6f));
        assertThat(neighbours).doesNotContainKey("d"); // d is alone: no positive weight
        neighbours.values().forEach(n -> n.values().forEach(
                w -> assertThat(w).isGreaterThan(0f).isLessThanOrEqualTo(1f)));
    }

    /** The positive part of the rows only: what a neighbour table of positive weights keeps. */
    @Test
    void positiveOnlySumsDropTheNegativeWeights() {
        Map<String, List<String>> liked = Map.of("u1", List.of("a", "b"), "u2", List.of("a", "b"),
                "u3", List.of("a", "c"), "u4", List.of("b", "c"), "u5", List.of("c", "d"),
                "u6", List.of("a", "e"), "u7", List.of("d", "e"), "u8", List.of("b", "d"));
        EaseModel model = EaseModel.fit(liked, 0.5);
        List<String> user = List.of("a", "b");
        java.util.function.BiFunction<String, Boolean, Double> score = (item, clip) -> user
                .stream().mapToDouble(i -> clip ? Math.max(0, model.weight(i, item))
                        : model.weight(i, item)).sum();
        List<String> candidates = List.of("c", "d", "e");
        assertThat(candidates.stream().flatMap(c -> user.stream().map(i -> model.weight(i, c))))
                .as("the data set has negative weights to drop").anyMatch(w -> w < 0);
        for (boolean clip : List.of(false, true)) {
            List<String> expected = candidates.stream()
                    .sorted(java.util.Comparator.comparingDouble((String c) -> -score.apply(c, clip))
                            .thenComparing(c -> c))
                    .collect(java.util.stream.Collectors.toList());
            assertThat(model.recommend(user, Set.of("a", "b"), 3, clip))
                    .as("positive only: %s", clip).containsExactlyElementsOf(expected);
        }
    }

    /**
     * With negatives each item keeps its top N positive weights (the table without negatives,
     * unchanged) and then its N most negative ones, on the same scale; B's signs and values are
     * read off the fitted model, the expected table is built from them by hand.
     */
    @Test
    void negativeNeighboursFollowTheUnchangedPositiveOnesOnTheSameScale() {
        Map<String, List<String>> liked = Map.of("u1", List.of("a", "b"), "u2", List.of("a", "b"),
                "u3", List.of("a", "c"), "u4", List.of("b", "c"), "u5", List.of("c", "d"),
                "u6", List.of("a", "e"), "u7", List.of("d", "e"), "u8", List.of("b", "d"));
        EaseModel model = EaseModel.fit(liked, 0.5);
        double max = 0;
        for (String x : model.items()) {
            for (String y : model.items()) {
                max = Math.max(max, model.weight(x, y));
            }
        }
        Map<String, Map<String, Float>> positive = model.neighbours(1);
        Map<String, Map<String, Float>> signed = model.neighbours(1, true);
        boolean sawNegative = false;
        for (String i : model.items()) {
            List<String> others = model.items().stream().filter(j -> !j.equals(i)).toList();
            String best = others.stream().filter(j -> model.weight(i, j) > 0)
                    .max(java.util.Comparator.comparingDouble(j -> model.weight(i, j)))
                    .orElse(null);
            String worst = others.stream().filter(j -> model.weight(i, j) < 0)
                    .min(java.util.Comparator.comparingDouble(j -> model.weight(i, j)))
                    .orElse(null);
            Map<String, Float> expected = new java.util.LinkedHashMap<>();
            if (best != null) {
                expected.put(best, (float) (model.weight(i, best) / max));
            }
            if (worst != null) {
                expected.put(worst, (float) (model.weight(i, worst) / max));
                sawNegative = true;
            }
            assertThat(signed.getOrDefault(i, Map.of())).as("item %s", i)
                    .containsExactlyEntriesOf(expected);
            assertThat(positive.getOrDefault(i, Map.of()).keySet()).as("item %s", i)
                    .containsExactlyElementsOf(best == null ? List.of() : List.of(best));
        }
        assertThat(sawNegative).as("the data set has negative weights").isTrue();
    }
}
