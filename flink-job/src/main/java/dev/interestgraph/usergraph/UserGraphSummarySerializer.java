package dev.interestgraph.usergraph;

import dev.interestgraph.graph.UserGraph;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
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
public final class UserGraphSummarySerializer extends GraphSerializerBase {
    private static final long serialVersionUID = 1L;
    /**
     * The summary's own format version: 3 shares the rest with UserGraphSerializer 5 (centroids
     * as int8 codes, the vectors' times as varints), 2 (still read) with UserGraphSerializer 4
     * (the cosine calibration, issue 19), 1 (still read) with UserGraphSerializer 3.
     */
    static final int FORMAT_VERSION = 3;

    public static final UserGraphSummarySerializer INSTANCE = new UserGraphSummarySerializer();

    @Override
    public void serialize(UserGraph graph, DataOutputView out) throws IOException {
        serialize(graph, out, FORMAT_VERSION);
    }

    /** Writes format {@code version}, 2 or 3 (2 for the tests that restore today's state). */
    static void serialize(UserGraph graph, DataOutputView out, int version) throws IOException {
        out.writeByte(version);
        UserGraphSerializer.write(graph, out, false, version == 2 ? 4 : 5);
    }

    @Override
    public UserGraph deserialize(DataInputView in) throws IOException {
        int version = in.readUnsignedByte();
        if (version < 1 || version > FORMAT_VERSION) {
            throw new IOException("unknown UserGraph summary format version " + version);
        }
        return UserGraphSerializer.read(in, version == 1 ? 3 : version == 2 ? 4 : 5, false);
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
