package dev.interestgraph.usergraph;

import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.graph.UserGraph.DecayedMean;
import dev.interestgraph.graph.UserGraph.Edge;
import dev.interestgraph.graph.UserGraph.Interest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Explicit, compact serializer of {@link UserGraph} (instead of Kryo): varints for counts and
 * times (edge times relative to the graph's epoch), model versions once per graph, half-precision
 * vectors, action counts as a bitmask plus the non-zero counts. A user with
 * 50 edges and 5 interests of 384 dimensions takes about 7 KB (see docs/benchmarks.md).
 *
 * <p>The format starts with a version byte so that it can evolve without breaking savepoints.
 */
public final class UserGraphSerializer extends TypeSerializerSingleton<UserGraph> {
    private static final long serialVersionUID = 1L;
    /** 2 adds what the delta topic was last sent of each vector; 1 is still read. */
    private static final int FORMAT_VERSION = 2;

    public static final UserGraphSerializer INSTANCE = new UserGraphSerializer();

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public UserGraph createInstance() {
        return new UserGraph();
    }

    /** A deep copy through the serialized form: used only by heap snapshots, never per event. */
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
    public void serialize(UserGraph graph, DataOutputView out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        out.writeLong(graph.epoch);
        VarInts.writeUnsigned(out, graph.seq);
        out.writeLong(graph.lastEventMs);
        out.writeLong(graph.maintenanceTimerMs);
        VarInts.writeUnsigned(out, graph.nextInterestId);

        // model versions once per graph; each edge refers to one by index
        List<String> versions = new ArrayList<>();
        for (Edge edge : graph.edges.values()) {
            if (!versions.contains(edge.modelVersion)) {
                versions.add(edge.modelVersion);
            }
        }
        VarInts.writeUnsigned(out, versions.size());
        for (String version : versions) {
            out.writeUTF(version);
        }

        VarInts.writeUnsigned(out, graph.edges.size());
        for (Edge edge : graph.edges.values()) {
            out.writeUTF(edge.itemId);
            out.writeDouble(edge.weight);
            VarInts.writeSigned(out, edge.firstMs - graph.epoch);
            VarInts.writeUnsigned(out, edge.lastMs - edge.firstMs);
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
            VarInts.writeSigned(out, edge.interestId);
            VarInts.writeUnsigned(out, versions.indexOf(edge.modelVersion));
        }

        VarInts.writeUnsigned(out, graph.interests.size());
        for (Interest interest : graph.interests.values()) {
            VarInts.writeUnsigned(out, interest.id);
            writeMean(interest.centroid, out);
            out.writeInt(interest.sentTopItemsHash);
            out.writeUTF(interest.label);
            VarInts.writeUnsigned(out, interest.terms.size());
            for (Map.Entry<String, Float> term : interest.terms.entrySet()) {
                out.writeUTF(term.getKey());
                out.writeFloat(term.getValue());
            }
        }
        writeOptionalMean(graph.longTerm, out);
        writeOptionalMean(graph.shortTerm, out);
    }

    @Override
    public UserGraph deserialize(DataInputView in) throws IOException {
        int version = in.readUnsignedByte();
        if (version != FORMAT_VERSION && version != 1) {
            throw new IOException("unknown UserGraph format version " + version);
        }
        UserGraph graph = new UserGraph();
        graph.epoch = in.readLong();
        graph.seq = VarInts.readUnsigned(in);
        graph.lastEventMs = in.readLong();
        graph.maintenanceTimerMs = in.readLong();
        graph.nextInterestId = (int) VarInts.readUnsigned(in);

        String[] versions = new String[(int) VarInts.readUnsigned(in)];
        for (int v = 0; v < versions.length; v++) {
            versions[v] = in.readUTF();
        }

        int edges = (int) VarInts.readUnsigned(in);
        for (int e = 0; e < edges; e++) {
            Edge edge = new Edge(in.readUTF(), 0);
            edge.weight = in.readDouble();
            edge.firstMs = graph.epoch + VarInts.readSigned(in);
            edge.lastMs = edge.firstMs + VarInts.readUnsigned(in);
            int present = in.readUnsignedByte();
            for (int i = 0; i < edge.actionCounts.length; i++) {
                if ((present & (1 << i)) != 0) {
                    edge.actionCounts[i] = (int) VarInts.readUnsigned(in);
                }
            }
            edge.interestId = (int) VarInts.readSigned(in);
            edge.modelVersion = versions[(int) VarInts.readUnsigned(in)];
            graph.edges.put(edge);
        }

        int interests = (int) VarInts.readUnsigned(in);
        for (int i = 0; i < interests; i++) {
            Interest interest = new Interest((int) VarInts.readUnsigned(in), readMean(in, version));
            if (version >= 2) {
                interest.sentTopItemsHash = in.readInt();
            }
            interest.label = in.readUTF();
            int terms = (int) VarInts.readUnsigned(in);
            for (int t = 0; t < terms; t++) {
                interest.terms.put(in.readUTF(), in.readFloat());
            }
            graph.interests.put(interest.id, interest);
        }
        graph.longTerm = readOptionalMean(in, version);
        graph.shortTerm = readOptionalMean(in, version);
        return graph;
    }

    @Override
    public UserGraph deserialize(UserGraph reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    private static void writeMean(DecayedMean mean, DataOutputView out) throws IOException {
        VarInts.writeUnsigned(out, mean.mean.length);
        // the vector as one byte array (little-endian halves), not a call per component
        byte[] bytes = new byte[mean.mean.length * 2];
        for (int i = 0; i < mean.mean.length; i++) {
            bytes[2 * i] = (byte) mean.mean[i];
            bytes[2 * i + 1] = (byte) (mean.mean[i] >>> 8);
        }
        out.write(bytes);
        out.writeDouble(mean.weight);
        out.writeLong(mean.lastMs);
        out.writeUTF(mean.modelVersion);
        out.writeFloat(mean.sentAngle);
        out.writeLong(mean.sentMs);
    }

    private static DecayedMean readMean(DataInputView in, int version) throws IOException {
        short[] vector = new short[(int) VarInts.readUnsigned(in)];
        if (version >= 2) {
            byte[] bytes = new byte[vector.length * 2];
            in.readFully(bytes);
            for (int i = 0; i < vector.length; i++) {
                vector[i] = (short) ((bytes[2 * i] & 0xff) | (bytes[2 * i + 1] & 0xff) << 8);
            }
        } else {
            for (int i = 0; i < vector.length; i++) {
                vector[i] = in.readShort();
            }
        }
        DecayedMean mean = new DecayedMean(vector, in.readDouble(), in.readLong(), in.readUTF());
        if (version >= 2) {
            mean.sentAngle = in.readFloat();
            mean.sentMs = in.readLong();
        }
        return mean;
    }

    private static void writeOptionalMean(DecayedMean mean, DataOutputView out) throws IOException {
        out.writeBoolean(mean != null);
        if (mean != null) {
            writeMean(mean, out);
        }
    }

    private static DecayedMean readOptionalMean(DataInputView in, int version) throws IOException {
        return in.readBoolean() ? readMean(in, version) : null;
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
