package dev.interestgraph.faults;

import static dev.interestgraph.faults.FaultTestSupport.assertContiguous;
import static dev.interestgraph.faults.FaultTestSupport.await;
import static dev.interestgraph.faults.FaultTestSupport.graphs;
import static dev.interestgraph.faults.FaultTestSupport.materialize;
import static dev.interestgraph.faults.FaultTestSupport.sizes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.faults.FaultTestSupport.Replay;
import dev.interestgraph.faults.FaultTestSupport.Run;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v1.GraphDelta;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once under faults: the whole job (Kafka sources, embedding, temporal join, user-graph,
 * exactly-once Kafka sinks; RocksDB with incremental checkpoints every 200 ms, fixed-delay
 * restarts) replays the same generated dataset while a fault is injected. What a downstream
 * consumer reads from the delta topic with read_committed must be, per user, exactly the deltas of
 * a failure-free run — the same deltas, bit for bit, in the same order, with (epoch, seq)
 * contiguous from 1 — and so the materialised graphs are identical too.
 *
 * <p>The cluster has two task managers of one slot each, so a parallelism-2 job has a task on
 * each and killing one takes half the job down.
 */
class ExactlyOnceUnderFaultsIT {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(2)
                    .setNumberSlotsPerTaskManager(1)
                    .setConfiguration(clusterConfig())
                    .build());

    /** Task failures injected into one run. */
    private static final int FAILURES = 3;
    /** How long the Kafka broker stays down. */
    private static final Duration OUTAGE = Duration.ofSeconds(3);
    /** Reproducible randomness: pass -Dfaults.seed=… to replay a failed run's choices. */
    private static final long SEED = Long.getLong("faults.seed", System.currentTimeMillis());

    private static LocalKafkaBroker kafka;
    private static Replay replay;
    /** The failure-free run's committed deltas, per user; computed once, lazily. */
    private static Map<String, List<GraphDelta>> reference;

    @TempDir
    static Path savepoints;

    private static Configuration clusterConfig() {
        Configuration config = new Configuration();
        // a killed task manager is noticed through its closed connections; the heartbeat is the
        // backstop, shortened so that the test never waits the default 50 s for it
        config.setString("heartbeat.interval", "500 ms");
        config.setString("heartbeat.timeout", "5 s");
        return config;
    }

    @BeforeAll
    static void start() {
        kafka = LocalKafkaBroker.start();
        // 16 users × 30 events over 20 days: ~480 events, several hundred deltas, sweeps included
        replay = new Replay(SyntheticDataset.builder().users(16).itemsPerTopic(6)
                .eventsPerUser(30).spanMs(20 * FaultTestSupport.DAY).seed(6).build());
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void injectedTaskFailuresRestoreFromCheckpointsWithoutLossOrDuplicates() throws Exception {
        Random random = new Random(SEED);
        reference(); // first: the yardstick needs the cluster's two slots to itself
        Run run = new Run(kafka, "task-failures-");
        run.produceCatalogue(replay);
        JobClient job = run.start(2, null);
        try {
            List<List<UserAction>> slices = replay.slices(FAILURES + 1);
            for (int i = 0; i < FAILURES; i++) {
                // the (restarted) job is up and has completed a checkpoint: the next failure
                // restores from a checkpoint that holds part of the replay, not from scratch
                long checkpoints = run.probe.checkpointsCompleted.get();
                await("a checkpoint before failure " + (i + 1),
                        () -> run.probe.checkpointsCompleted.get() > checkpoints);
                // at a random delta of this slice's processing
                run.probe.armFailure(1 + random.nextInt(40));
                run.produceEvents(slices.get(i));
                int injected = i + 1;
                await("injected failure " + injected,
                        () -> run.probe.failuresInjected.get() == injected);
                await("restart after failure " + injected,
                        () -> run.probe.restores() >= 2 * injected);
            }
            run.produceEvents(slices.get(FAILURES));
            finish(run, job, 2);
        } finally {
            cancel(job);
        }
        assertSameAsFailureFree(run);
        assertThat(run.probe.failuresInjected.get()).isEqualTo(FAILURES);
        // every restart restored both subtasks from a completed checkpoint (ids start at 1)
        assertThat(run.probe.restoredFrom).as("seed %d", SEED).hasSize(2 * FAILURES)
                .allSatisfy(id -> assertThat(id).isPositive());
    }

    /**
     * Two failovers in a row that both restore from the same checkpoint: the restored job fails
     * again before it completes a checkpoint of its own. The Kafka sink then starts, aborts and
     * reuses the same transactional ids (prefix-subtask-(checkpoint + 1)) twice, with new producer
     * epochs, while the replayed deltas sit in them. Nothing may be lost or duplicated.
     */
    @Test
    void twoRestoresFromTheSameCheckpointLoseAndDuplicateNothing() throws Exception {
        reference();
        Run run = new Run(kafka, "same-checkpoint-");
        run.produceCatalogue(replay);
        JobClient job = run.start(2, null);
        try {
            List<List<UserAction>> slices = replay.slices(2);
            run.produceEvents(slices.get(0));
            await("first committed deltas", () -> run.committedCount() > 0);
            // from now on every checkpoint fails until both subtasks have restored twice; the
            // second slice is read, written into transactions and replayed after each restore
            run.probe.failSnapshotsUntilRestores = 2 * 2;
            run.produceEvents(slices.get(1));
            await("two failovers", () -> run.probe.restores() >= 2 * 2);
            finish(run, job, 2);
        } finally {
            cancel(job);
        }
        assertSameAsFailureFree(run);
        assertThat(run.probe.failedSnapshots.get()).as("failed snapshots").isPositive();
        assertThat(run.probe.restoredFrom).as("both restores from one completed checkpoint")
                .hasSize(2 * 2).containsOnly(run.probe.restoredFrom.get(0))
                .allSatisfy(id -> assertThat(id).isPositive());
    }

    @Test
    void aKilledTaskManagerIsReplacedAndTheJobRestoresWithoutLossOrDuplicates(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        Random random = new Random(SEED + 1);
        reference();
        Run run = new Run(kafka, "tm-kill-");
        run.produceCatalogue(replay);
        JobClient job = run.start(2, null);
        try {
            List<List<UserAction>> slices = replay.slices(2);
            await("a first checkpoint", () -> run.probe.checkpointsCompleted.get() > 0);
            run.produceEvents(slices.get(0));
            long target = 1 + random.nextInt(60);
            await("deltas before the kill", () -> run.probe.deltasSeen.get() >= target);
            // one of the two slots goes, with the tasks in it; a fresh task manager replaces it
            cluster.terminateTaskManager(0).get();
            cluster.startTaskManager();
            await("restart on the new task manager", () -> run.probe.restores() >= 2);
            run.produceEvents(slices.get(1));
            finish(run, job, 2);
        } finally {
            cancel(job);
        }
        assertSameAsFailureFree(run);
        assertThat(run.probe.restoredFrom).allSatisfy(id -> assertThat(id).isPositive());
    }

    @Test
    void aKafkaBrokerRestartMidRunLosesAndDuplicatesNothing() throws Exception {
        reference();
        Run run = new Run(kafka, "broker-restart-");
        run.produceCatalogue(replay);
        JobClient job = run.start(2, null);
        try {
            List<List<UserAction>> slices = replay.slices(2);
            run.produceEvents(slices.get(0));
            // mid-run: part of the output committed, sources and sinks connected
            await("first committed deltas", () -> run.committedCount() > 0);
            kafka.stop();
            // The outage itself: the broker stays down for this long while the job's consumers,
            // producers and checkpoints (200 ms interval) run into it. This is the fault's
            // duration, not a synchronisation.
            Thread.sleep(OUTAGE.toMillis());
            kafka.restart();
            run.produceEvents(slices.get(1));
            finish(run, job, 2);
        } finally {
            cancel(job);
        }
        assertSameAsFailureFree(run);
        System.out.printf("broker restart: %d job restarts, broker back in %d ms%n",
                run.probe.restores() / 2, kafka.lastStartMillis());
    }

    @Test
    void stopWithSavepointAndRescaleGivesTheSameFinalGraph() throws Exception {
        Random random = new Random(SEED + 2);
        reference();
        Run run = new Run(kafka, "rescale-");
        run.produceCatalogue(replay);
        int[] parallelism = {2, 1, 2}; // scale in, then out again
        List<List<UserAction>> slices = replay.slices(parallelism.length);
        String savepoint = null;
        for (int i = 0; i < parallelism.length; i++) {
            JobClient job = run.start(parallelism[i], savepoint);
            try {
                long seen = run.probe.deltasSeen.get();
                run.produceEvents(slices.get(i));
                if (i < parallelism.length - 1) {
                    long target = seen + 1 + random.nextInt(40);
                    await("deltas of slice " + i, () -> run.probe.deltasSeen.get() >= target);
                    // no drain: a drained stop would end event time (+∞) and flush everything
                    savepoint = job.stopWithSavepoint(false,
                            savepoints.resolve("sp-" + i).toUri().toString(),
                            SavepointFormatType.CANONICAL).get();
                    assertThat(job.getJobStatus().get().isGloballyTerminalState()).isTrue();
                } else {
                    finish(run, job, parallelism[i]);
                }
            } finally {
                cancel(job);
            }
        }
        assertSameAsFailureFree(run);
        assertThat(run.probe.restores()).as("subtasks restored from savepoints").isEqualTo(1 + 2);
    }

    // ------------------------------------------------------------------------------------------

    /** The failure-free run, the yardstick of every faulty one (once per class). */
    private static synchronized Map<String, List<GraphDelta>> reference() throws Exception {
        if (reference == null) {
            Run run = new Run(kafka, "failure-free-");
            run.produceCatalogue(replay);
            JobClient job = run.start(2, null);
            try {
                run.produceEvents(replay.data.events());
                // no restart: the tap saw every delta once, and all of them must be committed
                run.finish(replay, 2, () -> run.committedCount() == run.probe.deltasSeen.get(),
                        () -> run.committedCount() + " of " + run.probe.deltasSeen.get());
            } finally {
                cancel(job);
            }
            assertThat(run.probe.restores()).isZero();
            Map<String, List<GraphDelta>> committed = run.committed();
            assertContiguous(committed);
            assertThat(committed).as("every user has deltas").hasSize(replay.data.users());
            reference = committed;
        }
        return reference;
    }

    /** The rest of the replay: the sentinels, then wait until the output is complete. */
    private static void finish(Run run, JobClient job, int parallelism) throws Exception {
        Map<String, List<GraphDelta>> expected = reference();
        run.finish(replay, parallelism, () -> run.committed().equals(expected),
                () -> "(seed " + SEED + "; deltas per user " + sizes(run.committed())
                        + ", expected " + sizes(expected) + ")");
    }

    private static void assertSameAsFailureFree(Run run) throws Exception {
        // read again after the job is gone: nothing committed late, no duplicate appeared
        Map<String, List<GraphDelta>> committed = run.committed();
        assertContiguous(committed);
        assertThat(committed).as("seed %d", SEED).isEqualTo(reference());
        assertThat(graphs(materialize(committed))).isEqualTo(graphs(materialize(reference())));
    }

    private static void cancel(JobClient job) throws Exception {
        if (!job.getJobStatus().get().isGloballyTerminalState()) {
            job.cancel().get();
        }
        await("job " + job.getJobID() + " terminated",
                () -> job.getJobStatus().join().isGloballyTerminalState());
    }
}
