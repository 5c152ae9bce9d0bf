package dev.interestgraph.graph;

import dev.interestgraph.embed.EmbeddingBatch;
import dev.interestgraph.embed.EmbeddingClient;
import dev.interestgraph.embed.EmbeddingClientFactory;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v1.DeltaOp;
import dev.interestgraph.proto.v1.GraphDelta;
import dev.interestgraph.training.TrainingExample;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.util.MathUtils;

/**
 * What the user-graph operator does for fine-tuning (docs/fine-tuning.md), apart from the graph
 * semantics: it keeps the texts of the items on each user's edges, so that at a version switch
 * the items can be embedded again in the new version ({@link GraphUpdater.ItemVectors}); and it
 * turns each positive event into a training example, the texts of the user's previous few
 * positive items → the text of this one.
 *
 * <p>Keyed state (only with fine-tuning on): {@code edge-item-texts} (item → text and label
 * terms, for the items on the user's edges) and {@code recent-positive-texts}.
 */
public final class FineTuningSupport {

    /** Fine-tuning settings of the operator. */
    public static final class Settings implements Serializable {
        private static final long serialVersionUID = 1L;
        final EmbeddingClientFactory embeddings;
        final int contextItems;
        final int requestBatchSize;
        final Duration requestTimeout;
        final double exampleSample;
        /** Off when the job only follows versions trained elsewhere: no examples, no state. */
        final boolean trainingExamples;

        public Settings(EmbeddingClientFactory embeddings, int contextItems, int requestBatchSize,
                Duration requestTimeout, double exampleSample, boolean trainingExamples) {
            this.embeddings = embeddings;
            this.contextItems = contextItems;
            this.requestBatchSize = requestBatchSize;
            this.requestTimeout = requestTimeout;
            this.exampleSample = exampleSample;
            this.trainingExamples = trainingExamples;
        }
    }

    /** An item's text and label terms (a Flink POJO). */
    public static class ItemText {
        public String text;
        public String[] terms;

        public ItemText() {}

        ItemText(String text, String[] terms) {
            this.text = text;
            this.terms = terms;
        }
    }

    static final String CONTEXT_SEPARATOR = " | ";
    private static final int ATTEMPTS = 6;
    /**
     * Re-embedded vectors by version and text: at a switch every user of the subtask re-bases,
     * and users share items, so most of their items were embedded for an earlier user already.
     */
    private static final int CACHE_SIZE = 20_000;

