package dev.interestgraph.bench;

import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.embed.EmbeddingBatch;
import dev.interestgraph.embed.EmbeddingClient;
import dev.interestgraph.embed.EmbeddingClientFactory;
import dev.interestgraph.embed.MicroBatcher;
import dev.interestgraph.eval.JobReplay;
import dev.interestgraph.inference.EmbeddedInferenceServer;
import dev.interestgraph.inference.MiniLmEncoder;
import dev.interestgraph.inference.TritonClientConfig;
import dev.interestgraph.inference.TritonEmbeddingClient;
import dev.interestgraph.testing.HashingTestEmbedder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.configuration.Configuration;

/**
 * The inference path, measured side by side on the same texts: (a) the ONNX model batched
 * in-process (one shared session, one worker per core), (b) the job's micro-batcher through gRPC
 * to the embedded inference server — the path every record takes — and (c) a replay in which
 * events repeat items: embedding calls per event.
 */
final class EmbeddingBench {
    private EmbeddingBench() {}

    private static final String[] WORDS = {"galactic", "starship", "alien", "robot", "orbit",
        "recipe", "kitchen", "pasta", "spice", "oven", "goal", "league", "striker", "stadium",
        "jazz", "saxophone", "swing", "trumpet", "garden", "compost", "roses", "market", "bonds",
        "island", "journey", "empire", "castle", "dynasty", "a", "the", "of", "with", "and"};

    /** Distinct item-like texts of 12–30 words. */
    static List<String> texts(int n) {
        Random random = new Random(7);
        List<String> texts = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            StringBuilder text = new StringBuilder("Item ").append(i).append('.');
            int words = 12 + random.nextInt(19);
            for (int w = 0; w < words; w++) {
                text.append(' ').append(WORDS[random.nextInt(WORDS.length)]);
            }
            texts.add(text.toString());
        }
        return texts;
    }

    static String run(int textCount) throws Exception {
        List<String> texts = texts(textCount);
        int cores = Runtime.getRuntime().availableProcessors();
        StringBuilder out = new StringBuilder();
        try (MiniLmEncoder encoder = MiniLmEncoder.load()) {
            double raw = 0;
            double viaGrpc = 0;
            try (EmbeddedInferenceServer server =
                    EmbeddedInferenceServer.builder().encoder(encoder).build()) {
                rawOnnx(encoder, texts.subList(0, 128), 32, cores); // warm-up, both paths
                throughBatcher(server.endpoint(), texts.subList(0, 128));
                // alternating rounds, best of each: a busy moment must not decide the ratio
                for (int round = 0; round < 3; round++) {
                    raw = Math.max(raw, rawOnnx(encoder, texts, 32, cores));
                    viaGrpc = Math.max(viaGrpc, throughBatcher(server.endpoint(), texts));
                }
            }
            out.append(String.format(Locale.ROOT, "embedding (%d texts of 12-30 words, %d cores):"
                    + " (a) ONNX batched in-process %.0f sentences/s, (b) micro-batcher -> gRPC -> "
                    + "embedded server %.0f sentences/s, ratio (b)/(a) %.2f (best of 3 "
                    + "alternating rounds)%n", texts.size(),
                    cores, raw, viaGrpc, viaGrpc / raw));
        }
        out.append(callsPerEvent());
        return out.toString();
    }

    /** (a): batches of {@code batch} over {@code workers} threads sharing the session. */
    private static double rawOnnx(MiniLmEncoder encoder, List<String> texts, int batch,
            int workers) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            long start = System.nanoTime();
            List<Future<?>> futures = new ArrayList<>();
            for (int from = 0; from < texts.size(); from += batch) {
                List<String> slice = texts.subList(from, Math.min(texts.size(), from + batch));
                futures.add(pool.submit(() -> encoder.encode(slice)));
            }
            for (Future<?> future : futures) {
                future.get();
            }
            return texts.size() / ((System.nanoTime() - start) / 1e9);
        } finally {
            pool.shutdownNow();
        }
    }

    /** (b): one text at a time into the batcher, as the async operator does. */
    private static double throughBatcher(String endpoint, List<String> texts) throws Exception {
        MicroBatcher.Settings settings = new MicroBatcher.Settings();
        settings.cacheSize = 0; // every text is new: measure the path, not the cache
        try (TritonEmbeddingClient client = new TritonEmbeddingClient(
                        TritonClientConfig.builder().endpoint(endpoint).build());
                MicroBatcher batcher =
                        new MicroBatcher(client, settings, new MicroBatcher.Listener() {})) {
            client.checkReady();
            long start = System.nanoTime();
            List<CompletableFuture<MicroBatcher.Embedding>> futures = new ArrayList<>();
            for (String text : texts) {
                futures.add(batcher.embed(text));
            }
            CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).get();
            return texts.size() / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** Texts sent to the embedding backend, counted across the job's subtasks (same JVM). */
    static final AtomicLong TEXTS = new AtomicLong();

    /** (c): replays of growing length over one catalogue. */
    private static String callsPerEvent() throws Exception {
        StringBuilder out = new StringBuilder("(c) texts embedded per replay (item catalogue of ");
        EmbeddingClientFactory counting = () -> new EmbeddingClient() {
            private final HashingTestEmbedder delegate = new HashingTestEmbedder();

            @Override
            public void checkReady() {}

            @Override
            public int dimension() {
                return delegate.dimension();
            }

            @Override
            public CompletableFuture<EmbeddingBatch> embed(List<String> texts) {
                TEXTS.addAndGet(texts.size());
                return delegate.embed(texts);
            }

            @Override
            public void close() {}
        };
        try (JobReplay job = new JobReplay(2, counting)) {
            boolean first = true;
            for (int eventsPerUser : new int[] {10, 50, 100}) {
                SyntheticDataset data = SyntheticDataset.builder().users(100).itemsPerTopic(20)
                        .eventsPerUser(eventsPerUser).build();
                if (first) {
                    out.append(data.items().size()).append(" items): ");
                    first = false;
                }
                TEXTS.set(0);
                job.run(data.items(), data.events(), new Configuration());
                out.append(String.format(Locale.ROOT, "%,d events -> %,d texts (%.3f per event); ",
                        data.events().size(), TEXTS.get(),
                        (double) TEXTS.get() / data.events().size()));
            }
        }
        return out.append("calls grow with new items, not with events\n").toString();
    }
}
