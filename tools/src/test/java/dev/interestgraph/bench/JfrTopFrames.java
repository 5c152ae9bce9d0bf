package dev.interestgraph.bench;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * The profile tables of docs/benchmarks.md from a Flight Recorder file: of the samples taken
 * inside the benchmark's driving loop ({@link UserGraphBenchmark} or {@link CpuTimePasses}), the
 * share whose top frame is each method (self) and the share with each of the project's methods
 * (and Flink's RocksDB state methods) anywhere on the stack (inclusive; a recursive method
 * counted once per sample). With
 * {@code jdk.ObjectAllocationSample} the shares are of the sampled allocation weight.
 *
 * <p>From {@code tools/} with the bench classpath: {@code java -cp ... JfrTopFrames
 * heap.jfr [event [rows]]} (event: jdk.ExecutionSample by default).
 */
public final class JfrTopFrames {
    private JfrTopFrames() {}

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        String event = args.length > 1 ? args[1] : "jdk.ExecutionSample";
        int rows = args.length > 2 ? Integer.parseInt(args[2]) : 30;
        boolean allocation = event.endsWith("AllocationSample");
        Map<String, Double> self = new HashMap<>();
        Map<String, Double> inclusive = new HashMap<>();
        double total = 0;
        for (RecordedEvent recorded : RecordingFile.readAllEvents(file)) {
            if (!recorded.getEventType().getName().equals(event)
                    || recorded.getStackTrace() == null) {
                continue;
            }
            List<RecordedFrame> frames = recorded.getStackTrace().getFrames();
            boolean inLoop = false;
            for (RecordedFrame frame : frames) {
                String type = frame.getMethod().getType().getName();
                inLoop |= type.endsWith("UserGraphBenchmark") || type.endsWith("CpuTimePasses");
            }
            if (!inLoop || frames.isEmpty()) {
                continue;
            }
            double weight = allocation ? recorded.getLong("weight") : 1;
            total += weight;
            self.merge(name(frames.get(0)), weight, Double::sum);
            Set<String> seen = new HashSet<>();
            for (RecordedFrame frame : frames) {
                String name = name(frame);
                if ((name.startsWith("dev.interestgraph.") || name.contains("RocksDB"))
                        && seen.add(name)) {
                    inclusive.merge(name, weight, Double::sum);
                }
            }
        }
        System.out.printf(Locale.ROOT, "%s: %.0f %s in the driving loop%n", event, total,
                allocation ? "bytes (sampled weight)" : "samples");
        print("self", self, total, rows);
        print("inclusive (project and RocksDB state methods)", inclusive, total, rows);
    }

    private static String name(RecordedFrame frame) {
        return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
    }

    private static void print(String title, Map<String, Double> shares, double total, int rows) {
        System.out.println("--- " + title);
        shares.entrySet().stream()
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed()
                        .thenComparing(Map.Entry.comparingByKey()))
                .limit(rows)
                .forEach(e -> System.out.printf(Locale.ROOT, "%6.1f %%  %s%n",
                        100 * e.getValue() / total, e.getKey()));
    }
}
