package dev.interestgraph.faults;

import static dev.interestgraph.faults.FaultTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.faults.FaultTestSupport.Replay;
import dev.interestgraph.faults.FaultTestSupport.Run;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.local.LocalKafkaCluster;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.startup.KafkaStartupChecks;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.executiongraph.ErrorInfo;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole job against a three-node Kafka cluster (KRaft, every topic and the internal
 * offsets and transaction-state topics replicated three times, {@code min.insync.replicas} 2),
 * compared with a failure-free run on the same cluster. What a read_committed consumer of the
 * delta topic gets is compared as opaque records: per key, the same bytes in the same order.
 *
 * <ul>
 *   <li>one broker (the leader of a delta partition) is stopped mid-run and stays down;
 *   <li>checkpoints stall for longer than the sinks' Kafka transaction timeout.
 * </ul>
 */
class KafkaClusterFaultsIT {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1)
                    .setNumberSlotsPerTaskManager(2)
                    .build());

    /** The sinks' transaction timeout in the stall test: the job's minimum. */
    private static final Duration TRANSACTION_TIMEOUT = Duration.ofSeconds(10);
    /** How long checkpoints stall: past the transaction timeout. */
    private static final Duration STALL = Duration.ofSeconds(12);

    private static LocalKafkaCluster kafka;
    private static Replay replay;
    private static Map<String, List<String>> reference;

    @BeforeAll
    static void start() {
        kafka = LocalKafkaCluster.start(3);
        // 12 users × 20 events over 10 days: 240 events
        replay = new Replay(SyntheticDataset.builder().users(12).itemsPerTopic(5)
                .eventsPerUser(20).spanMs(10 * FaultTestSupport.DAY).seed(20).build());
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static Run run(String prefix) {
        return new Run(kafka.bootstrapServers(), kafka::createTopic, prefix);
    }

    @Test
    void aBrokerStoppedMidRunLosesAndDuplicatesNothing() throws Exception {
        reference();
        Run run = run("broker-loss-");
        run.produceCatalogue(replay);
        JobClient job = run.start(2, null);
        LocalKafkaBroker stopped = null;
        try {
            List<List<UserAction>> slices = replay.slices(2);
            run.produceEvents(slices.get(0));
            await("first committed deltas", () -> run.committedCount() > 0);
            // the leader of a delta partition: its producers, and the consumers of the inputs
            // it leads, must move to the new leaders
            TopicPartitionInfo before = kafka.describe(run.prefix + "graph-deltas").get(0);
            int leader = before.leader().id();
            stopped = kafka.node(leader - 1);
            stopped.stop();
            run.produceEvents(slices.get(1));
            finish(run);
            TopicPartitionInfo after = kafka.describe(run.prefix + "graph-deltas").get(0);
            assertThat(after.leader().id()).as("a new leader").isNotEqualTo(leader);
            assertThat(after.isr()).as("in-sync replicas without the stopped broker")
                    .hasSize(2).noneMatch(node -> node.id() == leader);
            System.out.printf("broker loss: node %d stopped, %d job restarts%n", leader,
                    run.probe.restores() / 2);
        } finally {
            cancel(job);
            if (stopped != null) {
                stopped.restart(); // the next test has three nodes again
            }
        }
        assertThat(run.committedBytes()).isEqualTo(reference());
    }

    /**
     * Checkpoints stall (a snapshot that does not finish) for longer than the Kafka transaction
     * timeout. The start-up check keeps the checkpoint timeout below what a transaction can
     * outlive, so each stalled checkpoint expires first, the job fails over with a message that
     * says so, restores from the last completed checkpoint, and the output equals the
     * failure-free run: no transaction is committed after the broker aborted it.
     */
    @Test
    void checkpointsStallingPastTheTransactionTimeoutFailOverWithoutLoss(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        reference();
        Run run = run("stall-");
        run.config.set(InterestGraphOptions.KAFKA_TRANSACTION_TIMEOUT, TRANSACTION_TIMEOUT);
        run.runtimeOverrides.setString("execution.checkpointing.interval", "500 ms");
        run.runtimeOverrides.setString("execution.checkpointing.timeout", "3 s");
        // one failover: the restarted job comes up after the stall (repeated restores from one
        // checkpoint are ExactlyOnceUnderFaultsIT's own case)
        run.runtimeOverrides.setString("restart-strategy.fixed-delay.delay", "12 s");
        Configuration checked = new Configuration();
        checked.addAll(run.config);
        checked.addAll(run.runtimeOverrides);
        KafkaStartupChecks.checkCheckpointsEndBeforeTransactions(checked); // 0.5 + 2 × 3 < 10 s

        run.produceCatalogue(replay);
        JobClient job = run.start(2, null);
        try {
            List<List<UserAction>> slices = replay.slices(2);
            run.produceEvents(slices.get(0));
            await("first committed deltas", () -> run.committedCount() > 0);
            long stallEnds = System.currentTimeMillis() + STALL.toMillis();
            run.probe.stallUntilMs = stallEnds;
            // events arrive while the checkpoints stall: their deltas sit in open transactions
            run.produceEvents(slices.get(1));
            await("a stalled checkpoint", () -> run.probe.stalledSnapshots.get() > 0);
            await("a failover", () -> run.probe.restores() >= 2);
            await("the stall's end", () -> System.currentTimeMillis() > stallEnds);
            finish(run);
            ErrorInfo failure = cluster.getArchivedExecutionGraph(job.getJobID()).get()
                    .getFailureInfo();
            assertThat(failure).as("the job's last failure").isNotNull();
            assertThat(failure.getExceptionAsString())
                    .contains("Exceeded checkpoint tolerable failure threshold")
                    .contains("Checkpoint expired before completing");
            System.out.printf("checkpoint stall: %d stalled snapshots, %d job restarts%n",
                    run.probe.stalledSnapshots.get(), run.probe.restores() / 2);
        } finally {
            cancel(job);
        }
        assertThat(run.probe.restoredFrom).as("restored from completed checkpoints")
                .allSatisfy(id -> assertThat(id).isPositive());
        assertThat(run.committedBytes()).isEqualTo(reference());
    }

    // ------------------------------------------------------------------------------------------

    /** The failure-free run on the same cluster: the yardstick (once per class). */
    private static synchronized Map<String, List<String>> reference() throws Exception {
        if (reference == null) {
            Run run = run("failure-free-");
            run.produceCatalogue(replay);
            JobClient job = run.start(2, null);
            try {
                run.produceEvents(replay.data.events());
                run.finish(replay, 2, () -> run.committedCount() == run.probe.deltasSeen.get(),
                        () -> run.committedCount() + " of " + run.probe.deltasSeen.get());
            } finally {
                cancel(job);
            }
            assertThat(run.probe.restores()).isZero();
            Map<String, List<String>> committed = run.committedBytes();
            assertThat(committed).as("every user has deltas").hasSize(replay.data.users());
            reference = committed;
        }
        return reference;
    }

    private static void finish(Run run) throws Exception {
        Map<String, List<String>> expected = reference();
        run.finish(replay, 2, () -> run.committedBytes().equals(expected),
                () -> "(records per key " + sizes(run.committedBytes()) + ", expected "
                        + sizes(expected) + "; deltas seen " + run.probe.deltasSeen.get()
                        + ", checkpoints completed " + run.probe.checkpointsCompleted.get()
                        + ", restores " + run.probe.restoredFrom + ", watermarks "
                        + run.probe.watermarks + ", final " + replay.finalWatermark() + "; "
                        + transactions(run) + ")");
    }

    /** The delta partitions' open transactions, for diagnoses. */
    private static String transactions(Run run) {
        try (org.apache.kafka.clients.admin.Admin admin = kafka.newAdmin()) {
            List<org.apache.kafka.common.TopicPartition> partitions = List.of(
                    new org.apache.kafka.common.TopicPartition(run.prefix + "graph-deltas", 0),
                    new org.apache.kafka.common.TopicPartition(run.prefix + "graph-deltas", 1));
            StringBuilder text = new StringBuilder("producers ");
            admin.describeProducers(partitions).all().get(10, java.util.concurrent.TimeUnit.SECONDS)
                    .forEach((p, d) -> text.append(p).append(' ').append(d.activeProducers())
                            .append(' '));
            text.append("; end offsets (LSO / HW) ");
            for (String isolation : List.of("read_committed", "read_uncommitted")) {
                java.util.Properties props = new java.util.Properties();
                props.put("bootstrap.servers", kafka.bootstrapServers());
                props.put("isolation.level", isolation);
                try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(props,
                        new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                        new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
                    text.append(isolation).append(' ').append(consumer.endOffsets(partitions))
                            .append(' ');
                }
            }
            text.append("; transactions ");
            admin.listTransactions().all().get(10, java.util.concurrent.TimeUnit.SECONDS)
                    .stream().filter(t -> t.transactionalId().startsWith(run.prefix)
                            && t.state() != org.apache.kafka.clients.admin.TransactionState.EMPTY)
                    .forEach(t -> text.append(t.transactionalId()).append('=')
                            .append(t.state()).append(' '));
            return text.toString();
        } catch (Exception e) {
            return e.toString();
        }
    }

    private static Map<String, Integer> sizes(Map<String, List<String>> byKey) {
        return byKey.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                e -> e.getValue().size(), (a, b) -> a, java.util.TreeMap::new));
    }

    private static void cancel(JobClient job) throws Exception {
        if (!job.getJobStatus().get().isGloballyTerminalState()) {
            job.cancel().get();
        }
        await("job " + job.getJobID() + " terminated",
                () -> job.getJobStatus().join().isGloballyTerminalState());
    }
}
