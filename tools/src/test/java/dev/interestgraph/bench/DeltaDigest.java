package dev.interestgraph.bench;

import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.usergraph.UserGraphFunction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

/**
 * A SHA-256 of every delta the user-graph operator emits over {@link UserGraphBenchmark}'s pass
 * (payload bytes, in output order): run under two builds' classes (the old one's put first on the
 * classpath, as for {@link CpuTimePasses}), equal digests say a speed-up changed no delta — the
 * check behind "same deltas" in docs/benchmarks.md's throughput steps.
 *
 * <p>From {@code tools/} with the bench classpath: {@code java -cp ... DeltaDigest
 * heap|rocksdb [users eventsPerUser [tight|decay]]} (with {@code -Ddelta-digest.dump=FILE} it also
 * writes the payloads for {@link DeltaCompare}); {@code tight}: 3 interests and 40 edges per
 * user, so that evictions, merges and the cap run often; {@code decay}: a 12-hour edge half-life
 * and a sweep every 6 hours, so that sweeps prune.
 */
public final class DeltaDigest {
    private DeltaDigest() {}

    public static void main(String[] args) throws Exception {
        String backend = args[0];
        int users = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        int eventsPerUser = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        String mode = args.length > 3 ? args[3] : "";
        // -Ddelta-digest.dump=FILE: every payload, length-prefixed, for DeltaCompare
        String dump = System.getProperty("delta-digest.dump");
        java.io.DataOutputStream dumpOut = dump == null ? null
                : new java.io.DataOutputStream(new java.io.BufferedOutputStream(
                        Files.newOutputStream(Path.of(dump))));
        GraphParameters params = switch (mode) {
            case "tight" -> GraphParameters.builder().maxInterests(3).maxEdgesPerUser(40).build();
            case "decay" -> GraphParameters.builder().edgeHalfLife(Duration.ofHours(12))
                    .sweepInterval(Duration.ofHours(6)).pruneThreshold(0.1).build();
            default -> GraphParameters.defaults();
        };
        List<EnrichedAction> events = BenchData.events(users, eventsPerUser, 200, 42);
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new UserGraphFunction(params)),
                (EnrichedAction a) -> a.userId, Types.STRING);
        Path rocksDir = null;
        if (backend.equals("heap")) {
            harness.setStateBackend(new HashMapStateBackend());
        } else {
            rocksDir = Files.createTempDirectory("delta-digest-rocksdb");
            harness.setStateBackend(UserGraphBenchmark.rocksDb(rocksDir));
        }
        harness.open();
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        long deltas = 0;
        long bytes = 0;
        int sinceWatermark = 0;
        long maxTime = Long.MIN_VALUE;
        for (int i = 0; i <= events.size(); i++) {
            boolean end = i == events.size();
            if (!end) {
                EnrichedAction event = events.get(i);
                harness.processElement(new StreamRecord<>(event, event.eventTimeMs));
                maxTime = Math.max(maxTime, event.eventTimeMs);
            }
            if (end || ++sinceWatermark == 1000) {
                sinceWatermark = 0;
                harness.processWatermark(end ? Long.MAX_VALUE
                        : maxTime - UserGraphBenchmark.OUT_OF_ORDERNESS_MS);
                Object record;
                while ((record = harness.getOutput().poll()) != null) {
                    if (record instanceof StreamRecord<?> stream
                            && stream.getValue() instanceof DeltaRecord delta) {
                        digest.update(delta.payload);
                        if (dumpOut != null) {
                            dumpOut.writeInt(delta.payload.length);
                            dumpOut.write(delta.payload);
                        }
                        deltas++;
                        bytes += delta.payload.length;
                    }
                }
            }
        }
        harness.close();
        if (dumpOut != null) {
            dumpOut.close();
        }
        if (rocksDir != null) {
            UserGraphBenchmark.deleteRecursively(rocksDir);
        }
        System.out.printf(Locale.ROOT, "%s users %d events/user %d%s: %d deltas, %d bytes, sha256 %s%n",
                backend, users, eventsPerUser, mode.isEmpty() ? "" : " " + mode, deltas, bytes,
                HexFormat.of().formatHex(digest.digest()));
    }
}
