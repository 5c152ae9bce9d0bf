package dev.interestgraph.inference;

import dev.interestgraph.inference.v2.InferBatchStatistics;
import dev.interestgraph.inference.v2.InferStatistics;
import dev.interestgraph.inference.v2.ModelStatistics;
import dev.interestgraph.inference.v2.StatisticDuration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per-version counters of {@link EmbeddedInferenceServer}, reported as Triton's {@code
 * ModelStatistics}: a request is one execution (this server does not merge requests), its texts
 * are the inference count; success and failure times are the worker's wall time of the request;
 * {@code compute_infer} is the same time for successes (tokenizer and model run as one step here),
 * also by batch size (texts per request).
 */
final class InferenceStatistics {
    private final Map<Integer, Version> versions = new ConcurrentHashMap<>();

    private static final class Duration {
        final LongAdder count = new LongAdder();
        final LongAdder ns = new LongAdder();

        void add(long nanos) {
            count.increment();
            ns.add(nanos);
        }

        StatisticDuration proto() {
            return StatisticDuration.newBuilder().setCount(count.sum()).setNs(ns.sum()).build();
        }
    }

    private static final class Version {
        final LongAdder inferences = new LongAdder();
        final LongAdder executions = new LongAdder();
        final AtomicLong lastInferenceMs = new AtomicLong();
        final Duration success = new Duration();
        final Duration fail = new Duration();
        final Map<Long, Duration> byBatchSize = new ConcurrentHashMap<>();
    }

    private Version version(int version) {
        return versions.computeIfAbsent(version, v -> new Version());
    }

    void succeeded(int version, int texts, long nanos) {
        Version v = version(version);
        v.inferences.add(texts);
        v.executions.increment();
        v.success.add(nanos);
        v.byBatchSize.computeIfAbsent((long) texts, b -> new Duration()).add(nanos);
        v.lastInferenceMs.accumulateAndGet(System.currentTimeMillis(), Math::max);
    }

    void failed(int version, long nanos) {
        Version v = version(version);
        v.fail.add(nanos);
        v.lastInferenceMs.accumulateAndGet(System.currentTimeMillis(), Math::max);
    }

    /** The statistics of one version (zeros for a version that has served nothing yet). */
    ModelStatistics of(String model, int version) {
        Version v = versions.getOrDefault(version, new Version());
        StatisticDuration none = StatisticDuration.getDefaultInstance();
        StatisticDuration success = v.success.proto();
        ModelStatistics.Builder out = ModelStatistics.newBuilder()
                .setName(model)
                .setVersion(Integer.toString(version))
                .setLastInference(v.lastInferenceMs.get())
                .setInferenceCount(v.inferences.sum())
                .setExecutionCount(v.executions.sum())
                .setInferenceStats(InferStatistics.newBuilder()
                        .setSuccess(success).setFail(v.fail.proto()).setQueue(none)
                        .setComputeInput(none).setComputeInfer(success).setComputeOutput(none)
                        .setCacheHit(none).setCacheMiss(none));
        for (Map.Entry<Long, Duration> entry : new TreeMap<>(v.byBatchSize).entrySet()) {
            out.addBatchStats(InferBatchStatistics.newBuilder().setBatchSize(entry.getKey())
                    .setComputeInput(none).setComputeInfer(entry.getValue().proto()).setComputeOutput(none));
        }
        return out.build();
    }
}