    private final Map<String, short[]> recentVectors = new LinkedHashMap<>(1024, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, short[]> eldest) {
            return size() > CACHE_SIZE;
        }
    };

    private final Settings settings;
    private final GraphParameters params;
    private final MapState<String, ItemText> edgeTexts;
    private final ValueState<List<String>> recentPositives;
    private final EmbeddingClient client;

    FineTuningSupport(Settings settings, GraphParameters params, RuntimeContext context)
            throws Exception {
        this.settings = settings;
        this.params = params;
        this.edgeTexts = context.getMapState(new MapStateDescriptor<>("edge-item-texts",
                Types.STRING, Types.POJO(ItemText.class)));
        this.recentPositives = context.getState(new ValueStateDescriptor<>(
                "recent-positive-texts", Types.LIST(Types.STRING)));
        this.client = settings.embeddings.create();
        try {
            client.checkReady();
        } catch (Exception e) {
            client.close(); // the embedded backend counts its users: release this one
            throw e;
        }
    }

    /**
     * Before a flush applies the events: remembers their items' texts and emits a training
     * example for each positive event of a user with earlier positive items. In event order, as
     * the flush applies them; an erasure forgets everything before it.
     */
    void beforeFlush(List<EnrichedAction> due, Consumer<TrainingExample> examples)
            throws Exception {
        List<EnrichedAction> sorted = new ArrayList<>(due);
        sorted.sort(GraphUpdater.EVENT_ORDER);
        List<String> recent = recentPositives.value();
        recent = recent == null ? new ArrayList<>() : new ArrayList<>(recent);
        Set<String> seen = new HashSet<>();
        for (EnrichedAction event : sorted) {
            if (event.eventId != null && !seen.add(event.eventId)) {
                continue; // a duplicate: the flush drops it too
            }
            if (event.action == Action.FORGET_USER) {
                edgeTexts.clear();
                recent.clear();
                continue;
            }
            if (event.itemText == null || event.itemText.isBlank()) {
                continue;
            }
            edgeTexts.put(event.itemId, new ItemText(event.itemText, event.terms));
            if (!settings.trainingExamples
                    || params.actionWeight(event.action, event.value) <= 0) {
                continue;
            }
            if (!recent.isEmpty() && !recent.get(recent.size() - 1).equals(event.itemText)
                    && sampled(event.eventId)) {
                examples.accept(new TrainingExample(String.join(CONTEXT_SEPARATOR, recent),
                        event.itemText, event.eventTimeMs, event.eventId));
            }
            recent.remove(event.itemText);
            recent.add(event.itemText);
            while (recent.size() > settings.contextItems) {
                recent.remove(0);
            }
        }
        if (recent.isEmpty()) {
            recentPositives.clear();
        } else {
            recentPositives.update(recent);
        }
    }

    /** Whether the event's example is in the sample: by event id, so a replay picks the same. */
    private boolean sampled(String eventId) {
        if (settings.exampleSample >= 1.0 || eventId == null) {
            return true;
        }
        // String.hashCode alone clusters similar ids ("event-10", "event-11"): mix it
        int mixed = MathUtils.murmurHash(eventId.hashCode());
        return Math.floorMod(mixed, 1_000_000) < settings.exampleSample * 1_000_000;
    }

    /**
     * After a flush or maintenance: forgets the texts of items whose edges went — removed edges
     * and, for a flush, the flush's own items that have no edge after it (created and pruned
     * within the flush, which no delta mentions).
     */
    void afterUpdate(GraphUpdater.Result result, List<EnrichedAction> due) throws Exception {
        if (result.graph == null) {
            clear();
            return;
        }
        for (EnrichedAction event : due) {
            if (event.itemId != null && !result.graph.edges.containsKey(event.itemId)) {
                edgeTexts.remove(event.itemId);
            }
        }
        for (GraphDelta delta : result.deltas) {
            for (DeltaOp op : delta.getOpsList()) {
                if (op.hasEdgeRemove()) {
                    edgeTexts.remove(op.getEdgeRemove().getItemId());
                }
            }
        }
    }

    void clear() {
        edgeTexts.clear();
        recentPositives.clear();
    }

    /**
     * The vectors of the current user's items in {@code version}: their texts embedded again,
     * synchronously (once per user per version switch), with retries; an outage longer than the
     * retries fails the task, which restarts from its checkpoint.
     */
    GraphUpdater.ItemVectors itemVectors() {
        return this::embedInVersion;
    }

    private Map<String, GraphUpdater.ItemVector> embedInVersion(Collection<String> itemIds,
            String version) {
        try {
            List<String> ids = new ArrayList<>();
            List<ItemText> texts = new ArrayList<>();
            Map<String, GraphUpdater.ItemVector> vectors = new LinkedHashMap<>();
            for (String itemId : itemIds) {
                ItemText text = edgeTexts.get(itemId);
                if (text == null || text.text == null || text.text.isBlank()) {
                    continue;
                }
                short[] cached = recentVectors.get(version + "\n" + text.text);
                if (cached != null) {
                    vectors.put(itemId, new GraphUpdater.ItemVector(cached, text.terms));
                } else {
                    ids.add(itemId);
                    texts.add(text);
                }
            }
            for (int from = 0; from < ids.size(); from += settings.requestBatchSize) {
                int to = Math.min(ids.size(), from + settings.requestBatchSize);
                List<String> chunk = new ArrayList<>();
                for (ItemText text : texts.subList(from, to)) {
                    chunk.add(text.text);
                }
                EmbeddingBatch batch = embedWithRetries(chunk, version);
                for (int i = from; i < to; i++) {
                    short[] vector = HalfFloats.fromFloats(batch.vectors().get(i - from));
                    recentVectors.put(version + "\n" + texts.get(i).text, vector);
                    vectors.put(ids.get(i), new GraphUpdater.ItemVector(vector,
                            texts.get(i).terms));
                }
            }
            return vectors;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while re-embedding items", e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the items' texts: " + e, e);
        }
    }

    private EmbeddingBatch embedWithRetries(List<String> texts, String version)
            throws InterruptedException {
        Exception last = null;
        long backoffMs = 200;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                EmbeddingBatch batch = client.embed(texts, version)
                        .get(settings.requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
                if (!version.equals(batch.modelVersion()) || batch.size() != texts.size()) {
                    throw new IllegalStateException("asked for " + texts.size()
                            + " vectors of version " + version + ", got " + batch.size()
                            + " of version " + batch.modelVersion());
                }
                return batch;
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                last = e;
                if (attempt < ATTEMPTS) {
                    Thread.sleep(backoffMs); // backoff between retries, not synchronisation
                    backoffMs = Math.min(backoffMs * 2, 5_000);
                }
            }
        }
        throw new IllegalStateException("re-embedding " + texts.size() + " items in version "
                + version + " failed " + ATTEMPTS + " times; last: " + last, last);
    }

    void close() {
        client.close();
    }
}
