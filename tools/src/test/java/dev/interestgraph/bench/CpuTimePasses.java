package dev.interestgraph.bench;

import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.usergraph.UserGraphFunction;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

/**
 * {@link UserGraphBenchmark}'s pass (and {@link VectorArithmeticBenchmark}'s floor) timed in the
 * driving thread's CPU time rather than wall time: on a machine shared with other builds the
 * wall time of one pass moved 2–3× within minutes, its CPU time ~20 %, so before/after
 * comparisons of the operator (two builds' classes, alternating JVMs) use this. It leaves out
 * what other threads spend (GC, RocksDB's background flushes and compactions).
 *
 * <p>From {@code tools/} with the bench classpath: {@code java -cp target/test-classes:
 * target/classes:$(cat target/bench-classpath.txt) dev.interestgraph.bench.CpuTimePasses
 * heap|rocksdb graph|counter|floor passes [users eventsPerUser]}; prints one line per pass.
 */
public final class CpuTimePasses {
    private CpuTimePasses() {}

    public static void main(String[] args) throws Exception {
        String backend = args[0];
        String what = args[1];
        int passes = Integer.parseInt(args[2]);
        // optional: users and events per user (default UserGraphBenchmark's 300 × 100)
        int users = args.length > 3 ? Integer.parseInt(args[3]) : 300;
        int eventsPerUser = args.length > 4 ? Integer.parseInt(args[4]) : 100;
        List<EnrichedAction> events = BenchData.events(users, eventsPerUser, 200, 42);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int pass = 0; pass < passes; pass++) {
            long cpu;
            long wall;
            long outputs;
            if (what.equals("floor")) {
                VectorArithmeticBenchmark floor = new VectorArithmeticBenchmark();
                floor.users = users;
                floor.eventsPerUser = eventsPerUser;
                floor.itemsPerTopic = 200;
                floor.generate();
                floor.reset();
                long cpu0 = threads.getCurrentThreadCpuTime();
                long wall0 = System.nanoTime();
                outputs = floor.arithmetic();
                cpu = threads.getCurrentThreadCpuTime() - cpu0;
                wall = System.nanoTime() - wall0;
            } else {
                KeyedProcessFunction<String, EnrichedAction, ?> function = what.equals("graph")
                        ? new UserGraphFunction(GraphParameters.defaults())
                        : new KeyedCounterFunction<>();
                var harness = new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(function), (EnrichedAction a) -> a.userId,
                        Types.STRING);
                Path rocksDir = null;
                if (backend.equals("heap")) {
                    harness.setStateBackend(new HashMapStateBackend());
                } else {
                    rocksDir = Files.createTempDirectory("cpu-passes-rocksdb");
                    harness.setStateBackend(UserGraphBenchmark.rocksDb(rocksDir));
                }
                harness.open();
                long cpu0 = threads.getCurrentThreadCpuTime();
                long wall0 = System.nanoTime();
                outputs = 0;
                int sinceWatermark = 0;
                long maxTime = Long.MIN_VALUE;
                for (EnrichedAction event : events) { // as UserGraphBenchmark.drive
                    harness.processElement(new StreamRecord<>(event, event.eventTimeMs));
                    maxTime = Math.max(maxTime, event.eventTimeMs);
                    if (++sinceWatermark == 1000) {
                        sinceWatermark = 0;
                        harness.processWatermark(maxTime - UserGraphBenchmark.OUT_OF_ORDERNESS_MS);
                        outputs += harness.getOutput().size();
                        harness.getOutput().clear();
                    }
                }
                harness.processWatermark(Long.MAX_VALUE);
                outputs += harness.getOutput().size();
                harness.getOutput().clear();
                cpu = threads.getCurrentThreadCpuTime() - cpu0;
                wall = System.nanoTime() - wall0;
                harness.close();
                if (rocksDir != null) {
                    UserGraphBenchmark.deleteRecursively(rocksDir);
                }
            }
            System.out.printf(Locale.ROOT, "%s %s pass %d cpu_ms %.1f wall_ms %.1f outputs %d%n",
                    backend, what, pass, cpu / 1e6, wall / 1e6, outputs);
        }
    }
}
