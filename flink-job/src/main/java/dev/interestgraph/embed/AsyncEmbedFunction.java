package dev.interestgraph.embed;

import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.vector.VectorMath;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.util.Collections;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

/**
 * Attaches embeddings asynchronously: item texts ({@link #items}) and the text that user events
 * carry ({@link #eventTexts}; events without text pass straight through). Requests go through a
 * {@link MicroBatcher}: micro-batches, de-duplication, a cache of recent texts, retries with
 * backoff and a circuit breaker that backpressures instead of dropping.
 *
 * <p>Metrics (dashboard, per subtask): {@code embedBatchSize} and {@code embedLatencyMs}
 * histograms, {@code embedCacheHitRatio}, {@code embedRetries}, {@code embedBreakerOpen} (0/1),
 * {@code textsEmbedded}.
 */
public abstract class AsyncEmbedFunction<T> extends RichAsyncFunction<T, T> {
    private static final long serialVersionUID = 1L;
    private static final int HISTOGRAM_WINDOW = 1024;

    private final EmbeddingClientFactory clientFactory;
    private final MicroBatcher.Settings settings;
    private transient EmbeddingClient client;
    private transient MicroBatcher batcher;
    private transient Counter embedded;

    protected AsyncEmbedFunction(EmbeddingClientFactory clientFactory,
            MicroBatcher.Settings settings) {
        this.clientFactory = clientFactory;
        this.settings = settings;
    }

    /** The text to embed, or null when the record needs none. */
    protected abstract String textOf(T record);

    /** Attaches the vector and its model version to the record. */
    protected abstract void attach(T record, float[] vector, String modelVersion);

    /** The encoder version the record is pinned to (fine-tuning), or null for the default. */
    protected String pinnedVersionOf(T record) {
        return null;
    }

    @Override
    public void open(Configuration parameters) throws Exception {
        client = clientFactory.create();
        client.checkReady(); // fails the start with a message naming endpoint, model and problem
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        embedded = metrics.counter("textsEmbedded");
        Histogram batchSizes = metrics.histogram("embedBatchSize",
                new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        Histogram latencies = metrics.histogram("embedLatencyMs",
                new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        Counter retries = metrics.counter("embedRetries");
        AtomicLong hits = new AtomicLong();
        AtomicLong lookups = new AtomicLong();
        metrics.gauge("embedCacheHitRatio",
                (Gauge<Double>) () -> lookups.get() == 0 ? 0.0 : (double) hits.get() / lookups.get());
        batcher = new MicroBatcher(client, settings, new MicroBatcher.Listener() {
            @Override
            public void batchSent(int texts, long latencyNanos) {
                batchSizes.update(texts);
                latencies.update(latencyNanos / 1_000_000);
            }

            @Override
            public void retried() {
                retries.inc();
            }

            @Override
            public void cacheHit() {
                hits.incrementAndGet();
                lookups.incrementAndGet();
            }

            @Override
            public void cacheMiss() {
                lookups.incrementAndGet();
            }
        });
        metrics.gauge("embedBreakerOpen", (Gauge<Integer>) () -> batcher.isBreakerOpen() ? 1 : 0);
    }

    @Override
    public void asyncInvoke(T record, ResultFuture<T> resultFuture) throws Exception {
        String text = textOf(record);
        if (text == null || text.isBlank()) {
            resultFuture.complete(Collections.singleton(record));
            return;
        }
        String pinned = pinnedVersionOf(record);
        batcher.embed(text, pinned == null ? "" : pinned).whenComplete((embedding, error) -> {
            if (error == null && pinned != null && !pinned.equals(embedding.modelVersion)) {
                // mixing versions would corrupt every mean it is fused into: fail instead
                error = new IllegalStateException("asked the encoder for version " + pinned
                        + " and got a vector of version " + embedding.modelVersion);
            }
            if (error != null) {
                resultFuture.completeExceptionally(error);
                return;
            }
            attach(record, embedding.vector, embedding.modelVersion);
            embedded.inc();
            resultFuture.complete(Collections.singleton(record));
        });
    }

    @Override
    public void close() {
        if (batcher != null) {
            batcher.close();
        }
        if (client != null) {
            client.close();
        }
    }

    public static AsyncEmbedFunction<ItemVersion> items(EmbeddingClientFactory factory,
            MicroBatcher.Settings settings) {
        return new AsyncEmbedFunction<>(factory, settings) {
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

            @Override
            protected String pinnedVersionOf(ItemVersion item) {
                return item.pinnedModelVersion;
            }
        };
    }

    public static AsyncEmbedFunction<UserAction> eventTexts(EmbeddingClientFactory factory,
            MicroBatcher.Settings settings) {
        return new AsyncEmbedFunction<>(factory, settings) {
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

            @Override
            protected String pinnedVersionOf(UserAction action) {
                return action.pinnedModelVersion;
            }
        };
    }

    /**
     * Fine-tuning only, after the item join: an action whose item vector is of another version
     * than the action is pinned to (the item was embedded before a version switch) gets the
     * item's text embedded in the pinned version, fused with the event's own text vector as the
     * join does. Actions that already have a vector of their version pass straight through.
     */
    public static AsyncEmbedFunction<EnrichedAction> itemsInPinnedVersion(
            EmbeddingClientFactory factory, MicroBatcher.Settings settings) {
        return new AsyncEmbedFunction<>(factory, settings) {
            private static final long serialVersionUID = 1L;

            @Override
            protected String textOf(EnrichedAction action) {
                return action.needsItemVector() ? action.itemText : null;
            }

            @Override
            protected String pinnedVersionOf(EnrichedAction action) {
                return action.pinnedModelVersion;
            }

            @Override
            protected void attach(EnrichedAction action, float[] vector, String modelVersion) {
                float[] fused = action.eventTextVector == null ? vector
                        : VectorMath.normalized(VectorMath.weightedMean(vector, 1.0,
                                action.eventTextVector, 1.0));
                action.vector = HalfFloats.fromFloats(fused);
                action.modelVersion = modelVersion;
                action.eventTextVector = null;
            }
        };
    }
}
