package dev.interestgraph.embed;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Turns texts into L2-normalised vectors. One interface for every backend: Triton over gRPC, the
 * in-JVM inference server, and (in tests only) a hashing fixture.
 *
 * <p>Implementations are thread-safe and asynchronous: {@link #embed} returns at once and the
 * future completes on the client's own threads. A batch is answered by a single model version,
 * which travels with the vectors so that vectors of different versions are never mixed.
 */
public interface EmbeddingClient extends AutoCloseable {

    /**
     * Checks that the backend is reachable and serves the expected model, failing with a message
     * that names the endpoint, the model and what was wrong. Called once before the first batch.
     */
    void checkReady() throws Exception;

    /** The dimension of every vector this client returns. */
    int dimension();

    /** Embeds the texts, in order: the i-th vector of the result belongs to the i-th text. */
    CompletableFuture<EmbeddingBatch> embed(List<String> texts);

    /**
     * Embeds the texts with the given model version; a blank version asks for the server's
     * default (the latest loaded). Clients that cannot pin versions refuse a non-blank one.
     */
    default CompletableFuture<EmbeddingBatch> embed(List<String> texts, String modelVersion) {
        if (modelVersion == null || modelVersion.isBlank()) {
            return embed(texts);
        }
        return CompletableFuture.failedFuture(new UnsupportedOperationException(
                getClass().getSimpleName() + " cannot pin model version " + modelVersion));
    }

    @Override
    void close();
}
