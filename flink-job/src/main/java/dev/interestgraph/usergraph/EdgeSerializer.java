package dev.interestgraph.usergraph;

import dev.interestgraph.graph.UserGraph.Edge;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * The value of one edge in the operator's {@code graph-edges} map state (the item id is the
 * map's key and is not written: a deserialized edge has a null id until the store gives it its
 * key). Compact: the weight as a double (the updater computes with it; a float would change the
 * deltas after a restore), times as varints, action counts as a bitmask plus the non-zero counts,
 * the interest id as a signed varint, the model version as a string.
 *
 * <p>No version byte per value (50 edges would pay 50 bytes): the format version is in the
 * serializer's {@link Snapshot}, so that a later format restores the old one through Flink's
 * state migration ({@code compatibleAfterMigration}).
 */
public final class EdgeSerializer extends TypeSerializer<Edge> {
    private static final long serialVersionUID = 1L;
    /** The format written. */
    static final int FORMAT_VERSION = 1;

    public static final EdgeSerializer INSTANCE = new EdgeSerializer(FORMAT_VERSION);

    /** The format this instance reads (a restored snapshot's; writes only the current one). */
    private final int format;

    private EdgeSerializer(int format) {
        this.format = format;
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<Edge> duplicate() {
        return this; // stateless
    }

    @Override
    public Edge createInstance() {
        return new Edge(null, 0L);
    }

    @Override
    public Edge copy(Edge from) {
        return new Edge(from.itemId, from);
    }

    @Override
    public Edge copy(Edge from, Edge reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(Edge edge, DataOutputView out) throws IOException {
        out.writeDouble(edge.weight);
        VarInts.writeSigned(out, edge.firstMs);
        VarInts.writeUnsigned(out, edge.lastMs - edge.firstMs);
        writeCounts(edge, out);
        VarInts.writeSigned(out, edge.interestId);
        out.writeUTF(edge.modelVersion);
    }

    @Override
    public Edge deserialize(DataInputView in) throws IOException {
        double weight = in.readDouble();
        Edge edge = new Edge(null, VarInts.readSigned(in));
        edge.weight = weight;
        edge.lastMs = edge.firstMs + VarInts.readUnsigned(in);
        readCounts(edge, in);
        edge.interestId = (int) VarInts.readSigned(in);
        edge.modelVersion = in.readUTF();
        return edge;
    }

    @Override
    public Edge deserialize(Edge reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    /** Action counts: a bitmask of the non-zero ones, then those as varints. */
    static void writeCounts(Edge edge, DataOutputView out) throws IOException {
        int present = 0;
        for (int i = 0; i < edge.actionCounts.length; i++) {
            if (edge.actionCounts[i] != 0) {
                present |= 1 << i;
            }
        }
        out.writeByte(present);
        for (int count : edge.actionCounts) {
            if (count != 0) {
                VarInts.writeUnsigned(out, count);
            }
        }
    }

    static void readCounts(Edge edge, DataInputView in) throws IOException {
        int present = in.readUnsignedByte();
        for (int i = 0; i < edge.actionCounts.length; i++) {
            if ((present & (1 << i)) != 0) {
                edge.actionCounts[i] = (int) VarInts.readUnsigned(in);
            }
        }
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof EdgeSerializer other && other.format == format;
    }

    @Override
    public int hashCode() {
        return EdgeSerializer.class.hashCode() + format;
    }

    @Override
    public TypeSerializerSnapshot<Edge> snapshotConfiguration() {
        return new Snapshot(format);
    }

    /** Records the edge format version; an older one restores through state migration. */
    public static final class Snapshot implements TypeSerializerSnapshot<Edge> {
        private int format;

        /** For Flink's reflective instantiation when reading a snapshot. */
        public Snapshot() {
            this(FORMAT_VERSION);
        }

        Snapshot(int format) {
            this.format = format;
        }

        @Override
        public int getCurrentVersion() {
            return FORMAT_VERSION;
        }

        @Override
        public void writeSnapshot(DataOutputView out) {
            // the format is the snapshot's version: nothing else to write
        }

        @Override
        public void readSnapshot(int readVersion, DataInputView in, ClassLoader classLoader)
                throws IOException {
            if (readVersion < 1 || readVersion > FORMAT_VERSION) {
                throw new IOException("unknown edge format version " + readVersion);
            }
            format = readVersion;
        }

        @Override
        public TypeSerializer<Edge> restoreSerializer() {
            return format == FORMAT_VERSION ? INSTANCE : new EdgeSerializer(format);
        }

        @Override
        public TypeSerializerSchemaCompatibility<Edge> resolveSchemaCompatibility(
                TypeSerializerSnapshot<Edge> oldSnapshot) {
            if (!(oldSnapshot instanceof Snapshot old)) {
                return TypeSerializerSchemaCompatibility.incompatible();
            }
            return old.format == FORMAT_VERSION
                    ? TypeSerializerSchemaCompatibility.compatibleAsIs()
                    : TypeSerializerSchemaCompatibility.compatibleAfterMigration();
        }
    }
}
