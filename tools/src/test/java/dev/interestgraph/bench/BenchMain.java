package dev.interestgraph.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * {@code make bench}: runs {@link UserGraphBenchmark} (user-graph vs bare keyed counter, heap and
 * RocksDB, side by side in one JMH run) and {@link StateSizeBenchmark}, then prints a summary.
 *
 * <p>Then the end-to-end harness {@link PipelineBench} (the real job next to bare Flink
 * baselines), one line per figure, for comparing two runs, and at the end issue 16's Goals table
 * and the inputs of docs/capacity.md ({@link BenchFigures}).
 *
 * <p>Arguments, all optional, {@code key=value}. JMH: {@code users=300 eventsPerUser=100
 * itemsPerTopic=200 watermarkEvery=1000 backends=heap,rocksdb wi=N i=N f=1
 * json=target/jmh-result.json embedding=true texts=512 floor=true} ({@code floor}: the
 * arithmetic floor {@link VectorArithmeticBenchmark} next to the user-graph); {@code jmh=false}
 * skips JMH, the inference comparison and the state-size breakdown; {@code e2e=false} skips the
 * end-to-end part.
 * End-to-end ({@link PipelineBench}): {@code parts=throughput,replay,freshness,state
 * e2e.events=5000000 replay.events=10000000 e2e.users=50000 e2e.itemsPerTopic=100
 * e2e.eventTimeRate=10000 e2e.managedMbPerSlot=256 tput.backends=heap,rocksdb
 * tput.parallelism=1,2 tput.warmup=8 tput.window=30 tput.baselines=same-shape
 * tput.bareWindow=20 replay.window=120 fresh.rate=5000 fresh.seconds=30 fresh.warmup=5
 * fresh.users=10000 fresh.backend=heap fresh.bare=same-shape fresh.orderings=event-time,arrival
 * fresh.eo-orderings=event-time fresh.emit-interval=100ms fresh.arrival-emit-interval=0ms}
 * ({@code fresh.bare=same-shape,keyed-map} adds the one-keyBy bare pipeline of issue 9; the
 * first listed is the Goals table's baseline; {@code fresh.orderings}: the graph job's
 * {@code graph.ordering}s at at-least-once, {@code fresh.eo-orderings} at exactly-once) {@code
 * state.users=10000,20000,40000 state.eventsPerUser=10
 * png=../docs/benchmarks-freshness.png}. Run from {@code tools/} with the test classpath.
 */
