package dev.interestgraph.embed;

import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.util.Collections;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

/**
 * Attaches embeddings asynchronously: item texts ({@link #items}) and the text that user events
 * carry ({@link #eventTexts}; events without text pass straight through). Retries and timeouts
 * come from Flink's async operator (see the pipeline); a failure after the last retry fails the
 * job, which restarts from its checkpoint: nothing is dropped.
 */
public abstract class AsyncEmbedFunction<T> extends RichAsyncFunction<T, T> {
    private static final long serialVersionUID = 1L;

    private final EmbeddingClientFactory clientFactory;
    private transient EmbeddingClient client;
    private transient Counter embedded;

    protected AsyncEmbedFunction(EmbeddingClientFactory clientFactory) {
        this.clientFactory = clientFactory;
    }

    /** The text to embed, or null when the record needs none. */
    protected abstract String textOf(T record);

    /** Attaches the vector and its model version to the record. */
    protected abstract void attach(T record, float[] vector, String modelVersion);

    @Override
    public void open(Configuration parameters) throws Exception {
        client = clientFactory.create();
        client.checkReady();
        embedded = getRuntimeContext().getMetricGroup().counter("textsEmbedded");
    }

    @Override
    public void asyncInvoke(T record, ResultFuture<T> resultFuture) {
        String text = textOf(record);
        if (text == null || text.isBlank()) {
            resultFuture.complete(Collections.singleton(record));
            return;
        }
        client.embed(List.of(text)).whenComplete((batch, error) -> {
            if (error != null) {
                resultFuture.completeExceptionally(error);
                return;
            }
            attach(record, batch.vectors().get(0), batch.modelVersion());
            embedded.inc();
            resultFuture.complete(Collections.singleton(record));
        });
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
        }
    }

    public static AsyncEmbedFunction<ItemVersion> items(EmbeddingClientFactory factory) {
        return new AsyncEmbedFunction<>(factory) {
            private static final long serialVersionUID = 1L;

            @Override
            protected String textOf(ItemVersion item) {
                return item.text();
            }

            @Override
            protected void attach(ItemVersion item, float[] vector, String modelVersion) {
                item.embedding = vector;
                item.modelVersion = modelVersion;
            }
        };
    }

    public static AsyncEmbedFunction<UserAction> eventTexts(EmbeddingClientFactory factory) {
        return new AsyncEmbedFunction<>(factory) {
            private static final long serialVersionUID = 1L;

            @Override
            protected String textOf(UserAction action) {
                return action.hasText() ? action.text : null;
            }

            @Override
            protected void attach(UserAction action, float[] vector, String modelVersion) {
                action.textEmbedding = vector;
                action.textModelVersion = modelVersion;
            }
        };
    }
}
