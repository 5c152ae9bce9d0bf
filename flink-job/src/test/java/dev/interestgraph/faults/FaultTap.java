package dev.interestgraph.faults;

import dev.interestgraph.delta.DeltaRecord;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * TEST ONLY: an operator hung on the job's delta stream (behind {@code user-graph}, next to the
 * Kafka sink, in the same pipelined region) that observes the run and injects task failures.
 *
 * <p>It needs no hook in production code: {@code InterestGraphPipeline.Outputs.deltas} is the tap
 * point. A failure thrown here fails the region, so every operator of the job — sources,
 * embedding, temporal join, user-graph, the exactly-once sinks — restarts from the last completed
 * checkpoint, exactly as after a failure in any of the job's own operators.
 *
 * <p>The MiniCluster runs in the test's JVM, so the probe that the test reads is a static map
 * keyed by run name (operator instances are deserialised copies).
 */
final class FaultTap extends AbstractStreamOperator<Void>
        implements OneInputStreamOperator<DeltaRecord, Void> {
    private static final long serialVersionUID = 1L;
    private static final Map<String, Probe> PROBES = new ConcurrentHashMap<>();

    /** What one run's taps saw; read by the test thread. */
    static final class Probe {
        /** Deltas that passed the tap, over all attempts (replays after a restore count again). */
        final AtomicLong deltasSeen = new AtomicLong();
        /** Deltas until the next injected failure; 0 means none is armed. */
        final AtomicInteger armed = new AtomicInteger();
        final AtomicInteger failuresInjected = new AtomicInteger();
        /** Subtask instances that started from a checkpoint or savepoint, and which. */
        final List<Long> restoredFrom = new CopyOnWriteArrayList<>();
        final AtomicLong checkpointsCompleted = new AtomicLong();
        /** Subtask index → the watermark it has seen in the current attempt. */
        final Map<Integer, Long> watermarks = new ConcurrentHashMap<>();

        /** Until this wall-clock time (ms), every checkpoint stalls in this tap's snapshot. */
        volatile long stallUntilMs;
        /** Snapshots that stalled. */
        final AtomicInteger stalledSnapshots = new AtomicInteger();

        /**
         * Every snapshot fails (the checkpoint fails, and with it the job) until
         * {@link #restores()} reaches this: no checkpoint completes in between, so each of these
         * failovers restores from the same checkpoint.
         */
        volatile int failSnapshotsUntilRestores;
        /** Snapshots failed on purpose. */
        final AtomicInteger failedSnapshots = new AtomicInteger();

        /** Arms one failure, thrown when the {@code afterDeltas}-th delta from now arrives. */
        void armFailure(int afterDeltas) {
            if (afterDeltas < 1 || !armed.compareAndSet(0, afterDeltas)) {
                throw new IllegalStateException("a failure is already armed");
            }
        }

        /** Whether every one of {@code parallelism} subtasks has seen at least this watermark. */
        boolean watermarkReached(long watermark, int parallelism) {
            if (watermarks.size() < parallelism) {
                return false;
            }
            return watermarks.values().stream().allMatch(w -> w >= watermark);
        }

        int restores() {
            return restoredFrom.size();
        }
    }

    static Probe probe(String run) {
        return PROBES.computeIfAbsent(run, r -> new Probe());
    }

    /**
     * A fresh probe for a new run of this name. Test classes share the JVM (and this map) and
     * reuse run names such as "failure-free-" on brokers of their own: a probe left over from
     * another class's run made the three-node reference run wait for 720 deltas when 240 were
     * its own.
     */
    static Probe newProbe(String run) {
        Probe probe = new Probe();
        PROBES.put(run, probe);
        return probe;
    }

    /** Thrown by the tap: recognisable in logs and in the job's exception history. */
    static final class InjectedFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InjectedFailure(String message) {
            super(message);
        }
    }

    private final String run;

    FaultTap(String run) {
        this.run = run;
        // chained to user-graph like the sink: a failure here is a failure of that task
        this.chainingStrategy = ChainingStrategy.ALWAYS;
    }

    private int subtask() {
        return getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        Probe probe = probe(run);
        if (context.isRestored()) {
            probe.restoredFrom.add(context.getRestoredCheckpointId().orElse(-1L));
        }
        probe.watermarks.put(subtask(), Long.MIN_VALUE); // a new attempt starts from scratch
    }

    @Override
    public void processElement(StreamRecord<DeltaRecord> element) {
        Probe probe = probe(run);
        probe.deltasSeen.incrementAndGet();
        // exactly one subtask sees the armed counter go from 1 to 0
        if (probe.armed.getAndUpdate(left -> left > 0 ? left - 1 : 0) == 1) {
            int n = probe.failuresInjected.incrementAndGet();
            throw new InjectedFailure("injected task failure #" + n + " of run " + run);
        }
    }

    /**
     * A checkpoint that stalls: the snapshot of this subtask (chained to the user-graph and the
     * sink, whose transaction is open meanwhile) does not finish before the probe's deadline.
     * Cancelling the task (a failover) interrupts the wait.
     */
    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        Probe probe = probe(run);
        if (probe.restores() < probe.failSnapshotsUntilRestores) {
            int n = probe.failedSnapshots.incrementAndGet();
            throw new InjectedFailure("injected snapshot failure #" + n + " (checkpoint "
                    + context.getCheckpointId() + ") of run " + run);
        }
        long wait = probe.stallUntilMs - System.currentTimeMillis();
        if (wait > 0) {
            probe.stalledSnapshots.incrementAndGet();
            Thread.sleep(wait); // the injected stall itself
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        super.processWatermark(mark);
        probe(run).watermarks.put(subtask(), mark.getTimestamp());
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        probe(run).checkpointsCompleted.incrementAndGet();
    }
}
