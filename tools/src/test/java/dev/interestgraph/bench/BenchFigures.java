package dev.interestgraph.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The figures of one {@code make bench} run that issue 16's Goals table and docs/capacity.md
 * need, filled in by the parts that measure them ({@link BenchMain}'s JMH part,
 * {@link PipelineBench}), printed at the end as the Goals table (figure | now | goal | measured |
 * met?) and as {@code CAPACITY} lines. A part that did not run leaves its figures unset and its
 * rows say "not run".
 *
 * <p>The "now" column is issue 16's own record of the figures before the work (the issue text),
 * printed for reference; everything in "measured" comes from this run.
 */
final class BenchFigures {
    // ---- JMH operator harness (events/s, median pass)
    Double jmhHeapGraph;
    Double jmhHeapCounter;
    Double jmhRocksGraph;
    Double jmhRocksCounter;
    Double jmhFloor;

    // ---- end to end
    /** The delta sink's codec in the end-to-end runs: the job's default. */
    static final String DELTA_CODEC = dev.interestgraph.config.InterestGraphOptions
            .KAFKA_DELTAS_COMPRESSION.defaultValue().name().toLowerCase(Locale.ROOT);

    /** One throughput configuration: the job and its baselines over the same topic. */
    static final class Throughput {
        String backend;
        int parallelism;
        double graph;
        Double counter;
        Double sameShape;
        /** Broker-measured bytes appended to the delta topic in the window, and records. */
        long deltaBytes;
        long deltaRecords;
        /** Events the job consumed in the same window. */
        long events;
        /** Bytes the same-shape pipeline's output topic received per event (sanity: ~100 B). */
        Double sameShapeBytesPerEvent;
    }

    final List<Throughput> throughput = new ArrayList<>();
    /** Bytes per event of the events topic on the broker (log dirs after loading). */
    Double inputBytesPerEvent;

    // ---- checkpoints of the job's default configuration (RocksDB, incremental, 10 s)
    String checkpointRun;
    Double checkpointFullBytes;
    /** Mean bytes a checkpoint uploaded (incremental), over the REST history's completed ones. */
    Double checkpointIncrementalBytes;
    Double checkpointAvgMs;
    Double checkpointMaxMs;
    Double checkpointUserGraphFullBytes;
    /** Events/s of the run the checkpoints were taken in, and its users with state. */
    Double checkpointRunRate;
    Integer checkpointRunUsers;
    long checkpointIntervalMs = 10_000;

    // ---- freshness p99 (ms)
    String freshnessBaseline;
    Long freshAloGraph;
    Long freshAloBare;
    Long freshEoGraph;
    Long freshEoBare;
    /** The graph job in arrival order (graph.ordering arrival); null when not run. */
    Long freshAloArrival;
    Long freshEoArrival;

    // ---- state
    Long stateBytesPerUser50x5;
    Double stateSlopeBytesPerUser;
    Double stateLinearity;

    // ------------------------------------------------------------------------------ derived

    /** Delta bytes per input event over all throughput windows (events-weighted mean). */
    Double deltaBytesPerEvent() {
        long bytes = 0;
        long events = 0;
        for (Throughput t : throughput) {
            bytes += t.deltaBytes;
            events += t.events;
        }
        return events == 0 ? null : (double) bytes / events;
    }

    Double deltasPerEvent() {
        long records = 0;
        long events = 0;
        for (Throughput t : throughput) {
            records += t.deltaRecords;
            events += t.events;
        }
        return events == 0 ? null : (double) records / events;
    }

    Double deltaToInput() {
        Double perEvent = deltaBytesPerEvent();
        return perEvent == null || inputBytesPerEvent == null ? null
                : perEvent / inputBytesPerEvent;
    }

