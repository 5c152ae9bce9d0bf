package dev.interestgraph.training;

import dev.interestgraph.inference.InferenceException;
import dev.interestgraph.inference.TritonClientConfig;
import java.time.Duration;
import java.util.Collections;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends each {@link TrainingBatch} to the tuner as one training step ({@link TunerClient}).
 *
 * <p>Training is a side branch of the job: a tuner outage must not fail it. A failure the client
 * calls retryable (unreachable, deadline, overloaded) is retried with exponential backoff until it
 * gets through; the retry carries the same batch id, so a step whose answer was lost is not
 * trained twice. A batch the tuner refuses (not retryable: it would be refused again) is logged and
 * skipped. Logs name batch ids, sizes, steps and losses, never texts or users.
 *
 * <p>Metrics: {@code trainingSteps} (applied), {@code trainingStepsSkipped} (the tuner had applied
 * the batch id already: a replay), {@code trainingBatchesFailed} (refused), {@code
 * trainingRetries}, gauges {@code tunerLoss} (of the last answer) and {@code tunerModelVersion}
 * (the latest item_encoder version the tuner reports, 0 before the first answer).
 */
public class AsyncTrainFunction extends RichAsyncFunction<TrainingBatch, TrainingResult> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(AsyncTrainFunction.class);

    private final TritonClientConfig tunerConfig;
    private final Duration initialBackoff;
    private final Duration maxBackoff;

    private transient TunerClient client;
    private transient ScheduledExecutorService retryTimer;
    private transient Counter steps;
    private transient Counter skipped;
    private transient Counter failed;
    private transient Counter retries;
    private transient volatile float lastLoss;
    private transient volatile long modelVersion;

    public AsyncTrainFunction(TritonClientConfig tunerConfig, Duration initialBackoff, Duration maxBackoff) {
        this.tunerConfig = tunerConfig;
        this.initialBackoff = initialBackoff;
        this.maxBackoff = maxBackoff;
    }

    @Override
    public void open(Configuration parameters) {
        client = new TunerClient(tunerConfig);
        try {
            client.checkReady();
        } catch (InferenceException e) {
            if (!e.retryable()) {
                client.close();
                throw e; // a wrong endpoint or model: fail the start with the client's message
            }
            LOG.warn("the tuner is not reachable yet, training steps will be retried: {}", e.getMessage());
        }
        retryTimer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "train-retry");
            thread.setDaemon(true);
            return thread;
        });
        lastLoss = Float.NaN;
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        steps = metrics.counter("trainingSteps");
        skipped = metrics.counter("trainingStepsSkipped");
        failed = metrics.counter("trainingBatchesFailed");
        retries = metrics.counter("trainingRetries");
        metrics.gauge("tunerLoss", (Gauge<Float>) () -> lastLoss);
        metrics.gauge("tunerModelVersion", (Gauge<Long>) () -> modelVersion);
    }

    @Override
    public void asyncInvoke(TrainingBatch batch, ResultFuture<TrainingResult> resultFuture) {
        send(batch, resultFuture, 0);
    }

    private void send(TrainingBatch batch, ResultFuture<TrainingResult> resultFuture, int attempt) {
        java.util.concurrent.CompletableFuture<TrainingResult> call;
        try {
            call = client.train(batch);
        } catch (RuntimeException e) { // on the retry thread nobody else would see it
            call = java.util.concurrent.CompletableFuture.failedFuture(e);
        }
        call.whenComplete((result, error) -> {
            if (error == null) {
                record(result);
                resultFuture.complete(Collections.singleton(result));
                return;
            }
            Throwable cause = error instanceof CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            boolean retryable = !(cause instanceof InferenceException) || ((InferenceException) cause).retryable();
            if (!retryable) {
                failed.inc();
                LOG.error("the tuner refused training batch {} ({} examples), skipped: {}", batch.batchId,
                        batch.examples.size(), cause.getMessage());
                resultFuture.complete(Collections.emptyList());
                return;
            }
            retries.inc();
            long backoff = backoffMillis(attempt);
            if (attempt == 0 || Long.bitCount(attempt) == 1) { // 1st, 2nd, 4th, 8th...: not a line per retry
                LOG.warn("training batch {} failed (attempt {}), retrying in {} ms: {}", batch.batchId,
                        attempt + 1, backoff, cause.getMessage());
            }
            retryTimer.schedule(() -> send(batch, resultFuture, attempt + 1), backoff, TimeUnit.MILLISECONDS);
        });
    }

    private void record(TrainingResult result) {
        (result.applied ? steps : skipped).inc();
        lastLoss = result.loss;
        try {
            modelVersion = Long.parseLong(result.modelVersion);
        } catch (NumberFormatException e) {
            LOG.warn("the tuner reported model version '{}', not a number", result.modelVersion);
        }
        LOG.debug("training batch {}: step {}{}, loss {}, item_encoder version {}", result.batchId, result.step,
                result.applied ? "" : " (already applied)", result.loss, result.modelVersion);
    }

    long backoffMillis(int attempt) {
        long initial = Math.max(1, initialBackoff.toMillis());
        long doubled = attempt >= 30 ? Long.MAX_VALUE : initial << attempt;
        return Math.min(Math.max(initial, doubled), maxBackoff.toMillis());
    }

    @Override
    public void close() {
        if (retryTimer != null) {
            retryTimer.shutdownNow();
        }
        if (client != null) {
            client.close();
        }
    }
}
