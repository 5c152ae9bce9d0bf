package dev.interestgraph.testing;

import dev.interestgraph.embed.EmbeddingBatch;
import dev.interestgraph.embed.EmbeddingClient;
import dev.interestgraph.embed.EmbeddingClientFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * TEST FIXTURE ONLY: a deterministic text-hashing "embedder". Each word is hashed to a signed
 * position in a 384-dimensional vector, so texts that share words have a high cosine. It lets
 * fast tests reason about similarity without a model; the real model is tested separately.
 */
public final class HashingTestEmbedder implements EmbeddingClient {
    public static final int DIMENSION = 384;
    public static final String MODEL_VERSION = "hashing-test-1";

    /** A serialisable factory for pipelines under test. */
    public static EmbeddingClientFactory factory() {
        return HashingTestEmbedder::new;
    }

    @Override
    public void checkReady() {}

    @Override
    public int dimension() {
        return DIMENSION;
    }

    @Override
    public CompletableFuture<EmbeddingBatch> embed(List<String> texts) {
        List<float[]> vectors = new ArrayList<>(texts.size());
        for (String text : texts) {
            vectors.add(embed(text));
        }
        return CompletableFuture.completedFuture(new EmbeddingBatch(vectors, MODEL_VERSION));
    }

    /** The vector of one text: L2-normalised sum of ±1 at each word's hashed position. */
    public static float[] embed(String text) {
        float[] vector = new float[DIMENSION];
        for (String word : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
            if (word.isEmpty()) {
                continue;
            }
            int hash = fnv1a(word);
            vector[Math.floorMod(hash, DIMENSION)] += (hash & 0x40000000) == 0 ? 1f : -1f;
        }
        double norm = 0;
        for (float v : vector) {
            norm += v * v;
        }
        if (norm > 0) {
            float scale = (float) (1.0 / Math.sqrt(norm));
            for (int i = 0; i < vector.length; i++) {
                vector[i] *= scale;
            }
        }
        return vector;
    }

    private static int fnv1a(String word) {
        int hash = 0x811c9dc5;
        for (byte b : word.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= 0x01000193;
        }
        return hash;
    }

    @Override
    public void close() {}
}
