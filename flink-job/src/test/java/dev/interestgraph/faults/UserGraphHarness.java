package dev.interestgraph.faults;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.usergraph.UserGraphFunction;
import dev.interestgraph.usergraph.UserGraphSerializer;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v1.GraphDelta;
import dev.interestgraph.testing.HashingTestEmbedder;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

/** The real {@code user-graph} operator in Flink's keyed test harness, with state accessors. */
final class UserGraphHarness implements AutoCloseable {
    final KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> harness;
    /** Decodes the operator's v2 deltas as a consumer would (it holds what was last sent). */
    private final DeltaMaterializer decoder = new DeltaMaterializer();

    UserGraphHarness(Configuration config) throws Exception {
        this(config, null);
    }

    /** A harness restored from {@code snapshot} (null: fresh). */
    UserGraphHarness(Configuration config, OperatorSubtaskState snapshot) throws Exception {
        harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new UserGraphFunction(InterestGraphOptions.graphParameters(config))),
                action -> action.userId, Types.STRING);
        if (snapshot != null) {
            harness.initializeState(snapshot);
        }
        harness.open();
    }

    void send(EnrichedAction action) throws Exception {
        harness.processElement(new StreamRecord<>(action, action.eventTimeMs));
    }

    void watermark(long timeMs) throws Exception {
        harness.processWatermark(timeMs);
    }

    /**
     * The deltas emitted since the last call, decoded from contract v2 as a consumer sees them
     * (self-contained v1 form); the harness output is emptied.
     */
    List<GraphDelta> drain() {
        List<GraphDelta> deltas = new ArrayList<>();
        Object record;
        while ((record = harness.getOutput().poll()) != null) {
            if (record instanceof StreamRecord) {
                deltas.add(decoder.decodeAndApply(
                        ((DeltaRecord) ((StreamRecord<?>) record).getValue()).delta()));
            }
        }
        return deltas;
    }

    /** The wire deltas (contract v2) emitted since the last call; the output is emptied. */
    List<dev.interestgraph.proto.v2.GraphDelta> drainWire() {
        List<dev.interestgraph.proto.v2.GraphDelta> deltas = new ArrayList<>();
        Object record;
        while ((record = harness.getOutput().poll()) != null) {
            if (record instanceof StreamRecord) {
                dev.interestgraph.proto.v2.GraphDelta delta =
                        ((DeltaRecord) ((StreamRecord<?>) record).getValue()).delta();
                decoder.decodeAndApply(delta);
                deltas.add(delta);
            }
        }
        return deltas;
    }

    /** The user's graph as stored in keyed state; null when there is none. */
    UserGraph graph(String user) throws Exception {
        harness.getOperator().setCurrentKey(user);
        return UserGraphFunction.graphOf(harness.getOperator().getKeyedStateBackend());
    }

    /** How many actions of the user wait for their flush. */
    int pendingActions(String user) throws Exception {
        harness.getOperator().setCurrentKey(user);
        // the operator's own descriptor (name and types), as UserGraphFunction declares it
        Iterable<EnrichedAction> actions = harness.getOperator().getKeyedStateBackend()
                .getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                        new ListStateDescriptor<>("pending-events",
                                dev.interestgraph.usergraph.PendingActionSerializer.INSTANCE))
                .get();
        int n = 0;
        for (EnrichedAction ignored : actions == null ? List.<EnrichedAction>of() : actions) {
            n++;
        }
        return n;
    }

    /** The user's graph state in bytes, as the state backend writes it. */
    static int serializedSize(UserGraph graph) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(16 * 1024);
        UserGraphSerializer.INSTANCE.serialize(graph, out);
        return out.length();
    }

    static EnrichedAction action(String eventId, String user, String item, Action action,
            long timeMs) {
        EnrichedAction enriched = new EnrichedAction();
        enriched.eventId = eventId;
        enriched.userId = user;
        enriched.itemId = item;
        enriched.action = action;
        enriched.eventTimeMs = timeMs;
        enriched.terms = new String[0];
        return enriched;
    }

    /** An action on an item whose text was embedded by the hashing test embedder. */
    static EnrichedAction withVector(EnrichedAction action, short[] vector, String... terms) {
        action.vector = vector;
        action.modelVersion = HashingTestEmbedder.MODEL_VERSION;
        action.terms = terms;
        return action;
    }

    static short[] vectorOf(String text) {
        return HalfFloats.fromFloats(HashingTestEmbedder.embed(text));
    }

    @Override
    public void close() throws Exception {
        harness.close();
    }
}
