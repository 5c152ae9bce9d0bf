package dev.interestgraph.usergraph;

import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.graph.GraphUpdater;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.embed.EmbeddingClient;
import dev.interestgraph.embed.EmbeddingClientFactory;
import dev.interestgraph.embed.MicroBatcher;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v2.EdgeRemove;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.training.TrainingExample;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
        final MicroBatcher.Settings batching;
        final Duration timeout;
        final double exampleSample;
        /** Off when the job only follows versions trained elsewhere: no examples, no state. */
        final boolean trainingExamples;

        /**
         * @param batching how re-embedding requests are batched, cached and retried (the job's
         *     embedding.* options)
         * @param timeout longest a held flush waits for its re-base's vectors before the task
         *     fails and restarts from its checkpoint (embedding.timeout)
         */
        public Settings(EmbeddingClientFactory embeddings, int contextItems,
                MicroBatcher.Settings batching, Duration timeout, double exampleSample,
                boolean trainingExamples) {
            this.embeddings = embeddings;
            this.contextItems = contextItems;
            this.batching = batching;
            this.timeout = timeout;
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
    private final Settings settings;
    private final GraphParameters params;
    private final MapState<String, ItemText> edgeTexts;
    private final ValueState<List<String>> recentPositives;
    private final EmbeddingClient client;
    /** Re-embedding requests: batches, the (version, text) cache users share, retries. */
    private final MicroBatcher batcher;
    /**
     * Re-embedding requests by user, version and item: asked for by {@link #vectorsReady}, read
     * by the user's flush, dropped after it (so only users whose flush waits hold any). Not
     * state: after a restore the held flush asks again.
     */
    private final Map<String, Map<String, Map<String, CompletableFuture<MicroBatcher.Embedding>>>>
            requested = new HashMap<>();

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
        this.batcher = new MicroBatcher(client, settings.batching, new MicroBatcher.Listener() {});
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
            for (EdgeRemove remove : delta.getEdgeRemovesList()) {
                edgeTexts.remove(remove.getItemId());
            }
        }
    }

    void clear() {
        edgeTexts.clear();
        recentPositives.clear();
    }

    /**
     * Whether every vector that re-basing in a flush of {@code due} could need is here: for each
     * version {@link GraphUpdater#rebaseVersions} names, the items on the user's edges and the
     * events' own items, embedded in that version. Asks for what is missing through the
     * {@link MicroBatcher} (batched, cached per (version, text) across the subtask's users,
     * retried with backoff) and returns at once: false means "not yet", and the operator holds
     * the flush (docs/fine-tuning.md, "Re-basing"). A request that failed for good throws, and
     * the task restarts from its checkpoint, as a failed embedding does in the async operators.
     */
    boolean vectorsReady(String userId, UserGraph graph, List<EnrichedAction> due)
            throws Exception {
        Set<String> versions = GraphUpdater.rebaseVersions(graph, due);
        if (versions.isEmpty()) {
            return true;
        }
        Map<String, ItemText> texts = new LinkedHashMap<>();
        if (graph != null) {
            for (String itemId : graph.edges.keySet()) {
                ItemText text = edgeTexts.get(itemId);
                if (text != null) {
                    texts.put(itemId, text);
                }
            }
        }
        Map<String, EnrichedAction> dueItems = new LinkedHashMap<>();
        for (EnrichedAction event : due) {
            if (event.itemId != null && event.itemText != null) {
                texts.putIfAbsent(event.itemId, new ItemText(event.itemText, event.terms));
                dueItems.put(event.itemId, event);
            }
        }
        boolean ready = true;
        Map<String, Map<String, CompletableFuture<MicroBatcher.Embedding>>> byVersion =
                requested.computeIfAbsent(userId, u -> new HashMap<>());
        for (String version : versions) {
            Map<String, CompletableFuture<MicroBatcher.Embedding>> byItem =
                    byVersion.computeIfAbsent(version, v -> new HashMap<>());
            for (Map.Entry<String, ItemText> item : texts.entrySet()) {
                String text = item.getValue().text;
                EnrichedAction dueEvent = dueItems.get(item.getKey());
                boolean onEdge = graph != null && graph.edges.containsKey(item.getKey());
                if (text == null || text.isBlank() || !onEdge && dueEvent != null
                        && version.equals(dueEvent.modelVersion) && dueEvent.hasVector()) {
                    continue; // an item new in this flush whose event brings it in this version
                }
                CompletableFuture<MicroBatcher.Embedding> request = byItem.get(item.getKey());
                if (request == null) {
                    // waits only when the batcher's in-flight limit is reached (backpressure)
                    request = batcher.embed(text, version);
                    byItem.put(item.getKey(), request);
                }
                if (request.isCompletedExceptionally()) {
                    request.join(); // throws: the task restarts and the held flush asks again
                }
                ready &= request.isDone();
            }
        }
        return ready;
    }

    /**
     * {@link #vectorsReady}, then waits for what it asked for, up to embedding.timeout. Only for
     * the end of a bounded input (watermark +∞): no processing-time timer fires after it, so a
     * held flush can only finish by waiting.
     */
    void awaitVectors(String userId, UserGraph graph, List<EnrichedAction> due) throws Exception {
        if (vectorsReady(userId, graph, due)) {
            return;
        }
        List<CompletableFuture<?>> requests = new ArrayList<>();
        requested.getOrDefault(userId, Map.of()).values()
                .forEach(byItem -> requests.addAll(byItem.values()));
        try {
            CompletableFuture.allOf(requests.toArray(new CompletableFuture[0]))
                    .get(settings.timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("re-embedding " + requests.size() + " items for a "
                    + "version switch took longer than embedding.timeout (" + settings.timeout
                    + ") at the end of the input: is the encoder serving the new version?", e);
        }
        if (!vectorsReady(userId, graph, due)) {
            throw new IllegalStateException("re-embedding for a version switch did not finish");
        }
    }

    /** Forgets the re-embedding requests of the user whose flush just ran. */
    void flushed(String userId) {
        requested.remove(userId);
    }

    /**
     * The vectors {@link #vectorsReady} fetched, for the updater's re-base: never waits. An item
     * it did not ask for (none: it asks for every item a flush can re-base) is left without a
     * vector, as an item without a known text is.
     */
    GraphUpdater.ItemVectors itemVectors(String userId) {
        return (itemIds, version) -> prefetchedInVersion(userId, itemIds, version);
    }

    private Map<String, GraphUpdater.ItemVector> prefetchedInVersion(String userId,
            Collection<String> itemIds, String version) {
        Map<String, CompletableFuture<MicroBatcher.Embedding>> byItem =
                requested.getOrDefault(userId, Map.of()).getOrDefault(version, Map.of());
        Map<String, GraphUpdater.ItemVector> vectors = new LinkedHashMap<>();
        try {
            for (String itemId : itemIds) {
                CompletableFuture<MicroBatcher.Embedding> request = byItem.get(itemId);
                if (request == null || !request.isDone()) {
                    continue;
                }
                MicroBatcher.Embedding embedding = request.join();
                if (!version.equals(embedding.modelVersion)) {
                    throw new IllegalStateException("asked the encoder for version " + version
                            + " and got a vector of version " + embedding.modelVersion);
                }
                ItemText text = edgeTexts.get(itemId);
                vectors.put(itemId, new GraphUpdater.ItemVector(
                        HalfFloats.fromFloats(embedding.vector),
                        text == null ? new String[0] : text.terms));
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("reading the text of an item to re-base on version "
                    + version + " failed: " + e, e);
        }
        return vectors;
    }

    void close() {
        batcher.close();
        client.close();
    }
}