public final class BenchMain {
    private BenchMain() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        options.put("users", "300");
        options.put("eventsPerUser", "100");
        options.put("itemsPerTopic", "200");
        options.put("watermarkEvery", "1000");
        options.put("backends", "heap,rocksdb");
        options.put("f", "1");
        options.put("json", "target/jmh-result.json");
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("arguments are key=value, got " + arg);
            }
            options.put(arg.substring(0, eq).replaceFirst("^-+", ""), arg.substring(eq + 1));
        }
        int users = Integer.parseInt(options.get("users"));
        int eventsPerUser = Integer.parseInt(options.get("eventsPerUser"));
        long events = (long) users * eventsPerUser;

        boolean floor = Boolean.parseBoolean(options.getOrDefault("floor", "true"));
        ChainedOptionsBuilder jmh = new OptionsBuilder()
                .include(UserGraphBenchmark.class.getName() + "\\.")
                .param("users", options.get("users"))
                .param("eventsPerUser", options.get("eventsPerUser"))
                .param("itemsPerTopic", options.get("itemsPerTopic"))
                .param("watermarkEvery", options.get("watermarkEvery"))
                .param("backend", options.get("backends").split(","))
                .forks(Integer.parseInt(options.get("f")))
                .resultFormat(ResultFormatType.JSON)
                .result(options.get("json"));
        if (floor) {
            jmh.include(VectorArithmeticBenchmark.class.getName() + "\\.");
        }
        if (options.containsKey("wi")) {
            jmh.warmupIterations(Integer.parseInt(options.get("wi")));
        }
        if (options.containsKey("i")) {
            jmh.measurementIterations(Integer.parseInt(options.get("i")));
        }
        BenchFigures figures = new BenchFigures();
        if (!Boolean.parseBoolean(options.getOrDefault("jmh", "true"))) {
            runEndToEnd(options, figures);
            return;
        }
        String embedding = Boolean.parseBoolean(options.getOrDefault("embedding", "true"))
                ? EmbeddingBench.run(Integer.parseInt(options.getOrDefault("texts", "512")))
                : "";
        double loadBefore = loadAverage();
        Collection<RunResult> results = new Runner(jmh.build()).run();
        double loadAfter = loadAverage();

        List<StateSizeBenchmark.Report> sizes = new ArrayList<>();
        for (String modelVersion : StateSizeBenchmark.MODEL_VERSIONS) {
            sizes.add(StateSizeBenchmark.measure(modelVersion));
        }

        System.out.println();
        System.out.printf(Locale.ROOT, "==== interest-graph benchmark summary (%,d events, %d users, "
                + "%d cores, %s) ====%n", events, users, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        List<String> jmhLines = new ArrayList<>();
        System.out.printf(Locale.ROOT, "%-8s %26s %26s %9s%n", "backend",
                "counter ev/s", "user-graph ev/s", "ratio");
        for (String backend : options.get("backends").split(",")) {
            double[] counter = passTimesMs(results, "counter", backend);
            double[] graph = passTimesMs(results, "userGraph", backend);
            System.out.printf(Locale.ROOT, "%-8s %26s %26s %8.4fx%n", backend,
                    formatRates(counter, events), formatRates(graph, events),
                    median(counter) / median(graph));
            jmhLines.add(String.format(Locale.ROOT, "JMH %s user-graph=%,.0f ev/s counter=%,.0f "
                    + "ev/s ratio=%.4f (operator harness, 1 subtask, %,d events)", backend,
                    events / (median(graph) / 1000), events / (median(counter) / 1000),
                    median(counter) / median(graph), events));
            if ("heap".equals(backend)) {
                figures.jmhHeapGraph = events / (median(graph) / 1000);
                figures.jmhHeapCounter = events / (median(counter) / 1000);
            } else if ("rocksdb".equals(backend)) {
                figures.jmhRocksGraph = events / (median(graph) / 1000);
                figures.jmhRocksCounter = events / (median(counter) / 1000);
            }
        }
        if (floor) {
            double[] arithmetic = passTimesMs(results, "arithmetic", null);
            figures.jmhFloor = events / (median(arithmetic) / 1000);
            System.out.printf(Locale.ROOT, "%-8s %26s%n", "floor", formatRates(arithmetic, events));
            String vsGraph = figures.jmhHeapGraph == null ? "heap user-graph not run"
                    : String.format(Locale.ROOT, "heap user-graph / floor=%.4f",
                            figures.jmhHeapGraph / figures.jmhFloor);
            jmhLines.add(String.format(Locale.ROOT, "JMH arithmetic-floor=%,.0f ev/s %s "
                    + "(VectorArithmeticBenchmark: only the vector additions and centroid dot "
                    + "products of the same %,d events, 1 thread)", figures.jmhFloor, vsGraph,
                    events));
        }
        System.out.println("(events/s = events / median single-shot time of the measured passes,"
                + " [range over passes]; ratio = user-graph / counter)");
        System.out.printf(Locale.ROOT, "system load average before/after the JMH run: %.1f / %.1f"
                + " on %d cores (other work on the machine skews the figures)%n", loadBefore,
                loadAfter, Runtime.getRuntime().availableProcessors());
        System.out.println();
        System.out.print(embedding);
        for (StateSizeBenchmark.Report r : sizes) {
            System.out.printf(Locale.ROOT, "state bytes/user (%d edges, %d interests, %d dims, "
                    + "model \"%s\", summary value + map entry per edge, RocksDB keys counted): "
                    + "%,d B (target <= %,d: %s); summary %,d B, edges %,d B (keys' prefix and "
                    + "user id %,d B), vector payload (centroid codes, profile halves) %,d B; the whole graph as one value %,d B; "
                    + "Kryo %s%n", r.edges, r.interests, r.dimension, r.modelVersion,
                    r.totalBytes, StateSizeBenchmark.TARGET_BYTES,
                    r.totalBytes <= StateSizeBenchmark.TARGET_BYTES ? "OK" : "OVER",
                    r.summaryBytes, r.edgeBytes, r.edgeKeyOverheadBytes, r.vectorBytes(),
                    r.wholeGraphBytes, r.kryoBytes > 0
                            ? String.format(Locale.ROOT, "%,d B = %.2fx", r.kryoBytes,
                                    (double) r.kryoBytes / r.totalBytes)
                            : "n/a (" + r.kryoError + ")");
            if (figures.stateBytesPerUser50x5 == null) {
                figures.stateBytesPerUser50x5 = (long) r.totalBytes;
            }
            jmhLines.add(String.format(Locale.ROOT, "STATE bytes/user at %d edges / %d interests "
                    + "(%d dims, model \"%s\"): %,d B, goal <= %,d B: %s", r.edges, r.interests,
                    r.dimension, r.modelVersion, r.totalBytes, StateSizeBenchmark.TARGET_BYTES,
                    r.totalBytes <= StateSizeBenchmark.TARGET_BYTES ? "met" : "NOT met"));
        }
        System.out.println();
        System.out.print(CompressionProbe.table(5_000, 1_000, 100_000, 4));
        List<String> endToEnd = Boolean.parseBoolean(options.getOrDefault("e2e", "true"))
                ? new PipelineBench(options, figures).run() : List.of();
        System.out.println();
        System.out.println("==== one line per figure ====");
        jmhLines.forEach(System.out::println);
        endToEnd.forEach(System.out::println);
        printGoalsAndCapacity(figures);
    }

    private static void runEndToEnd(Map<String, String> options, BenchFigures figures)
            throws Exception {
        List<String> lines = new PipelineBench(options, figures).run();
        System.out.println();
        System.out.println("==== one line per figure ====");
        lines.forEach(System.out::println);
        printGoalsAndCapacity(figures);
    }

    /** Issue 16's Goals table and the inputs of docs/capacity.md, then the load average. */
    private static void printGoalsAndCapacity(BenchFigures figures) {
        System.out.println();
        System.out.println("==== goals (issue 16): figure | now | goal | measured | met? ====");
        figures.goalsTable().forEach(System.out::println);
        System.out.println();
        System.out.println("==== capacity inputs (docs/capacity.md) ====");
        figures.capacityInputs(Runtime.getRuntime().availableProcessors())
                .forEach(System.out::println);
        System.out.println();
        System.out.println("==== capacity (docs/capacity.md: 1 M events/s, 100 M users, "
                + "16-core task managers) ====");
        figures.capacityTable(1e6, 1e8, 16).forEach(System.out::println);
        System.out.printf(Locale.ROOT, "LOAD average at the end: %.1f on %d cores%n",
                loadAverage(), Runtime.getRuntime().availableProcessors());
    }

    private static double loadAverage() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                .getSystemLoadAverage();
    }

    /** The measured single-shot times (ms per pass over all events), sorted. */
    private static double[] passTimesMs(Collection<RunResult> results, String method,
            String backend) {
        for (RunResult result : results) {
            if (result.getParams().getBenchmark().endsWith("." + method)
                    && (backend == null
                            || backend.equals(result.getParams().getParam("backend")))) {
                List<Double> times = new ArrayList<>();
                for (BenchmarkResult fork : result.getBenchmarkResults()) {
                    for (IterationResult iteration : fork.getIterationResults()) {
                        times.add(iteration.getPrimaryResult().getScore());
                    }
                }
                return times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            }
        }
        throw new IllegalStateException("no result for " + method + " / " + backend);
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String formatRates(double[] sortedMs, long events) {
        return String.format(Locale.ROOT, "%,.0f [%s–%s]", events / (median(sortedMs) / 1000),
                compact(events / (sortedMs[sortedMs.length - 1] / 1000)),
                compact(events / (sortedMs[0] / 1000)));
    }

    private static String compact(double rate) {
        return rate >= 1e6 ? String.format(Locale.ROOT, "%.1fM", rate / 1e6)
                : rate >= 1e3 ? String.format(Locale.ROOT, "%.1fK", rate / 1e3)
                : String.format(Locale.ROOT, "%.0f", rate);
    }
}
