package dev.interestgraph.embed;

import java.util.List;
import java.util.Objects;

/**
 * The answer to one {@link EmbeddingClient#embed} call: one L2-normalised vector per text, in the
 * order of the request, and the model version that produced all of them.
 */
public final class EmbeddingBatch {
    private final List<float[]> vectors;
    private final String modelVersion;

    public EmbeddingBatch(List<float[]> vectors, String modelVersion) {
        this.vectors = List.copyOf(vectors);
        this.modelVersion = Objects.requireNonNull(modelVersion, "modelVersion");
    }

    public List<float[]> vectors() {
        return vectors;
    }

    public String modelVersion() {
        return modelVersion;
    }

    public int size() {
        return vectors.size();
    }
}
