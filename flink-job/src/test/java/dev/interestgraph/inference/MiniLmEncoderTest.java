package dev.interestgraph.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MiniLmEncoderTest {
    private static MiniLmEncoder encoder;

    @BeforeAll
    static void load() {
        encoder = MiniLmEncoder.load();
    }

    @AfterAll
    static void close() {
        encoder.close();
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    static double norm(float[] v) {
        double squares = 0;
        for (float x : v) {
            squares += x * x;
        }
        return Math.sqrt(squares);
    }

    @Test
    void vectorsHave384DimensionsAndUnitNorm() {
        float[][] vectors = encoder.encode(List.of("hello world", "Flink keeps state per key", "ünïcödé ✓ 日本語"));

        assertThat(vectors).hasNumberOfRows(3);
        for (float[] vector : vectors) {
            assertThat(vector).hasSize(MiniLmEncoder.DIMENSION);
            assertThat(norm(vector)).isCloseTo(1.0, within(1e-5));
        }
        assertThat(cosine(vectors[0], vectors[1])).isLessThan(0.99);
    }

    @Test
    void closeMeaningsScoreHigherThanUnrelatedOnes() {
        float[][] v = encoder.encode(List.of(
                "a cat sits on the mat", "a kitten is lying on a rug", "the stock market fell sharply"));

        double close = cosine(v[0], v[1]);
        double unrelated = cosine(v[0], v[2]);
        assertThat(close).isGreaterThan(0.4);
        assertThat(unrelated).isLessThan(0.2);
        assertThat(close).isGreaterThan(unrelated + 0.3);
    }

    @Test
    void paddingInsideABatchDoesNotChangeAVector() {
        String shortText = "red running shoes";
        String longText = "a very long product description that needs many more word pieces than the short"
                + " one, so that the short text gets padded inside the batch and only masked pooling keeps"
                + " its vector unchanged";

        float[] alone = encoder.encode(List.of(shortText))[0];
        float[][] batch = encoder.encode(List.of(longText, shortText));

        assertThat(batch[1]).containsExactly(alone, within(1e-5f));
        assertThat(cosine(batch[0], batch[1])).isLessThan(0.9);
    }

    @Test
    void emptyTextGivesAUnitVector() {
        float[][] vectors = encoder.encode(List.of("", "something"));

        assertThat(norm(vectors[0])).isCloseTo(1.0, within(1e-5));
        assertThat(vectors[0]).doesNotContain(Float.NaN);
        assertThat(vectors[0]).isNotEqualTo(vectors[1]);
    }

    @Test
    void emptyBatchGivesNoVectors() {
        assertThat(encoder.encode(List.of())).isEmpty();
    }

    @Test
    void textsAreTruncatedAt256Tokens() {
        // "word" is one word piece: 300 of them exceed the 256-token window (254 + [CLS] + [SEP]).
        String longText = "word ".repeat(300);

        float[] truncated = encoder.encode(List.of(longText))[0];
        float[] withDifferentTail = encoder.encode(List.of(longText + " quantum chromodynamics"))[0];
        float[] within = encoder.encode(List.of("word ".repeat(100) + "quantum chromodynamics"))[0];

        assertThat(withDifferentTail).containsExactly(truncated, within(1e-6f));
        assertThat(cosine(within, truncated)).isLessThan(0.999);
    }

    @Test
    void concurrentCallersGetTheSameVectorsAsASingleCaller() throws Exception {
        List<String> texts = Arrays.asList("one", "two words", "three little words", "four is a number");
        float[][] expected = encoder.encode(texts);

        List<Thread> threads = new ArrayList<>();
        Queue<float[][]> results = new ConcurrentLinkedQueue<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 5; i++) {
                    results.add(encoder.encode(texts));
                }
            });
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }

        assertThat(results).hasSize(20);
        for (float[][] result : results) {
            for (int i = 0; i < texts.size(); i++) {
                assertThat(result[i]).containsExactly(expected[i], within(1e-6f));
            }
        }
    }
}
