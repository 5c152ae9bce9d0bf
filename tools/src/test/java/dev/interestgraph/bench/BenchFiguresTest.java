package dev.interestgraph.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The Goals table and the capacity table say met / not met and scale by the stated formulas. */
class BenchFiguresTest {

    @Test
    void goalsAreMetOnlyWhereTheMeasuredFigureReachesThem() {
        BenchFigures figures = new BenchFigures();
        figures.jmhHeapGraph = 40_000.0;
        figures.jmhHeapCounter = 2_000_000.0;
        figures.jmhFloor = 100_000.0; // 0.4× the floor: met
        figures.jmhRocksGraph = 10_000.0;
        figures.jmhRocksCounter = 200_000.0; // 0.05×: not met
        figures.throughput.add(throughput("heap", 1, 60_000, 100_000, 300_000_000L, 1_000_000));
        figures.throughput.add(throughput("rocksdb", 2, 40_000, 100_000, 100_000_000L,
                1_000_000));
        figures.inputBytesPerEvent = 100.0;
        figures.freshnessBaseline = "same-shape";
        figures.freshAloGraph = 140L;
        figures.freshAloBare = 100L;
        figures.freshEoGraph = 1_600L;
        figures.freshEoBare = 1_000L; // 1.6×: the row is not met
        figures.stateBytesPerUser50x5 = 7_000L;
        figures.stateLinearity = 1.01;

        List<String> rows = figures.goalsTable();

        assertThat(rows).hasSize(2 + 7);
        assertThat(row(rows, "arithmetic")).contains("0.4000× the arithmetic floor")
                .endsWith("| yes |");
        assertThat(row(rows, "RocksDB, vs bare")).contains("0.0500×").endsWith("| no |");
        // heap 0.6×, RocksDB 0.4×: one configuration short of the goal fails the row
        assertThat(row(rows, "same-shape")).contains("heap p=1 0.600×", "rocksdb p=2 0.400×")
                .endsWith("| no |");
        // (300 MB + 100 MB) / 2 M events = 200 B per event, 2× the 100 B of input
        assertThat(row(rows, "delta bytes per input event")).contains("200 B").endsWith("| yes |");
        assertThat(row(rows, "delta topic / input")).contains("2.0×").endsWith("| yes |");
        assertThat(row(rows, "freshness")).contains("1.40× / 1.60× same-shape").endsWith("| no |");
        assertThat(row(rows, "state per user")).contains("7,000 B").endsWith("| yes |");
    }

    @Test
    void theFreshnessRowShowsArrivalOrderBesideTheDefaultWhoseVerdictItKeeps() {
        BenchFigures figures = new BenchFigures();
        figures.freshnessBaseline = "same-shape";
        figures.freshAloGraph = 200L;
        figures.freshAloBare = 20L;
        figures.freshEoGraph = 1_600L;
        figures.freshEoBare = 1_000L;
        figures.freshAloArrival = 25L;

        String freshness = row(figures.goalsTable(), "freshness");

        assertThat(freshness).contains("10.00× / 1.60× same-shape")
                .contains("arrival order (graph.ordering arrival, opt-in): at-least-once 1.25× "
                        + "(p99 25 vs 20 ms, ≤ 1.5×)")
                .doesNotContain("exactly-once 1.")
                .endsWith("| no |"); // the default (event-time) misses the goal
    }

    @Test
    void partsThatDidNotRunSayNotRun() {
        List<String> rows = new BenchFigures().goalsTable();
        assertThat(rows.subList(2, rows.size())).allSatisfy(row ->
                assertThat(row).endsWith("| not run | — |"));
    }

    @Test
    void capacityScalesThePerCoreAndPerEventFigures() {
        BenchFigures figures = new BenchFigures();
        figures.jmhRocksGraph = 10_000.0;
        figures.throughput.add(throughput("rocksdb", 2, 5_000, 100_000, 0, 1));
        figures.inputBytesPerEvent = 60.0;
        figures.checkpointUserGraphFullBytes = 500e6;
        figures.checkpointRunUsers = 100_000;
        figures.checkpointIncrementalBytes = 200e6;
        figures.checkpointRunRate = 5_000.0;

        List<String> rows = figures.capacityTable(1e6, 1e8, 16);

        assertThat(row(rows, "operator alone")).contains("| 100 |"); // 1 M / 10 K
        assertThat(row(rows, "same-shape")).contains("| 20 |"); // 1 M / (100 K / 2 cores)
        assertThat(row(rows, "end to end")).contains("| 400 |"); // 1 M / (5 K / 2 cores)
        assertThat(row(rows, "task managers")).contains("| 8 |"); // ceil(120 / 16)
        assertThat(row(rows, "state, GB (users")).contains("| 500 |"); // 1e8 × 5,000 B
        // 200 MB per 10 s at 5 K ev/s = 4,000 B per event; × 1 M ev/s × 10 s = 40 GB
        assertThat(row(rows, "checkpoint upload")).contains("| 40.0 |");
        assertThat(row(rows, "Kafka input")).contains("| 60 |");
    }

    private static BenchFigures.Throughput throughput(String backend, int parallelism,
            double graph, double sameShape, long deltaBytes, long events) {
        BenchFigures.Throughput t = new BenchFigures.Throughput();
        t.backend = backend;
        t.parallelism = parallelism;
        t.graph = graph;
        t.sameShape = sameShape;
        t.deltaBytes = deltaBytes;
        t.deltaRecords = events;
        t.events = events;
        return t;
    }

    private static String row(List<String> rows, String containing) {
        return rows.stream().filter(r -> r.contains(containing)).findFirst()
                .orElseThrow(() -> new AssertionError("no row with " + containing + ": " + rows));
    }
}
