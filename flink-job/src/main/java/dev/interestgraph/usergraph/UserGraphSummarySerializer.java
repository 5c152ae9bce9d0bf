package dev.interestgraph.usergraph;

import dev.interestgraph.graph.UserGraph;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

/**
 * A user's graph without its edges: the operator's {@code graph-summary} value state (issue 16).
 * {@link UserGraphSerializer}'s format with the edge count instead of the edge list — header,
 * interests with their derived fields (member counts, cached ranking prefix, members touched
 * since), profiles — so that a flush on RocksDB reads and writes this one value and only the
 * edges it touches (the {@code graph-edges} map state), and needs no walk over the edges to know
 * their count, the interests' sizes or their top items. A graph read back has
 * {@link dev.interestgraph.graph.EdgeStore#unattached unattached} edges until the operator
 * attaches its map-state store.
 */
public final class UserGraphSummarySerializer extends TypeSerializerSingleton<UserGraph> {
    private static final long serialVersionUID = 1L;
    /** The summary's own format version (it shares the rest with UserGraphSerializer 3). */
    static final int FORMAT_VERSION = 1;

    public static final UserGraphSummarySerializer INSTANCE = new UserGraphSummarySerializer();

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public UserGraph createInstance() {
        return new UserGraph();
    }

    /** A deep copy through the serialized form: heap snapshots only, never per event. */
    @Override
    public UserGraph copy(UserGraph from) {
        try {
            DataOutputSerializer out = new DataOutputSerializer(4096);
            serialize(from, out);
            return deserialize(new DataInputDeserializer(out.getSharedBuffer(), 0, out.length()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot copy a UserGraph summary", e);
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
    public void serialize(UserGraph graph, DataOutputView out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        UserGraphSerializer.write(graph, out, false);
    }

    @Override
    public UserGraph deserialize(DataInputView in) throws IOException {
        int version = in.readUnsignedByte();
        if (version != FORMAT_VERSION) {
            throw new IOException("unknown UserGraph summary format version " + version);
        }
        return UserGraphSerializer.read(in, UserGraphSerializer.FORMAT_VERSION, false);
    }

    @Override
    public UserGraph deserialize(UserGraph reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    @Override
    public TypeSerializerSnapshot<UserGraph> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Serializer snapshot: the format version byte inside each value handles evolution. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<UserGraph> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
