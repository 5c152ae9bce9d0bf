package dev.interestgraph.bench;

import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.usergraph.UserGraphFunction;
import dev.interestgraph.model.EnrichedAction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackend;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The user-graph operator against the Flink floor (a bare keyed counter), over the same
 * pre-generated events, each driven through a {@link KeyedOneInputStreamOperatorTestHarness}
 * (one subtask, no network, no serialisation between operators) on heap or RocksDB state.
 *
 * <p>One invocation = one pass over all events: each event is processed, every
 * {@code watermarkEvery} events the watermark advances to the latest event time minus 5 s (the
 * job's default out-of-orderness), which fires the user-graph's flush ticks and decay sweeps;
 * at the end the watermark goes to +∞ (end of bounded input) so that every event is applied.
 * The harness and its state are fresh for every invocation (not timed). Score = milliseconds per
 * pass; {@link BenchMain} turns that into events/s and the ratio user-graph / counter.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g",
        "--add-opens=java.base/java.util=ALL-UNNAMED",
        "--add-opens=java.base/java.lang=ALL-UNNAMED"})
@Warmup(iterations = 2)
@Measurement(iterations = 3)
public class UserGraphBenchmark {
    /** Out-of-orderness the watermark trails the newest event by (the job's default). */
    static final long OUT_OF_ORDERNESS_MS = 5_000;

    @Param({"heap", "rocksdb"})
    public String backend;

    @Param({"300"})
    public int users;

    @Param({"100"})
    public int eventsPerUser;

    @Param({"200"})
    public int itemsPerTopic;

    @Param({"1000"})
    public int watermarkEvery;

    private List<EnrichedAction> events;
    private Path rocksDir;
    private KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, ?> harness;
    private long outputs;

    @Setup(Level.Trial)
    public void generate() {
        events = BenchData.events(users, eventsPerUser, itemsPerTopic, 42);
    }

    @Setup(Level.Iteration)
    public void openHarness(BenchmarkParams params) throws Exception {
        boolean graph = params.getBenchmark().endsWith("userGraph");
        KeyedProcessFunction<String, EnrichedAction, ?> function = graph
                ? new UserGraphFunction(GraphParameters.defaults())
                : new KeyedCounterFunction<>();
        harness = newHarness(function);
        harness.setStateBackend(stateBackend());
        harness.open();
        outputs = 0;
    }

    @TearDown(Level.Iteration)
    public void closeHarness(BenchmarkParams params) throws Exception {
        harness.close();
        harness = null;
        if (rocksDir != null) {
            deleteRecursively(rocksDir);
            rocksDir = null;
        }
        if (params.getBenchmark().endsWith("userGraph") && outputs == 0) {
            throw new IllegalStateException("the user-graph emitted no deltas: nothing flushed");
        }
    }

    @Benchmark
    public long userGraph(Blackhole blackhole) throws Exception {
        return drive(blackhole);
    }

    /** Cheap: more iterations, so that the JIT has settled when it is measured. */
    @Benchmark
    @Warmup(iterations = 10)
    @Measurement(iterations = 10)
    public long counter(Blackhole blackhole) throws Exception {
        return drive(blackhole);
    }

    private long drive(Blackhole blackhole) throws Exception {
        int sinceWatermark = 0;
        long maxTime = Long.MIN_VALUE;
        for (EnrichedAction event : events) {
            harness.processElement(new StreamRecord<>(event, event.eventTimeMs));
            maxTime = Math.max(maxTime, event.eventTimeMs);
            if (++sinceWatermark == watermarkEvery) {
                sinceWatermark = 0;
                harness.processWatermark(maxTime - OUT_OF_ORDERNESS_MS);
                drain(blackhole);
            }
        }
        harness.processWatermark(Long.MAX_VALUE);
        drain(blackhole);
        return outputs;
    }

    /** Keeps the output queue short (deltas carry 384-float vectors) and counts it. */
    private void drain(Blackhole blackhole) {
        ConcurrentLinkedQueue<Object> output = harness.getOutput();
        Object record;
        while ((record = output.poll()) != null) {
            if (record instanceof StreamRecord) {
                Object value = ((StreamRecord<?>) record).getValue();
                if (value instanceof DeltaRecord) {
                    outputs++;
                }
                blackhole.consume(value);
            }
        }
    }

    private static <O> KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, O> newHarness(
            KeyedProcessFunction<String, EnrichedAction, O> function) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(function),
                action -> action.userId, Types.STRING);
    }

    private StateBackend stateBackend() throws IOException {
        if ("heap".equals(backend)) {
            return new HashMapStateBackend();
        }
        if (!"rocksdb".equals(backend)) {
            throw new IllegalArgumentException("backend must be heap or rocksdb: " + backend);
        }
        rocksDir = Files.createTempDirectory("bench-rocksdb");
        return rocksDb(rocksDir);
    }

    /**
     * RocksDB as the job configures it (partitioned index/filters, RocksDB timers), with a fixed
     * 512 MB of memory per slot: the harness's mock environment has only a few MB of managed
     * memory, so the job's managed-memory sizing cannot be reproduced here (docs/benchmarks.md).
     */
    static EmbeddedRocksDBStateBackend rocksDb(Path dir) {
        Configuration config = new Configuration();
        config.setString("state.backend.rocksdb.memory.fixed-per-slot", "512mb");
        config.setString("state.backend.rocksdb.memory.partitioned-index-filters", "true");
        EmbeddedRocksDBStateBackend rocks = new EmbeddedRocksDBStateBackend(false)
                .configure(config, UserGraphBenchmark.class.getClassLoader());
        rocks.setDbStoragePath(dir.toUri().toString());
        return rocks;
    }

    static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(path);
            }
        }
    }
}
