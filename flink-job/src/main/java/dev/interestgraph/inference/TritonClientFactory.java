package dev.interestgraph.inference;

import dev.interestgraph.embed.EmbeddingClient;
import dev.interestgraph.embed.EmbeddingClientFactory;
import java.util.Objects;

/**
 * Opens a {@link TritonEmbeddingClient} inside each task. Carries only the serialisable {@link
 * TritonClientConfig}; the channel is created on the task manager.
 */
public final class TritonClientFactory implements EmbeddingClientFactory {
    private static final long serialVersionUID = 1L;

    private final TritonClientConfig config;

    public TritonClientFactory(TritonClientConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    public TritonClientConfig config() {
        return config;
    }

    @Override
    public EmbeddingClient create() {
        return new TritonEmbeddingClient(config);
    }

    @Override
    public String toString() {
        return "TritonClientFactory{" + config + "}";
    }
}
