package dev.interestgraph.usergraph;

import dev.interestgraph.graph.UserGraph;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

/**
 * What {@link UserGraphSerializer} (the whole graph) and {@link UserGraphSummarySerializer} (the
 * graph without its edges) share: a mutable {@link UserGraph}, variable length, and copies made
 * through the serialized form. Each subclass keeps its own format and its own snapshot class
 * (the snapshot's class name is what savepoints record).
 */
abstract class GraphSerializerBase extends TypeSerializerSingleton<UserGraph> {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public UserGraph createInstance() {
        return new UserGraph();
    }

    /** A deep copy through the serialized form: heap snapshots and tools only, never per event. */
    @Override
    public UserGraph copy(UserGraph from) {
        try {
            DataOutputSerializer out = new DataOutputSerializer(4096);
            serialize(from, out);
            return deserialize(new DataInputDeserializer(out.getSharedBuffer(), 0, out.length()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot copy a UserGraph", e);
        }
    }

    @Override
    public UserGraph copy(UserGraph from, UserGraph reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public UserGraph deserialize(UserGraph reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }
}
