package dev.interestgraph.bench;

import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v1.UserEvent;
import dev.interestgraph.usergraph.UserGraphFunction;
import dev.interestgraph.vector.HalfFloats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

/**
 * What {@code graph.emit-interval} buys and costs (issue 16: pick its default from volume and
 * freshness figures): the user-graph operator alone, in a test harness on heap state, over the
 * end-to-end bench's workload shape ({@link E2EWorkload}: events spread uniformly over users at a
 * fixed event-time rate, one event per user every {@code users / rate} seconds on average) with
 * dense 384-dimensional item vectors, once per interval. Prints, over the second half of the
 * events (the first half warms every user's graph up, as the end-to-end throughput window
 * starts at 10 % of a long run), deltas per event and the bytes of their v2 payloads per event
 * (the broker adds ~70 B of record and batch overhead per delta), and what the interval adds to
 * an event's latency in event time: the wait for the end of its slot, 0 to one interval.
 *
 * <p>Run from {@code tools/} with the bench classpath ({@code make bench} builds it):
 * {@code java -cp target/test-classes:target/classes:$(cat target/bench-classpath.txt)
 * dev.interestgraph.bench.CoalescingSweep [users] [eventsPerSecond] [events] [intervals ms,...]
 * [composition]}; with {@code composition}, also where each interval's bytes go, field by field
 * ({@link DeltaComposition}).
 */
public final class CoalescingSweep {
    private static final long OUT_OF_ORDERNESS_MS = 5_000;

    private CoalescingSweep() {}

    public static void main(String[] args) throws Exception {
        int users = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
        int events = args.length > 2 ? Integer.parseInt(args[2]) : 200_000;
        String intervals = args.length > 3 ? args[3] : "100,1000,2000,5000,10000,30000,60000";
        boolean composition = args.length > 4 && args[4].equals("composition");
        E2EWorkload workload = new E2EWorkload(users, 100, events, rate, 42);
        List<EnrichedAction> input = enriched(workload, events);
        long measuredFrom = input.get(events / 2).eventTimeMs;
        System.out.printf(Locale.ROOT, "COALESCING %,d events over %,d users at %,d ev/s of event "
                + "time (a user's events %.1f s apart on average); measured: the second half%n",
                events, users, rate, (double) users / rate);
        System.out.println("| graph.emit-interval | deltas / event | payload B / delta "
                + "| payload B / event | added latency mean / max |");
        System.out.println("|---|---|---|---|---|");
        long measuredEvents = events - events / 2;
        Map<Long, DeltaComposition> compositions = new java.util.LinkedHashMap<>();
        for (String interval : intervals.split(",")) {
            long ms = Long.parseLong(interval.trim());
            DeltaComposition parts = composition ? new DeltaComposition() : null;
            long[] out = run(input, ms, measuredFrom, parts);
            System.out.printf(Locale.ROOT, "| %,d ms | %.3f | %,.0f | %,.0f | %,.0f / %,d ms |%n",
                    ms, (double) out[0] / measuredEvents, (double) out[1] / Math.max(1, out[0]),
                    (double) out[1] / measuredEvents, (ms - 1) / 2.0, ms - 1);
            if (parts != null) {
                compositions.put(ms, parts);
            }
        }
        compositions.forEach((ms, parts) -> System.out.printf(Locale.ROOT,
                "%nCOMPOSITION graph.emit-interval %,d ms, the measured half: %s", ms,
                parts.table(measuredEvents)));
    }

    /** Deltas and payload bytes emitted for slots that end at or after {@code measuredFrom}. */
    private static long[] run(List<EnrichedAction> input, long intervalMs, long measuredFrom,
            DeltaComposition composition) throws Exception {
        long[] counts = new long[2];
        replay(input, GraphParameters.builder().flushInterval(Duration.ofMillis(intervalMs))
                .build(), measuredFrom, delta -> {
                    counts[0]++;
                    counts[1] += delta.payload.length;
                    if (composition != null) {
                        composition.add(delta.delta());
                    }
                });
        return counts;
    }

    /**
     * The user-graph operator alone in a test harness on heap state over {@code input}, the
     * watermark {@value #OUT_OF_ORDERNESS_MS} ms behind every 1,000th event: each delta of a
     * slot that ends at or after {@code measuredFrom}, in emission order.
     */
    static void replay(List<EnrichedAction> input, GraphParameters params, long measuredFrom,
            java.util.function.Consumer<DeltaRecord> onDelta) throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new UserGraphFunction(params)),
                (EnrichedAction a) -> a.userId, Types.STRING);
        harness.setStateBackend(new HashMapStateBackend());
        harness.open();
        int since = 0;
        for (EnrichedAction event : input) {
            harness.processElement(new StreamRecord<>(event, event.eventTimeMs));
            if (++since == 1000) {
                since = 0;
                harness.processWatermark(event.eventTimeMs - OUT_OF_ORDERNESS_MS);
                drain(harness.getOutput(), measuredFrom, onDelta);
            }
        }
        harness.processWatermark(Long.MAX_VALUE);
        drain(harness.getOutput(), measuredFrom, onDelta);
        harness.close();
    }

    private static void drain(java.util.Queue<Object> output, long measuredFrom,
            java.util.function.Consumer<DeltaRecord> onDelta) {
        Object record;
        while ((record = output.poll()) != null) {
            if (record instanceof StreamRecord<?> stream
                    && stream.getValue() instanceof DeltaRecord delta
                    && delta.eventTimeMs >= measuredFrom) {
                onDelta.accept(delta);
            }
        }
    }

    /** The workload's events with BenchData-style item vectors (topic direction + noise). */
    static List<EnrichedAction> enriched(E2EWorkload workload, int events) {
        Random random = new Random(7);
        Map<String, float[]> topics = new HashMap<>();
        Map<String, short[]> vectors = new HashMap<>();
        List<EnrichedAction> out = new ArrayList<>(events);
        for (long i = 0; i < events; i++) {
            UserEvent event = workload.event(i);
            String topic = event.getItemId().substring(0, event.getItemId().lastIndexOf('-'));
            short[] vector = vectors.computeIfAbsent(event.getItemId(), item -> {
                float[] direction = topics.computeIfAbsent(topic,
                        t -> normalised(gaussian(random, 1.0)));
                float[] noise = gaussian(random, 0.045); // as BenchData: cosine ≈ 0.56 in a topic
                float[] v = new float[BenchData.DIMENSION];
                for (int d = 0; d < v.length; d++) {
                    v[d] = direction[d] + noise[d];
                }
                return HalfFloats.fromFloats(normalised(v));
            });
            EnrichedAction action = new EnrichedAction();
            action.eventId = event.getEventId();
            action.userId = event.getUserId();
            action.itemId = event.getItemId();
            action.eventTimeMs = event.getEventTimeMs();
            action.action = dev.interestgraph.model.Action.valueOf(event.getAction().name());
            action.value = event.getValue();
            action.vector = vector;
            action.modelVersion = BenchData.MODEL_VERSION;
            action.terms = new String[] {topic, event.getItemId()};
            out.add(action);
        }
        return out;
    }

    private static float[] gaussian(Random random, double sigma) {
        float[] v = new float[BenchData.DIMENSION];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * sigma);
        }
        return v;
    }

    private static float[] normalised(float[] v) {
        double squares = 0;
        for (float x : v) {
            squares += (double) x * x;
        }
        float scale = (float) (1 / Math.sqrt(squares));
        for (int i = 0; i < v.length; i++) {
            v[i] *= scale;
        }
        return v;
    }
}
