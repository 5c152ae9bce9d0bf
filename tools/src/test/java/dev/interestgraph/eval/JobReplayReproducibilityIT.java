package dev.interestgraph.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.embed.EmbeddingBatch;
import dev.interestgraph.embed.EmbeddingClient;
import dev.interestgraph.embed.EmbeddingClientFactory;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v2.EdgeRemove;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.testing.HashingTestEmbedder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: a bounded replay of the same events gives the same deltas whatever the machine's
 * load. Two runs of the real job (real broker, local cluster, parallelism 2) over the same events
 * with opposite timings: in one the event stream stalls (its texts are embedded slowly, so the
 * source is backpressured and the watermark climbs through the data in many small steps); in the
 * other the catalogue is slow (the items arrive after every event was read, so the join holds
 * everything and event time jumps from the start to the end of input in one step, as in the
 * evaluation's first replay, which embeds the catalogue). Both must equal the in-process replay of
 * the operator's logic ({@link GraphReplay}) delta for delta, sweeps and idle expiry included.
 */
class JobReplayReproducibilityIT {
    private static final long DAY = 24L * 3600 * 1000;
    private static final String NOTE = "note ";

    @Test
    void deltasDoNotDependOnWhatIsSlow() throws Exception {
        Configuration options = new Configuration();
        options.set(InterestGraphOptions.IDLE_TTL, Duration.ofDays(8));
        options.set(InterestGraphOptions.MAX_EDGES_PER_USER, 8);
        options.set(InterestGraphOptions.EDGE_HALF_LIFE, Duration.ofDays(5));
        // a small in-flight window: a slow embedding backpressures its source
        options.set(InterestGraphOptions.EMBED_MAX_IN_FLIGHT, 8);
        options.set(InterestGraphOptions.EMBED_BATCH_SIZE, 4);
        GraphParameters params = InterestGraphOptions.graphParameters(options);

        // a busy month, a quiet month, and a second busy month in which only half of the users
        // come back: sweeps and idle expiry between a user's events, and users whose last event
        // lies two months before the end of the input
        long start = 1_700_000_000_000L;
        SyntheticDataset first = SyntheticDataset.builder().users(12).itemsPerTopic(6)
                .eventsPerUser(30).startMs(start).spanMs(30 * DAY).seed(1).build();
        SyntheticDataset second = SyntheticDataset.builder().users(6).itemsPerTopic(6)
                .eventsPerUser(30).startMs(start + 60 * DAY).spanMs(30 * DAY).seed(2).build();
        List<UserAction> events = new ArrayList<>(first.events());
        second.events().forEach(e -> {
            e.eventId = "second-" + e.eventId;
            events.add(e);
        });
        for (int i = 0; i < events.size(); i += 3) {
            events.get(i).text = NOTE + events.get(i).eventId; // embedded: the slow step of run 1
        }
        List<ItemVersion> items = first.items();

        List<GraphDelta> stalledEvents;
        List<GraphDelta> slowCatalogue;
        try (JobReplay job = new JobReplay(2, new DelayedEmbeddings(20, 0))) {
            stalledEvents = job.run(items, events, options).deltas;
        }
        try (JobReplay job = new JobReplay(2, new DelayedEmbeddings(0, 500))) {
            slowCatalogue = job.run(items, events, options).deltas;
        }

        List<GraphDelta> reference = GraphReplay.source(params, catalogue(items))
                .deltas(withTextVectors(events));
        System.out.printf("deltas: stalled events %d, slow catalogue %d, in-process replay %d%n",
                stalledEvents.size(), slowCatalogue.size(), reference.size());
        assertThat(byUser(stalledEvents)).isEqualTo(byUser(reference));
        assertThat(byUser(slowCatalogue)).isEqualTo(byUser(reference));

        // the comparison covered the timers: decay sweeps and idle expiry between events
        Set<EdgeRemove.Reason> reasons = reference.stream()
                .flatMap(d -> d.getEdgeRemovesList().stream()).map(EdgeRemove::getReason)
                .collect(Collectors.toSet());
        assertThat(reasons).contains(EdgeRemove.Reason.EXPIRED, EdgeRemove.Reason.DECAYED);
        assertThat(byUser(reference)).hasSize(12);
    }

    private static Map<String, ItemVersion> catalogue(List<ItemVersion> items) {
        Map<String, ItemVersion> catalogue = new HashMap<>();
        for (ItemVersion item : items) {
            ItemVersion embedded = new ItemVersion(item.itemId, item.title, item.description,
                    item.tags, item.updatedMs);
            embedded.embedding = HashingTestEmbedder.embed(item.text());
            embedded.modelVersion = HashingTestEmbedder.MODEL_VERSION;
            catalogue.put(item.itemId, embedded);
        }
        return catalogue;
    }

    /** The events as the job's event-text step leaves them. */
    private static List<UserAction> withTextVectors(List<UserAction> events) {
        List<UserAction> embedded = new ArrayList<>(events.size());
        for (UserAction e : events) {
            UserAction copy = new UserAction(e.eventId, e.userId, e.itemId, e.action,
                    e.eventTimeMs, e.value, e.text);
            if (e.hasText()) {
                copy.textEmbedding = HashingTestEmbedder.embed(e.text);
                copy.textModelVersion = HashingTestEmbedder.MODEL_VERSION;
            }
            embedded.add(copy);
        }
        return embedded;
    }

    private static Map<String, List<GraphDelta>> byUser(List<GraphDelta> deltas) {
        return new TreeMap<>(deltas.stream().collect(Collectors.groupingBy(GraphDelta::getUserId)));
    }

    /**
     * The hashing test model answering after a delay: event texts (they start with
     * {@link #NOTE}) after {@code eventTextDelayMs}, item texts after {@code itemDelayMs} per
     * request.
     */
    private record DelayedEmbeddings(long eventTextDelayMs, long itemDelayMs)
            implements EmbeddingClientFactory {
        @Override
        public EmbeddingClient create() {
            HashingTestEmbedder model = new HashingTestEmbedder();
            return new EmbeddingClient() {
                @Override
                public void checkReady() {}

                @Override
                public int dimension() {
                    return model.dimension();
                }

                @Override
                public CompletableFuture<EmbeddingBatch> embed(List<String> texts) {
                    return embed(texts, "");
                }

                @Override
                public CompletableFuture<EmbeddingBatch> embed(List<String> texts,
                        String modelVersion) {
                    long delay = texts.get(0).startsWith(NOTE) ? eventTextDelayMs : itemDelayMs;
                    return CompletableFuture.runAsync(() -> { },
                                    CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS))
                            .thenCompose(ignored -> model.embed(texts, modelVersion));
                }

                @Override
                public void close() {}
            };
        }
    }
}
