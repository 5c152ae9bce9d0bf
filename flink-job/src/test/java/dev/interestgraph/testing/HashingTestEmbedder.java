package dev.interestgraph.testing;

import dev.interestgraph.embed.EmbeddingBatch;
import dev.interestgraph.embed.EmbeddingClient;
import dev.interestgraph.embed.EmbeddingClientFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * TEST FIXTURE ONLY: a deterministic text-hashing "embedder". Each word is hashed to a signed
 * position in a 384-dimensional vector, so texts that share words have a high cosine. It lets
 * fast tests reason about similarity without a model; the real model is tested separately.
 *
 * <p>Version-aware, so that pipeline tests can switch model versions: a blank version or {@link
 * #MODEL_VERSION} gives the hashing vectors above (answered as {@link #MODEL_VERSION}); any other
 * version v gives {@code normalize(x + ½·Q_v·x)}, where Q_v is a signed permutation drawn from a
 * seed derived from v. Q_v is orthogonal, so the vectors of one version keep roughly the
 * similarities of the base ones, while a vector is clearly not its base (cosine ≈ 0.9) nor another
 * version's — as with a fine-tuned encoder, vectors of different versions must not be mixed.
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
        return embed(texts, "");
    }

    @Override
    public CompletableFuture<EmbeddingBatch> embed(List<String> texts, String modelVersion) {
        String version = isBase(modelVersion) ? MODEL_VERSION : modelVersion;
        List<float[]> vectors = new ArrayList<>(texts.size());
        for (String text : texts) {
            vectors.add(embed(text, version));
        }
        return CompletableFuture.completedFuture(new EmbeddingBatch(vectors, version));
    }

    private static boolean isBase(String modelVersion) {
        return modelVersion == null || modelVersion.isBlank() || modelVersion.equals(MODEL_VERSION);
    }

    /**
     * The vector of one text by one model version: {@link #embed(String)} for a blank version or
     * {@link #MODEL_VERSION}, else that vector through the version's fixed perturbation.
     */
    public static float[] embed(String text, String modelVersion) {
        float[] base = embed(text);
        if (isBase(modelVersion)) {
            return base;
        }
        // Q_v: a permutation with random signs, the same for every text of the version
        SplittableRandom random = new SplittableRandom(fnv1a(modelVersion));
        int[] permutation = new int[DIMENSION];
        for (int i = 0; i < DIMENSION; i++) {
            permutation[i] = i;
        }
        for (int i = DIMENSION - 1; i > 0; i--) { // Fisher-Yates
            int j = random.nextInt(i + 1);
            int swap = permutation[i];
            permutation[i] = permutation[j];
            permutation[j] = swap;
        }
        float[] vector = new float[DIMENSION];
        double norm = 0;
        for (int i = 0; i < DIMENSION; i++) {
            float sign = random.nextBoolean() ? 1f : -1f;
            vector[i] = base[i] + 0.5f * sign * base[permutation[i]];
            norm += (double) vector[i] * vector[i];
        }
        if (norm > 0) {
            float scale = (float) (1.0 / Math.sqrt(norm));
            for (int i = 0; i < DIMENSION; i++) {
                vector[i] *= scale;
            }
        }
        return vector;
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
