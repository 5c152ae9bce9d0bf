package dev.interestgraph.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.interestgraph.embed.EmbeddingBatch;
import java.util.List;
import org.junit.jupiter.api.Test;

class HashingTestEmbedderTest {
    private final HashingTestEmbedder embedder = new HashingTestEmbedder();
    private static final List<String> TEXTS = List.of("Galactic starship alien 3", "Galactic starship robot 4",
            "Slow tomato risotto 2");

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
        }
        return dot;
    }

    @Test
    void blankAndItsOwnVersionGiveTheBaseVectorsBitForBit() {
        for (String version : new String[] {"", " ", null, HashingTestEmbedder.MODEL_VERSION}) {
            EmbeddingBatch batch = embedder.embed(TEXTS, version).join();
            assertThat(batch.modelVersion()).isEqualTo(HashingTestEmbedder.MODEL_VERSION);
            for (int i = 0; i < TEXTS.size(); i++) {
                assertThat(batch.vectors().get(i)).containsExactly(HashingTestEmbedder.embed(TEXTS.get(i)));
            }
        }
        assertThat(embedder.embed(TEXTS).join().vectors().get(0)).containsExactly(HashingTestEmbedder.embed(TEXTS.get(0)));
    }

    @Test
    void anotherVersionGivesDeterministicDifferentUnitVectorsWithSimilarSimilarities() {
        EmbeddingBatch two = embedder.embed(TEXTS, "2").join();
        EmbeddingBatch twoAgain = new HashingTestEmbedder().embed(TEXTS, "2").join();
        EmbeddingBatch three = embedder.embed(TEXTS, "3").join();

        assertThat(two.modelVersion()).isEqualTo("2");
        assertThat(three.modelVersion()).isEqualTo("3");
        for (int i = 0; i < TEXTS.size(); i++) {
            float[] base = HashingTestEmbedder.embed(TEXTS.get(i));
            float[] v2 = two.vectors().get(i);
            assertThat(v2).containsExactly(twoAgain.vectors().get(i));
            assertThat(cosine(v2, v2)).isCloseTo(1.0, within(1e-5));
            assertThat(cosine(base, v2)).isBetween(0.6, 0.99);
            assertThat(cosine(three.vectors().get(i), v2)).isLessThan(0.99);
        }
        // texts that share words stay closer than texts that do not, within a version
        assertThat(cosine(two.vectors().get(0), two.vectors().get(1)))
                .isGreaterThan(cosine(two.vectors().get(0), two.vectors().get(2)) + 0.3);
    }
}