    private Throughput config(String backend, int parallelism) {
        for (Throughput t : throughput) {
            if (t.backend.equals(backend) && t.parallelism == parallelism) {
                return t;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------------------ printing

    /** Issue 16's Goals table, as Markdown, with this run's figures. */
    List<String> goalsTable() {
        List<String> rows = new ArrayList<>();
        rows.add("| figure | now (issue 16) | goal | measured | met? |");
        rows.add("|---|---|---|---|---|");

        String floorRatio = jmhHeapGraph == null || jmhFloor == null ? null
                : String.format(Locale.ROOT, "%.4f× the arithmetic floor (user-graph %,.0f ev/s,"
                        + " floor %,.0f ev/s); %s a bare keyed counter", jmhHeapGraph / jmhFloor,
                        jmhHeapGraph, jmhFloor, jmhHeapCounter == null ? "n/a"
                                : String.format(Locale.ROOT, "%.4f×", jmhHeapGraph
                                        / jmhHeapCounter));
        rows.add(row("JMH user-graph, heap, vs the bare vector arithmetic the same events need",
                "(new); 0.0018× a bare keyed counter", "≥ 0.3× the arithmetic floor; counter "
                        + "ratio reported", floorRatio,
                jmhHeapGraph == null || jmhFloor == null ? null : jmhHeapGraph / jmhFloor >= 0.3));

        rows.add(row("JMH user-graph, RocksDB, vs bare keyed counter", "0.024×", "≥ 0.5×",
                jmhRocksGraph == null || jmhRocksCounter == null ? null
                        : String.format(Locale.ROOT, "%.4f× (user-graph %,.0f ev/s, counter %,.0f"
                                + " ev/s)", jmhRocksGraph / jmhRocksCounter, jmhRocksGraph,
                                jmhRocksCounter),
                jmhRocksGraph == null || jmhRocksCounter == null ? null
                        : jmhRocksGraph / jmhRocksCounter >= 0.5));

        List<String> e2e = new ArrayList<>();
        boolean allMet = true;
        for (Throughput t : throughput) {
            if (t.sameShape != null) {
                double ratio = t.graph / t.sameShape;
                allMet &= ratio >= 0.5;
                e2e.add(String.format(Locale.ROOT, "%s p=%d %.3f× (%,.0f / %,.0f ev/s)",
                        t.backend, t.parallelism, ratio, t.graph, t.sameShape));
            }
        }
        rows.add(row("end to end vs the same-shape bare pipeline", "(new); 0.03–0.05× a bare "
                + "keyed counter", "≥ 0.5×", e2e.isEmpty() ? null : String.join("; ", e2e),
                e2e.isEmpty() ? null : allMet));

        Double perEvent = deltaBytesPerEvent();
        rows.add(row("delta bytes per input event (mean)", "≈ 4,700 B", "≤ 500 B",
                perEvent == null ? null : String.format(Locale.ROOT, "%,.0f B (%.2f deltas per "
                        + "event, %,.0f B per delta; broker bytes over the throughput windows, "
                        + "the deltas %s-compressed)", perEvent, deltasPerEvent(),
                        perEvent / Math.max(1e-9, deltasPerEvent()), DELTA_CODEC),
                perEvent == null ? null : perEvent <= 500));
        Double ratio = deltaToInput();
        rows.add(row("delta topic / input topic bytes", "33×", "≤ 5×", ratio == null ? null
                : String.format(Locale.ROOT, "%.1f× (input %.0f B per event on the broker, "
                        + "uncompressed; deltas %s: the codecs side by side are in the "
                        + "COMPRESSION table)", ratio, inputBytesPerEvent, DELTA_CODEC),
                ratio == null ? null : ratio <= 5));

        boolean freshness = freshAloGraph != null && freshEoGraph != null;
        double alo = freshness ? (double) freshAloGraph / Math.max(1, freshAloBare) : 0;
        double eo = freshness ? (double) freshEoGraph / Math.max(1, freshEoBare) : 0;
        // the opt-in arrival order beside the default's figures; "met?" stays the default's
        String arrival = "";
        if (freshAloArrival != null || freshEoArrival != null) {
            List<String> parts = new ArrayList<>();
            if (freshAloArrival != null) {
                parts.add(arrivalRatio("at-least-once", freshAloArrival, freshAloBare));
            }
            if (freshEoArrival != null) {
                parts.add(arrivalRatio("exactly-once", freshEoArrival, freshEoBare));
            }
            arrival = "; arrival order (graph.ordering arrival, opt-in): "
                    + String.join(", ", parts);
        }
        rows.add(row("freshness p99, at-least-once and exactly-once", "11.5× / 3.2× bare "
                + "(bare: one keyBy, 16-B record)", "≤ 1.5× bare", freshness
                        ? String.format(Locale.ROOT, "%.2f× / %.2f× %s bare (p99 %,d vs %,d ms / "
                                + "%,d vs %,d ms)", alo, eo, freshnessBaseline, freshAloGraph,
                                freshAloBare, freshEoGraph, freshEoBare) + arrival : null,
                freshness ? alo <= 1.5 && eo <= 1.5 : null));

        String state = stateBytesPerUser50x5 == null ? null
                : String.format(Locale.ROOT, "%,d B%s", stateBytesPerUser50x5,
                        stateLinearity == null ? " (linearity not run)"
                                : String.format(Locale.ROOT, "; bytes/user at the most vs the "
                                        + "fewest users %.3f (1.000 = linear)", stateLinearity));
        rows.add(row("state per user at 50 edges / 5 interests", "7,745 B", "≤ 8 KB, still "
                + "linear", state, stateBytesPerUser50x5 == null ? null
                        : stateBytesPerUser50x5 <= 8192 && (stateLinearity == null
                                || Math.abs(stateLinearity - 1) <= 0.05)));
        return rows;
    }

    private static String row(String figure, String now, String goal, String measured,
            Boolean met) {
        return "| " + figure + " | " + now + " | " + goal + " | "
                + (measured == null ? "not run" : measured) + " | "
                + (met == null ? "—" : met ? "yes" : "no") + " |";
    }

    /**
     * The inputs docs/capacity.md derives a 1 M events/s, 100 M users deployment from, as {@code
     * CAPACITY key=value} lines (per-core rates, bytes per event and per user, checkpoint sizes).
     */
    List<String> capacityInputs(int cores) {
        List<String> lines = new ArrayList<>();
        put(lines, "jmh.heap.graph.ev_per_s_per_core", jmhHeapGraph, "%.0f");
        put(lines, "jmh.rocksdb.graph.ev_per_s_per_core", jmhRocksGraph, "%.0f");
        put(lines, "jmh.rocksdb.counter.ev_per_s_per_core", jmhRocksCounter, "%.0f");
        put(lines, "jmh.arithmetic_floor.ev_per_s_per_core", jmhFloor, "%.0f");
        for (Throughput t : throughput) {
            String key = "e2e." + t.backend + ".p" + t.parallelism;
            put(lines, key + ".graph.ev_per_s_per_machine_core", t.graph / cores, "%.0f");
            put(lines, key + ".same_shape.ev_per_s_per_machine_core",
                    t.sameShape == null ? null : t.sameShape / cores, "%.0f");
            put(lines, key + ".counter.ev_per_s_per_machine_core",
                    t.counter == null ? null : t.counter / cores, "%.0f");
        }
        put(lines, "e2e.machine_cores", (double) cores, "%.0f");
        put(lines, "kafka.input.bytes_per_event", inputBytesPerEvent, "%.1f");
        put(lines, "kafka.deltas.bytes_per_event", deltaBytesPerEvent(), "%.1f");
        put(lines, "kafka.deltas.per_event", deltasPerEvent(), "%.3f");
        put(lines, "state.bytes_per_user_50_edges_5_interests",
                stateBytesPerUser50x5 == null ? null : stateBytesPerUser50x5.doubleValue(), "%.0f");
        put(lines, "state.bytes_per_user_10_events_heap_snapshot", stateSlopeBytesPerUser,
                "%.0f");
        if (checkpointRun != null) {
            lines.add("CAPACITY checkpoint.run=" + checkpointRun);
        }
        put(lines, "checkpoint.full_bytes", checkpointFullBytes, "%.0f");
        put(lines, "checkpoint.user_graph_full_bytes", checkpointUserGraphFullBytes, "%.0f");
        put(lines, "checkpoint.user_graph_bytes_per_user",
                checkpointUserGraphFullBytes == null || checkpointRunUsers == null ? null
                        : checkpointUserGraphFullBytes / checkpointRunUsers, "%.0f");
        put(lines, "checkpoint.incremental_bytes_mean", checkpointIncrementalBytes, "%.0f");
        put(lines, "checkpoint.incremental_bytes_per_event",
                checkpointIncrementalBytes == null || checkpointRunRate == null ? null
                        : checkpointIncrementalBytes / (checkpointRunRate
                                * checkpointIntervalMs / 1000.0), "%.1f");
        put(lines, "checkpoint.avg_ms", checkpointAvgMs, "%.0f");
        put(lines, "checkpoint.max_ms", checkpointMaxMs, "%.0f");
        return lines;
    }

    /**
     * docs/capacity.md's table for {@code eventsPerSecond} over {@code users}, derived from this
     * run's figures by the formulas that page states (Markdown rows: quantity | value | from).
     */
    List<String> capacityTable(double eventsPerSecond, double users, int coresPerTaskManager) {
        List<String> rows = new ArrayList<>();
        rows.add(String.format(Locale.ROOT, "| quantity at %,.0f events/s, %,.0f users | this run "
                + "| formula |", eventsPerSecond, users));
        rows.add("|---|---:|---|");
        Throughput rocks2 = config("rocksdb", 2);
        Double opCores = jmhRocksGraph == null ? null : eventsPerSecond / jmhRocksGraph;
        Double floorCores = rocks2 == null || rocks2.sameShape == null ? null
                : eventsPerSecond / (rocks2.sameShape / 2);
        Double e2eCores = rocks2 == null ? null : eventsPerSecond / (rocks2.graph / 2);
        rows.add(capacityRow("cores, user-graph operator alone (RocksDB)", opCores, "%,.0f",
                "R / JMH RocksDB user-graph ev/s (one core)"));
        rows.add(capacityRow("cores, same-shape bare pipeline (Flink + Kafka floor)", floorCores,
                "%,.0f", "R / (same-shape RocksDB p=2 ev/s / 2 machine cores)"));
        rows.add(capacityRow("cores, whole job as measured end to end", e2eCores, "%,.0f",
                "R / (graph RocksDB p=2 ev/s / 2 machine cores; broker, model, sources included)"));
        rows.add(capacityRow("task managers of " + coresPerTaskManager + " cores (operator + "
                + "floor … whole job)", opCores == null || floorCores == null || e2eCores == null
                        ? null : (double) (long) Math.ceil((opCores + floorCores)
                                / coresPerTaskManager),
                "%,.0f", "ceil((operator + floor cores) / cores per TM); whole job: "
                        + (e2eCores == null ? "n/a" : String.format(Locale.ROOT, "%,.0f",
                                Math.ceil(e2eCores / coresPerTaskManager)))));
        Double perUser = checkpointUserGraphFullBytes == null || checkpointRunUsers == null
                ? null : checkpointUserGraphFullBytes / checkpointRunUsers;
        rows.add(capacityRow("state, GB (users × bytes per user in the job's checkpoint)",
                perUser == null ? null : users * perUser / 1e9, "%,.0f",
                "U × user-graph checkpoint bytes / users with state"));
        rows.add(capacityRow("state, GB, at 50 edges / 5 interests per user",
                stateBytesPerUser50x5 == null ? null : users * stateBytesPerUser50x5 / 1e9,
                "%,.0f", "U × StateSizeBenchmark bytes per user"));
        Double perEvent = checkpointIncrementalBytes == null || checkpointRunRate == null ? null
                : checkpointIncrementalBytes / (checkpointRunRate * checkpointIntervalMs / 1000.0);
        rows.add(capacityRow("checkpoint upload per " + checkpointIntervalMs / 1000 + " s "
                + "checkpoint, GB (incremental)", perEvent == null ? null
                        : perEvent * eventsPerSecond * checkpointIntervalMs / 1000.0 / 1e9,
                "%,.1f", "incremental bytes per event × R × interval"));
        rows.add(capacityRow("checkpoint time, s (per subtask, as measured)",
                checkpointAvgMs == null ? null : checkpointAvgMs / 1000, "%,.1f",
                "mean end-to-end duration of the RocksDB p=2 run's checkpoints (each subtask "
                        + "uploads its own share; needs the store to take the upload above)"));
        Double delta = deltaBytesPerEvent();
        rows.add(capacityRow("Kafka input, MB/s (one replica)", inputBytesPerEvent == null ? null
                : eventsPerSecond * inputBytesPerEvent / 1e6, "%,.0f", "R × input bytes/event"));
        rows.add(capacityRow("Kafka deltas, MB/s (one replica)", delta == null ? null
                : eventsPerSecond * delta / 1e6, "%,.0f", "R × delta bytes/event"));
        return rows;
    }

    private static String capacityRow(String quantity, Double value, String format,
            String formula) {
        return "| " + quantity + " | " + (value == null ? "not run"
                : String.format(Locale.ROOT, format, value)) + " | " + formula + " |";
    }

    private static void put(List<String> lines, String key, Double value, String format) {
        lines.add("CAPACITY " + key + "=" + (value == null ? "not run"
                : String.format(Locale.ROOT, format, value)));
    }

    /** One guarantee's arrival-order p99 against its bare p99, with the goal's 1.5× verdict. */
    private static String arrivalRatio(String guarantee, long graphP99, Long bareP99) {
        double times = (double) graphP99 / Math.max(1, bareP99);
        return String.format(Locale.ROOT, "%s %.2f× (p99 %,d vs %,d ms, %s)", guarantee, times,
                graphP99, bareP99, times <= 1.5 ? "≤ 1.5×" : "> 1.5×");
    }
}
