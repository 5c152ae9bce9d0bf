package dev.interestgraph.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The demo's main path, headless, as CI runs it: a small generated replay with a bound on the
 * events, the in-process broker, the embedded model, the job on a local cluster with the
 * dashboard on a free port, the drain and the summary.
 */
class LocalDemoTest {

    @Test
    void headlessDemoEndsWithASummaryThatMatchesTheJob() throws Exception {
        DemoOptions options = DemoOptions.fromArgs("--demo.headless", "--demo.users", "30",
                "--demo.events-per-user", "20", "--demo.max-events", "450", "--demo.port", "0",
                "--demo.kafka-port", "0", "--demo.timeout", "150 s");
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);

        DemoResult result = new DemoRunner(options, out).run();
        String printed = buffer.toString(StandardCharsets.UTF_8);
        System.out.print(printed); // the demo output, for the test report

        // 450 / 30 users = 15 events each
        assertThat(result.eventsReplayed()).isEqualTo(450);
        assertThat(result.eventsProcessed()).isEqualTo(450);
        assertThat(result.stoppedEarly()).isFalse();
        assertThat(result.users()).isEqualTo(30);
        assertThat(result.edges()).isPositive();
        // every delta the job emitted was consumed, and the consumer's graphs are the job's
        assertThat(result.deltasEmittedByJob()).isPositive();
        assertThat(result.deltasApplied()).isEqualTo(result.deltasEmittedByJob());
        assertThat(result.deltasConsumed()).isEqualTo(result.deltasEmittedByJob());
        assertThat(result.graphsEqualJob()).isTrue();
        // every user's events were flushed: each graph accounts for the user's last event
        assertThat(result.usersBehindTheirLastEvent()).isZero();
        assertThat(result.deadLetters()).isZero();
        // the dashboard answered while the job ran and showed the pipeline
        assertThat(result.dashboardOverviewAnswered()).isTrue();
        assertThat(result.dashboardListedJob()).isTrue();
        assertThat(result.dashboardJobName()).isEqualTo("interest-graph demo");
        assertThat(String.join(" | ", result.dashboardVertices())).contains(
                "user-events source", "parse + validate user events", "embed event text",
                "item-catalog source", "embed items", "item-enrich (temporal join)",
                "user-graph", "graph-deltas sink", "dead-letters sink");
        assertThat(printed).contains("Flink dashboard: http://localhost:", "Topics at 127.0.0.1:",
                "Summary (materialised from the delta topic", "equal to the job's output: yes",
                "(planted: ", "strongest items: ");
    }

    @Test
    void pacedReplayWhileTheJobRunsEndsWithADrainThatFlushesEverything() throws Exception {
        // 60 days of event time at 1.5 million times real time: about 3.5 s of replay. A short
        // idleness, so that the events' partitions are idle when the demo drains the job (it
        // waits for a checkpoint past the last event first), as on a loaded machine with the
        // default: the catalogue's heartbeats must carry the drain's final watermark.
        DemoOptions options = DemoOptions.fromArgs("--demo.headless", "--demo.users", "20",
                "--demo.events-per-user", "10", "--demo.speed", "1500000", "--demo.port", "0",
                "--demo.kafka-port", "0", "--demo.sample-users", "1", "--demo.timeout", "150 s",
                "--watermark.idleness", "3 s");
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        DemoResult result = new DemoRunner(options,
                new PrintStream(buffer, true, StandardCharsets.UTF_8)).run();
        System.out.print(buffer.toString(StandardCharsets.UTF_8));

        assertThat(result.eventsReplayed()).isEqualTo(200);
        assertThat(result.eventsProcessed()).isEqualTo(200);
        assertThat(result.users()).isEqualTo(20);
        assertThat(result.deltasConsumed()).isEqualTo(result.deltasEmittedByJob()).isPositive();
        assertThat(result.graphsEqualJob()).isTrue();
        assertThat(result.usersBehindTheirLastEvent()).isZero();
        assertThat(buffer.toString(StandardCharsets.UTF_8)).contains("draining the job");
    }

    /**
     * make demo ARGS="--fine-tune" in small: the real tuner (PyTriton, from triton-models/.venv;
     * the test fails without it) trains on the job's examples, publishes item_encoder versions that
     * the embedded server serves, announces them ahead of the job's event time, and the job
     * switches users to them; every delta committed, the graphs equal to the job's output.
     */
    @Test
    void theFineTuningLoopRunsEndToEnd() throws Exception {
        DemoOptions options = DemoOptions.fromArgs("--demo.headless", "--fine-tune",
                "--demo.users", "40", "--demo.events-per-user", "40", "--demo.fine-tune-steps",
                "4", "--demo.port", "0", "--demo.kafka-port", "0", "--demo.sample-users", "1",
                "--demo.timeout", "8 min");
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        DemoResult result = new DemoRunner(options,
                new PrintStream(buffer, true, StandardCharsets.UTF_8)).run();
        System.out.print(buffer.toString(StandardCharsets.UTF_8));

        assertThat(result.eventsProcessed()).isEqualTo(1_600);
        assertThat(result.users()).isEqualTo(40);
        assertThat(result.deltasConsumed()).isEqualTo(result.deltasEmittedByJob()).isPositive();
        assertThat(result.graphsEqualJob()).isTrue();
        assertThat(result.usersBehindTheirLastEvent()).isZero();
        assertThat(result.versionsAnnounced()).hasSizeGreaterThanOrEqualTo(2)
                .first().asString().startsWith("2 (step 4)");
        // users moved on from the frozen encoder (version 1) to published versions
        assertThat(result.profilesByVersion().keySet()).isNotEmpty().doesNotContain("1");
        assertThat(result.dashboardVertices()).anyMatch(v -> v.contains("pin model version"))
                .anyMatch(v -> v.contains("train item_encoder"));
    }

    @Test
    void pacingShortensLongGaps() {
        Replayer replayer = new Replayer(null, "items", "events", 1000,
                java.time.Duration.ofSeconds(2));
        assertThat(replayer.pause(0, 500_000)).isEqualTo(500_000_000L); // 500 s at 1000x
        assertThat(replayer.pause(0, 86_400_000)).isEqualTo(2_000_000_000L); // capped
        assertThat(replayer.pause(10, 5)).isZero();
    }

    @Test
    void progressLineShowsWhatTheJobDidApartFromWhatIsCommitted() {
        String line = ProgressLine.format(new ProgressLine.Snapshot(1000, 1000, 500, 480, 420,
                0, 0, 0, 250, 75), 10);
        // nothing committed yet (before the first checkpoint): the bar moves with what was read
        assertThat(line).isEqualTo("[#####.....]  50% replayed 1,000/1,000 | job read 500, "
                + "processed 480, deltas 420 | committed events 0, deltas 0, users 0 | 250 ev/s "
                + "| 01:15");
        // the job's metrics not reported yet, or gone with the job: the committed counts lead
        assertThat(ProgressLine.format(new ProgressLine.Snapshot(1000, 1000, -1, -1, -1, 700,
                600, 12, 0, 5), 10)).startsWith("[#######...]  70% replayed 1,000/1,000 | job "
                        + "read -, processed -, deltas - | committed events 700, deltas 600, "
                        + "users 12");
    }

    @Test
    void demoOptionsKeepJobOptionsApartAndRejectUnknownDemoKeys() {
        DemoOptions o = DemoOptions.fromArgs("--demo.speed", "60", "--graph.max-interests", "4",
                "--kafka.bootstrap", "broker:9092");
        assertThat(o.speed).isEqualTo(60);
        assertThat(o.externalKafka()).isTrue();
        assertThat(o.job.toMap()).containsEntry("graph.max-interests", "4")
                .doesNotContainKey("demo.speed");
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> DemoOptions.fromArgs("--demo.sped", "2"))
                .hasMessageContaining("unknown option 'demo.sped'");
    }
}
