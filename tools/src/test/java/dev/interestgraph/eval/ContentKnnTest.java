package dev.interestgraph.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ContentKnnTest {

    private static float[] v(float... values) {
        return values;
    }

    @Test
    void ranksCandidatesByTheMeanCosineOfTheirNearestLikedItems() {
        // liked: three items along x and one along y; candidates between them
        Map<String, float[]> embeddings = Map.of(
                "x1", v(1, 0, 0), "x2", v(2, 0.1f, 0), "x3", v(1, -0.1f, 0), "y1", v(0, 1, 0),
                "nearX", v(1, 0.05f, 0), "nearY", v(0, 3, 0.1f), "z", v(0, 0, 1),
                "seen", v(1, 0, 0));
        ContentKnn knn = new ContentKnn(embeddings,
                List.of("nearX", "nearY", "z", "seen", "noVector"));

        List<String> ranked = knn.recommend(Set.of("x1", "x2", "x3", "y1"), Set.of("seen"), 10);

        // nearX: its 3 nearest liked are the x items (cosines ~1); nearY: y1 (~1) and two ~0;
        // z: orthogonal to all; "seen" excluded, "noVector" cannot be scored
        assertThat(ranked).containsExactly("nearX", "nearY", "z");
        assertThat(knn.recommend(Set.of("x1", "x2", "x3", "y1"), Set.of(), 1))
                .as("k caps the list; without the exclusion an x-like item is first")
                .singleElement().isIn("nearX", "seen");
    }

    @Test
    void theMeanOfTheThreeNearestWeighsSeveralLikedItemsNotOnlyTheClosest() {
        // one liked item exactly like "sequel"; "generic" is lukewarm to all three liked items
        Map<String, float[]> embeddings = Map.of(
                "film", v(1, 0, 0), "a", v(0, 1, 0), "b", v(0, 0, 1),
                "sequel", v(1, 0, 0), "generic", v(0.5f, 0.6f, 0.6f));
        ContentKnn knn = new ContentKnn(embeddings, List.of("sequel", "generic"));
        // sequel: cosines 1, 0, 0 → mean 0.333; generic: 0.50, 0.61, 0.61 (unit) → mean 0.57
        assertThat(knn.recommend(Set.of("film", "a", "b"), Set.of(), 2))
                .containsExactly("generic", "sequel");
        // with one liked item the "nearest 3" are the one there is
        assertThat(knn.recommend(Set.of("film"), Set.of(), 2)).containsExactly("sequel", "generic");
        assertThat(knn.recommend(Set.of("unknown"), Set.of(), 2)).isEmpty();
    }
}
