package dev.interestgraph.embed;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MicroBatcherTest {

    /**
     * Answers each text with a vector [length of text] as version "7" when no version is asked
     * for, and [100 × version + length] as the pinned version otherwise; can fail or hold requests.
     */
    private static final class FakeClient implements EmbeddingClient {
        final List<List<String>> requests = new CopyOnWriteArrayList<>();
        /** The version each request asked for, in the order of {@link #requests}. */
        final List<String> versions = new CopyOnWriteArrayList<>();
        final AtomicBoolean failing = new AtomicBoolean();
        final AtomicInteger failuresLeft = new AtomicInteger();
        final AtomicBoolean holding = new AtomicBoolean();
        final List<Runnable> held = new CopyOnWriteArrayList<>();

        @Override
        public void checkReady() {}

        @Override
        public int dimension() {
            return 1;
        }

        @Override
        public CompletableFuture<EmbeddingBatch> embed(List<String> texts) {
            return embed(texts, "");
        }

        @Override
        public CompletableFuture<EmbeddingBatch> embed(List<String> texts, String modelVersion) {
            versions.add(modelVersion);
            requests.add(List.copyOf(texts));
            if (failing.get() || failuresLeft.getAndDecrement() > 0) {
                return CompletableFuture.failedFuture(new RuntimeException("UNAVAILABLE"));
            }
            int offset = modelVersion.isEmpty() ? 0 : 100 * Integer.parseInt(modelVersion);
            List<float[]> vectors = new ArrayList<>();
            texts.forEach(t -> vectors.add(new float[] {offset + t.length()}));
            EmbeddingBatch batch = new EmbeddingBatch(vectors, modelVersion.isEmpty() ? "7" : modelVersion);
            if (holding.get()) {
                CompletableFuture<EmbeddingBatch> later = new CompletableFuture<>();
                held.add(() -> later.complete(batch));
                return later;
            }
            return CompletableFuture.completedFuture(batch);
        }

        @Override
        public void close() {}
    }

    private static final class CountingListener implements MicroBatcher.Listener {
        final AtomicInteger retries = new AtomicInteger();
        final AtomicInteger hits = new AtomicInteger();
        final AtomicInteger misses = new AtomicInteger();
        final List<Integer> batchSizes = new CopyOnWriteArrayList<>();

        @Override
        public void batchSent(int texts, long latencyNanos) {
            batchSizes.add(texts);
        }

        @Override
        public void retried() {
            retries.incrementAndGet();
        }

        @Override
        public void cacheHit() {
            hits.incrementAndGet();
        }

        @Override
        public void cacheMiss() {
            misses.incrementAndGet();
        }
    }

    private final FakeClient client = new FakeClient();
    private final CountingListener listener = new CountingListener();
    private MicroBatcher batcher;

    private MicroBatcher batcher(int batchSize, Duration delay, int concurrent, int threshold) {
        MicroBatcher.Settings settings = new MicroBatcher.Settings();
        settings.maxBatchSize = batchSize;
        settings.maxDelay = delay;
        settings.maxConcurrentRequests = concurrent;
        settings.initialBackoff = Duration.ofMillis(1);
        settings.maxBackoff = Duration.ofMillis(20);
        settings.breakerFailureThreshold = threshold;
        batcher = new MicroBatcher(client, settings, listener);
        return batcher;
    }

    @AfterEach
    void close() {
        if (batcher != null) {
            batcher.close();
        }
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached within 10 s");
            }
            Thread.onSpinWait();
            Thread.sleep(1); // polling interval of the condition, not synchronisation
        }
    }

    @Test
    void aFullBatchLeavesAtOnceAsOneRequest() throws Exception {
        batcher(4, Duration.ofHours(1), 4, 5);
        List<CompletableFuture<MicroBatcher.Embedding>> futures = new ArrayList<>();
        for (String text : List.of("a", "bb", "ccc", "dddd")) {
            futures.add(batcher.embed(text));
        }
        assertThat(client.requests).containsExactly(List.of("a", "bb", "ccc", "dddd"));
        for (int i = 0; i < 4; i++) {
            MicroBatcher.Embedding embedding = futures.get(i).get(5, TimeUnit.SECONDS);
            assertThat(embedding.vector[0]).isEqualTo(i + 1f);
            assertThat(embedding.modelVersion).isEqualTo("7");
        }
    }

    @Test
    void aPartialBatchLeavesAfterTheDelay() throws Exception {
        batcher(100, Duration.ofMillis(500), 4, 5);
        CompletableFuture<MicroBatcher.Embedding> a = batcher.embed("a");
        CompletableFuture<MicroBatcher.Embedding> b = batcher.embed("bb");
        assertThat(client.requests).isEmpty(); // waits for more texts
        assertThat(b.get(5, TimeUnit.SECONDS).vector[0]).isEqualTo(2f);
        assertThat(a.get(5, TimeUnit.SECONDS).vector[0]).isEqualTo(1f);
        assertThat(client.requests).containsExactly(List.of("a", "bb"));
    }

    @Test
    void identicalTextsInABatchAreEmbeddedOnceAndRecentTextsComeFromTheCache() throws Exception {
        batcher(3, Duration.ofHours(1), 4, 5);
        List<CompletableFuture<MicroBatcher.Embedding>> futures = new ArrayList<>();
        for (String text : List.of("x", "x", "yy", "x", "zzz")) {
            futures.add(batcher.embed(text));
        }
        assertThat(client.requests).containsExactly(List.of("x", "yy", "zzz"));
        for (CompletableFuture<MicroBatcher.Embedding> future : futures) {
            assertThat(future.get(5, TimeUnit.SECONDS)).isNotNull();
        }
        CompletableFuture<MicroBatcher.Embedding> cached = batcher.embed("yy");
        assertThat(cached).isCompleted();
        assertThat(cached.get().vector[0]).isEqualTo(2f);
        assertThat(client.requests).hasSize(1);
        assertThat(listener.hits.get()).isEqualTo(1);
        assertThat(listener.misses.get()).isEqualTo(5);
    }

    @Test
    void failedRequestsAreRetriedUntilTheySucceed() throws Exception {
        batcher(2, Duration.ofHours(1), 4, 100);
        client.failuresLeft.set(3);
        CompletableFuture<MicroBatcher.Embedding> a = batcher.embed("a");
        CompletableFuture<MicroBatcher.Embedding> b = batcher.embed("bb");
        assertThat(a.get(5, TimeUnit.SECONDS).vector[0]).isEqualTo(1f);
        assertThat(b.get(5, TimeUnit.SECONDS).vector[0]).isEqualTo(2f);
        assertThat(client.requests).hasSize(4).allMatch(r -> r.equals(List.of("a", "bb")));
        assertThat(listener.retries.get()).isEqualTo(3);
    }

    @Test
    void anOpenBreakerBlocksNewBatchesUntilARetrySucceeds() throws Exception {
        batcher(1, Duration.ofHours(1), 4, 2);
        client.failing.set(true);
        CompletableFuture<MicroBatcher.Embedding> first = batcher.embed("first");
        await(batcher::isBreakerOpen);

        CompletableFuture<CompletableFuture<MicroBatcher.Embedding>> second =
                CompletableFuture.supplyAsync(() -> {
                    try {
                        return batcher.embed("second");
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
        int requestsWhileOpen = client.requests.size();
        await(() -> client.requests.size() >= requestsWhileOpen + 2); // retries go on
        assertThat(second).isNotDone(); // the caller is held back: backpressure
        assertThat(client.requests).allMatch(r -> r.equals(List.of("first")));

        client.failing.set(false);
        assertThat(first.get(5, TimeUnit.SECONDS).vector[0]).isEqualTo(5f);
        assertThat(second.get(5, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS).vector[0])
                .isEqualTo(6f);
        assertThat(batcher.isBreakerOpen()).isFalse();
    }

    @Test
    void atMostTheConfiguredNumberOfRequestsAreInFlight() throws Exception {
        batcher(1, Duration.ofHours(1), 1, 5);
        client.holding.set(true);
        CompletableFuture<MicroBatcher.Embedding> first = batcher.embed("a");
        CompletableFuture<CompletableFuture<MicroBatcher.Embedding>> second =
                CompletableFuture.supplyAsync(() -> {
                    try {
                        return batcher.embed("bb");
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
        await(() -> client.held.size() == 1);
        assertThat(second).isNotDone();
        assertThat(client.requests).hasSize(1);

        client.holding.set(false);
        client.held.get(0).run();
        assertThat(first.get(5, TimeUnit.SECONDS).vector[0]).isEqualTo(1f);
        assertThat(second.get(5, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS).vector[0])
                .isEqualTo(2f);
        assertThat(listener.batchSizes).containsExactly(1, 1);
    }

    private static float vector(CompletableFuture<MicroBatcher.Embedding> future) throws Exception {
        return future.get(5, TimeUnit.SECONDS).vector[0];
    }

    private static String version(CompletableFuture<MicroBatcher.Embedding> future) throws Exception {
        return future.get(5, TimeUnit.SECONDS).modelVersion;
    }

    @Test
    void aBatchNeverMixesVersions() throws Exception {
        batcher(2, Duration.ofHours(1), 4, 5);
        CompletableFuture<MicroBatcher.Embedding> a2 = batcher.embed("a", "2");
        CompletableFuture<MicroBatcher.Embedding> b3 = batcher.embed("bb", "3");
        CompletableFuture<MicroBatcher.Embedding> c2 = batcher.embed("ccc", "2");

        assertThat(client.requests).containsExactly(List.of("a", "ccc")); // version 2 is full
        assertThat(client.versions).containsExactly("2");
        assertThat(b3).isNotDone(); // version 3's batch still waits for a second text

        CompletableFuture<MicroBatcher.Embedding> d3 = batcher.embed("dddd", "3");
        assertThat(client.requests).containsExactly(List.of("a", "ccc"), List.of("bb", "dddd"));
        assertThat(client.versions).containsExactly("2", "3");
        assertThat(vector(a2)).isEqualTo(201f);
        assertThat(vector(c2)).isEqualTo(203f);
        assertThat(vector(b3)).isEqualTo(302f);
        assertThat(vector(d3)).isEqualTo(304f);
        assertThat(version(a2)).isEqualTo("2");
        assertThat(version(d3)).isEqualTo("3");
    }

    @Test
    void deduplicationAndTheCacheArePerVersionAndText() throws Exception {
        batcher(2, Duration.ofHours(1), 4, 5);
        CompletableFuture<MicroBatcher.Embedding> first = batcher.embed("x", "2");
        CompletableFuture<MicroBatcher.Embedding> again = batcher.embed("x", "2"); // same batch: once
        CompletableFuture<MicroBatcher.Embedding> other = batcher.embed("x", "3"); // another version
        batcher.embed("yy", "2");
        batcher.embed("zzz", "3");

        assertThat(client.requests).containsExactly(List.of("x", "yy"), List.of("x", "zzz"));
        assertThat(client.versions).containsExactly("2", "3");
        assertThat(vector(first)).isEqualTo(201f);
        assertThat(vector(again)).isEqualTo(201f);
        assertThat(vector(other)).isEqualTo(301f);

        CompletableFuture<MicroBatcher.Embedding> cached2 = batcher.embed("x", "2");
        CompletableFuture<MicroBatcher.Embedding> cached3 = batcher.embed("x", "3");
        assertThat(cached2).isCompleted();
        assertThat(cached3).isCompleted();
        assertThat(vector(cached2)).isEqualTo(201f);
        assertThat(vector(cached3)).isEqualTo(301f);
        assertThat(listener.hits.get()).isEqualTo(2);
        assertThat(listener.misses.get()).isEqualTo(5);
        assertThat(client.requests).hasSize(2);
    }

    @Test
    void aBlankVersionIsAKeyOfItsOwn() throws Exception {
        batcher(1, Duration.ofHours(1), 4, 5);
        CompletableFuture<MicroBatcher.Embedding> plain = batcher.embed("x");
        assertThat(version(plain)).isEqualTo("7"); // the server's default

        assertThat(batcher.embed("x", "")).isCompleted();
        assertThat(batcher.embed("x", null)).isCompleted();
        assertThat(batcher.embed("x", " ")).isCompleted();
        assertThat(listener.hits.get()).isEqualTo(3);
        // Pinning the version the server chose for the blank request is another key: not from the cache.
        CompletableFuture<MicroBatcher.Embedding> pinned = batcher.embed("x", "7");
        assertThat(vector(pinned)).isEqualTo(701f);
        assertThat(client.versions).containsExactly("", "7");
    }

    @Test
    void eachVersionsPartialBatchLeavesAfterTheDelay() throws Exception {
        batcher(100, Duration.ofMillis(200), 4, 5);
        CompletableFuture<MicroBatcher.Embedding> a2 = batcher.embed("a", "2");
        CompletableFuture<MicroBatcher.Embedding> b3 = batcher.embed("bb", "3");
        CompletableFuture<MicroBatcher.Embedding> c = batcher.embed("ccc");
        CompletableFuture<MicroBatcher.Embedding> d2 = batcher.embed("dddd", "2");

        assertThat(vector(a2)).isEqualTo(201f);
        assertThat(vector(b3)).isEqualTo(302f);
        assertThat(vector(c)).isEqualTo(3f);
        assertThat(vector(d2)).isEqualTo(204f);
        assertThat(client.requests).containsExactlyInAnyOrder(List.of("a", "dddd"), List.of("bb"), List.of("ccc"));
        assertThat(client.versions).containsExactlyInAnyOrder("2", "3", "");
    }

    @Test
    void aRetryAsksForTheSameVersion() throws Exception {
        batcher(1, Duration.ofHours(1), 4, 100);
        client.failuresLeft.set(2);

        assertThat(vector(batcher.embed("a", "5"))).isEqualTo(501f);
        assertThat(client.versions).containsExactly("5", "5", "5");
        assertThat(listener.retries.get()).isEqualTo(2);
    }

    @Test
    void closingFailsTheWaitingTextsOfEveryVersion() throws Exception {
        batcher(100, Duration.ofHours(1), 4, 5);
        CompletableFuture<MicroBatcher.Embedding> a2 = batcher.embed("a", "2");
        CompletableFuture<MicroBatcher.Embedding> b = batcher.embed("b");

        batcher.close();

        assertThat(a2).isCompletedExceptionally();
        assertThat(b).isCompletedExceptionally();
        assertThat(client.requests).isEmpty();
    }
}
