package dev.interestgraph.embed;

import java.io.Serializable;

/**
 * Creates an {@link EmbeddingClient} inside a task. The job graph carries the factory (it is
 * serialisable); each parallel instance opens its own client in {@code open()}.
 */
@FunctionalInterface
public interface EmbeddingClientFactory extends Serializable {
    EmbeddingClient create() throws Exception;
}
