package dev.interestgraph.embed;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Turns single-text requests into micro-batches for an {@link EmbeddingClient}: a batch leaves
 * when it holds {@code maxBatchSize} distinct texts or its first text has waited {@code maxDelay}.
 * Identical texts within a batch are embedded once, and a bounded LRU cache answers recent texts
 * without a request at all.
 *
 * <p>Each request names a model version (blank: the server's default). Every version has its own
 * pending batch, so a batch, and the one request it becomes, never mixes versions; deduplication
 * and the cache are per (version, text). A blank version is a key of its own: its answers are not
 * mistaken for those of the version the server happened to pick.
 *
 * <p>Failures never drop a text. A failed batch is retried with exponential backoff until it
 * succeeds; after {@code breakerFailureThreshold} consecutive failures the circuit breaker opens
 * and {@link #embed} blocks its caller (in Flink: backpressure) until a retry gets through. At most
 * {@code maxConcurrentRequests} batches are in flight; more block the caller too.
 *
 * <p>Thread-safe. The completion of a future runs on the client's threads: keep it short.
 */
public final class MicroBatcher implements AutoCloseable {

    /** Tuning of the batcher; validated by the job's options. */
    public static final class Settings implements Serializable {
        private static final long serialVersionUID = 1L;
        public int maxBatchSize = 32;
        public Duration maxDelay = Duration.ofMillis(20);
        public int maxConcurrentRequests = 4;
        public int cacheSize = 10_000;
        public Duration initialBackoff = Duration.ofMillis(100);
        public Duration maxBackoff = Duration.ofSeconds(5);
        public int breakerFailureThreshold = 5;
    }

    /** One text's vector and the model version that produced it. */
    public static final class Embedding {
        public final float[] vector;
        public final String modelVersion;

        Embedding(float[] vector, String modelVersion) {
            this.vector = vector;
            this.modelVersion = modelVersion;
        }
    }

    /** Hooks for metrics; all methods may be called from any thread. */
    public interface Listener {
        default void batchSent(int texts, long latencyNanos) {}

        default void retried() {}

        default void cacheHit() {}

        default void cacheMiss() {}

        default void breakerChanged(boolean open) {}
    }

    private final EmbeddingClient client;
    private final Settings settings;
    private final Listener listener;
    private final ScheduledExecutorService flushTimer;
    private final ScheduledExecutorService retryTimer;
    private final Semaphore requestPermits;
    private final Object lock = new Object();
    private final Map<Key, Embedding> cache;

    /** A text as embedded by one model version ("" for the server's default). */
    private record Key(String modelVersion, String text) {}

    /** The texts of one version waiting to be sent, and the timer that sends them. */
    private static final class Batch {
        final String modelVersion;
        final LinkedHashMap<String, List<CompletableFuture<Embedding>>> waiting = new LinkedHashMap<>();
        ScheduledFuture<?> scheduledFlush;

        Batch(String modelVersion) {
            this.modelVersion = modelVersion;
        }
    }

    // guarded by lock: the open batch of each version
    private final Map<String, Batch> pending = new HashMap<>();
    // guarded by breaker
    private final Object breaker = new Object();
    private int consecutiveFailures;
    private boolean breakerOpen;

    public MicroBatcher(EmbeddingClient client, Settings settings, Listener listener) {
        this.client = client;
        this.settings = settings;
        this.listener = listener;
        this.flushTimer = Executors.newSingleThreadScheduledExecutor(daemon("embed-flush"));
        this.retryTimer = Executors.newSingleThreadScheduledExecutor(daemon("embed-retry"));
        this.requestPermits = new Semaphore(settings.maxConcurrentRequests);
        this.cache = new LinkedHashMap<>(256, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Embedding> eldest) {
                return size() > settings.cacheSize;
            }
        };
    }

    /**
     * Asks for the text's embedding by the given model version; a blank (or null) version asks for
     * the server's default. Returns at once unless too many batches are in flight or the breaker
     * is open, in which case it blocks until that changes.
     */
    public CompletableFuture<Embedding> embed(String text, String modelVersion)
            throws InterruptedException {
        String version = modelVersion == null || modelVersion.isBlank() ? "" : modelVersion;
        Key key = new Key(version, text);
        synchronized (cache) {
            Embedding cached = cache.get(key);
            if (cached != null) {
                listener.cacheHit();
                return CompletableFuture.completedFuture(cached);
            }
        }
        listener.cacheMiss();
        CompletableFuture<Embedding> future = new CompletableFuture<>();
        Batch full = null;
        synchronized (lock) {
            Batch batch = pending.computeIfAbsent(version, Batch::new);
            batch.waiting.computeIfAbsent(text, t -> new ArrayList<>(1)).add(future);
            if (batch.waiting.size() >= settings.maxBatchSize) {
                full = take(batch);
            } else if (batch.scheduledFlush == null) {
                batch.scheduledFlush = flushTimer.schedule(() -> flushFromTimer(batch),
                        settings.maxDelay.toNanos(), TimeUnit.NANOSECONDS);
            }
        }
        if (full != null) {
            dispatch(full);
        }
        return future;
    }

    /** The embedding by the server's default version: {@code embed(text, "")}. */
    public CompletableFuture<Embedding> embed(String text) throws InterruptedException {
        return embed(text, "");
    }

    /** Closes the batch to new texts: the next text of its version opens a new one. */
    private Batch take(Batch batch) {
        pending.remove(batch.modelVersion);
        if (batch.scheduledFlush != null) {
            batch.scheduledFlush.cancel(false);
            batch.scheduledFlush = null;
        }
        return batch;
    }

    private void flushFromTimer(Batch batch) {
        synchronized (lock) {
            // Filled up and sent meanwhile (its timer could not be cancelled in time)?
            if (pending.get(batch.modelVersion) != batch) {
                return;
            }
            batch.scheduledFlush = null;
            take(batch);
        }
        try {
            dispatch(batch);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(batch.waiting, e);
        }
    }

    /** Waits for the breaker and a request permit, then sends. */
    private void dispatch(Batch batch) throws InterruptedException {
        synchronized (breaker) {
            while (breakerOpen) {
                breaker.wait();
            }
        }
        requestPermits.acquire();
        send(batch.modelVersion, new ArrayList<>(batch.waiting.keySet()), batch.waiting, 1);
    }

    private void send(String version, List<String> texts,
            Map<String, List<CompletableFuture<Embedding>>> waiting, int attempt) {
        long start = System.nanoTime();
        CompletableFuture<EmbeddingBatch> response;
        try {
            response = client.embed(texts, version);
        } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
        }
        response.whenComplete((result, error) -> {
            if (error == null && result.size() != texts.size()) {
                error = new IllegalStateException("the server answered " + result.size()
                        + " vectors for " + texts.size() + " texts");
            }
            if (error != null) {
                recordFailure();
                listener.retried();
                long backoff = backoffNanos(attempt);
                retryTimer.schedule(() -> send(version, texts, waiting, attempt + 1), backoff,
                        TimeUnit.NANOSECONDS);
                return; // keeps its permit: the retry is still this request
            }
            recordSuccess();
            requestPermits.release();
            listener.batchSent(texts.size(), System.nanoTime() - start);
            for (int i = 0; i < texts.size(); i++) {
                // The version the server reports; for a pinned request that is the pinned one.
                Embedding embedding =
                        new Embedding(result.vectors().get(i), result.modelVersion());
                synchronized (cache) {
                    cache.put(new Key(version, texts.get(i)), embedding);
                }
                for (CompletableFuture<Embedding> future : waiting.get(texts.get(i))) {
                    future.complete(embedding);
                }
            }
        });
    }

    private long backoffNanos(int attempt) {
        long initial = settings.initialBackoff.toNanos();
        long max = settings.maxBackoff.toNanos();
        double factor = Math.pow(2, Math.min(attempt - 1, 30));
        return (long) Math.min(max, initial * factor);
    }

    private void recordFailure() {
        synchronized (breaker) {
            consecutiveFailures++;
            if (!breakerOpen && consecutiveFailures >= settings.breakerFailureThreshold) {
                breakerOpen = true;
                listener.breakerChanged(true);
            }
        }
    }

    private void recordSuccess() {
        synchronized (breaker) {
            consecutiveFailures = 0;
            if (breakerOpen) {
                breakerOpen = false;
                listener.breakerChanged(false);
                breaker.notifyAll();
            }
        }
    }

    public boolean isBreakerOpen() {
        synchronized (breaker) {
            return breakerOpen;
        }
    }

    private static void fail(Map<String, List<CompletableFuture<Embedding>>> batch, Throwable e) {
        batch.values().forEach(futures -> futures.forEach(f -> f.completeExceptionally(e)));
    }

    /** Stops the timers; batches not yet answered fail (Flink replays them from its state). */
    @Override
    public void close() {
        flushTimer.shutdownNow();
        retryTimer.shutdownNow();
        synchronized (lock) {
            IllegalStateException closed = new IllegalStateException("the embedding batcher was closed");
            pending.values().forEach(batch -> fail(batch.waiting, closed));
            pending.clear();
        }
        synchronized (breaker) {
            breakerOpen = false;
            breaker.notifyAll();
        }
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger counter = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, name + "-" + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
