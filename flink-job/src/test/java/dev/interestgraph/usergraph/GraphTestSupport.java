package dev.interestgraph.usergraph;

import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.vector.VectorMath;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v1.DeltaOp;
import dev.interestgraph.proto.v1.GraphDelta;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

/** Builders and harness helpers for user-graph tests. */
final class GraphTestSupport {
    static final long T0 = 1_700_000_000_000L;
    static final long DAY = 24L * 3600 * 1000;
    static final String VERSION = "v1";

    private GraphTestSupport() {}

    static KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> harness(
            Configuration config) throws Exception {
        KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> harness =
                unopened(config);
        harness.open();
        return harness;
    }

    static KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> unopened(
            Configuration config) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new UserGraphFunction(InterestGraphOptions.graphParameters(config))),
                action -> action.userId, Types.STRING);
    }

    private static int counter;

    static EnrichedAction action(String user, String item, Action action, long timeMs) {
        return action(user, item, action, timeMs, null);
    }

    static EnrichedAction action(String user, String item, Action action, long timeMs,
            float[] vector, String... terms) {
        EnrichedAction enriched = new EnrichedAction();
        enriched.eventId = "e" + (counter++);
        enriched.userId = user;
        enriched.itemId = item;
        enriched.action = action;
        enriched.eventTimeMs = timeMs;
        if (vector != null) {
            enriched.vector = HalfFloats.fromFloats(vector);
            enriched.modelVersion = VERSION;
        }
        enriched.terms = terms;
        return enriched;
    }

    static EnrichedAction rate(String user, String item, double stars, long timeMs) {
        EnrichedAction enriched = action(user, item, Action.RATE, timeMs);
        enriched.value = stars;
        return enriched;
    }

    /** A unit vector along axis {@code i}, tilted towards axis {@code j} by {@code tilt}. */
    static float[] unit(int i, int j, float tilt) {
        float[] v = new float[8];
        v[i] = 1f;
        v[j] += tilt;
        return VectorMath.normalized(v);
    }

    static void send(KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> h,
            EnrichedAction action) throws Exception {
        h.processElement(new StreamRecord<>(action, action.eventTimeMs));
    }

    /** Per harness, the consumer that decodes its v2 deltas (it holds what was last sent). */
    private static final Map<Object, DeltaMaterializer> DECODERS =
            Collections.synchronizedMap(new WeakHashMap<>());

    /**
     * The deltas emitted so far, in order, decoded from contract v2 as a consumer sees them
     * (self-contained v1 form: vectors filled in, dequantised); the harness output is drained.
     */
    static List<GraphDelta> drain(
            KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> h) {
        DeltaMaterializer decoder = DECODERS.computeIfAbsent(h, x -> new DeltaMaterializer());
        List<GraphDelta> deltas = new ArrayList<>();
        ConcurrentLinkedQueue<Object> output = h.getOutput();
        Object record;
        while ((record = output.poll()) != null) {
            if (record instanceof StreamRecord) {
                deltas.add(decoder.decodeAndApply(
                        ((DeltaRecord) ((StreamRecord<?>) record).getValue()).delta()));
            }
        }
        return deltas;
    }

    /**
     * Sends each action with the watermark 1 s past it, then the wire deltas (contract v2): what
     * was sent, not a consumer's decoded view of it.
     */
    static List<dev.interestgraph.proto.v2.GraphDelta> replay(
            KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> h,
            List<EnrichedAction> actions) throws Exception {
        for (EnrichedAction a : actions) {
            send(h, a);
            h.processWatermark(a.eventTimeMs + 1000);
        }
        return drainWire(h);
    }

    /** The wire deltas (contract v2) emitted so far, in order; the harness output is drained. */
    static List<dev.interestgraph.proto.v2.GraphDelta> drainWire(
            KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> h) {
        List<dev.interestgraph.proto.v2.GraphDelta> deltas = new ArrayList<>();
        Object record;
        while ((record = h.getOutput().poll()) != null) {
            if (record instanceof StreamRecord) {
                deltas.add(((DeltaRecord) ((StreamRecord<?>) record).getValue()).delta());
            }
        }
        return deltas;
    }

    static List<DeltaOp> ops(List<GraphDelta> deltas, DeltaOp.OpCase kind) {
        return deltas.stream().flatMap(d -> d.getOpsList().stream())
                .filter(op -> op.getOpCase() == kind).collect(Collectors.toList());
    }

    static UserGraph stateOf(
            KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> h,
            String user) throws Exception {
        h.getOperator().setCurrentKey(user);
        return UserGraphFunction.graphOf(h.getOperator().getKeyedStateBackend());
    }

    static DeltaMaterializer materialize(List<GraphDelta> deltas) {
        DeltaMaterializer materializer = new DeltaMaterializer();
        deltas.forEach(materializer::apply);
        return materializer;
    }
}
