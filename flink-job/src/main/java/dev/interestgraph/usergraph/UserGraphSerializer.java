package dev.interestgraph.usergraph;

import dev.interestgraph.vector.CosineCalibration;
import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.vector.ScaledInt8;
import dev.interestgraph.graph.EdgeStore;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.graph.UserGraph.DecayedMean;
import dev.interestgraph.graph.UserGraph.Edge;
import dev.interestgraph.graph.UserGraph.Interest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Explicit, compact serializer of a whole {@link UserGraph}, edges included (instead of Kryo):
 * varints for counts and times (edge and vector times relative to the graph's epoch), model
 * versions once per graph, half-precision profiles, centroids as int8 codes and a scale
 * ({@link ScaledInt8}), labels made of their interest's terms as the terms' positions, action
 * counts as a bitmask plus the non-zero counts. A user with 50 edges and 5 interests of 384
 * dimensions takes about 6.5 KB as one value (see docs/benchmarks.md).
 *
 * <p>The operator's state before issue 16's layout (one {@code ValueState<UserGraph>} per user,
 * still read to migrate old savepoints) and a deep copy for tools. The operator now keeps the
 * graph without its edges ({@link UserGraphSummarySerializer}, the same format without the edge
 * list) and each edge as a map-state entry ({@link EdgeSerializer}).
 *
 * <p>The format starts with a version byte so that it can evolve without breaking savepoints.
 * Version 3 stores the interests' derived fields (member counts, cached ranking prefix, members
 * touched since); versions 1 and 2 are still read, and the updater derives those fields in one
 * walk the first time it changes such a graph.
 */
public final class UserGraphSerializer extends GraphSerializerBase {
    private static final long serialVersionUID = 1L;
    /**
     * 5 stores a centroid on its int8 grid as codes and a scale ({@link ScaledInt8}; issue 16's
     * state size step 2), each vector's times as varints (the last update relative to the
     * epoch, the last send relative to the last update) and a label made of the interest's
     * terms as their positions; 4 added the graph's cosine calibration
     * (issue 19; one byte when there is none); 3 added the interests' derived fields; 2 added
     * what the delta topic was last sent of each vector; 1 to 4 are still read.
     */
    static final int FORMAT_VERSION = 5;

    public static final UserGraphSerializer INSTANCE = new UserGraphSerializer();

    @Override
    public void serialize(UserGraph graph, DataOutputView out) throws IOException {
        serialize(graph, out, FORMAT_VERSION);
    }

    /**
     * Writes {@code graph} in format {@code version}, 4 or 5: the current one, or the one before
     * it, for the tests that restore today's savepoints (a centroid on its int8 grid is written
     * as its halves in 4, which are the same values).
     */
    static void serialize(UserGraph graph, DataOutputView out, int version) throws IOException {
        out.writeByte(version);
        write(graph, out, true, version);
    }

    /**
     * The graph after the version byte, in format {@code version} (4 or 5): header, edges (or,
     * without {@code withEdges}, only their count), interests with their derived fields,
     * profiles.
     */
    static void write(UserGraph graph, DataOutputView out, boolean withEdges, int version)
            throws IOException {
        if (version != FORMAT_VERSION && version != 4) {
            throw new IllegalArgumentException("cannot write UserGraph format " + version);
        }
        out.writeLong(graph.epoch);
        VarInts.writeUnsigned(out, graph.seq);
        out.writeLong(graph.lastEventMs);
        out.writeLong(graph.maintenanceTimerMs);
        VarInts.writeUnsigned(out, graph.nextInterestId);

        if (withEdges) {
            writeEdges(graph, out);
        } else {
            VarInts.writeUnsigned(out, graph.edges.size());
        }

        boolean derived = graph.derivedKnown();
        out.writeBoolean(derived);
        VarInts.writeUnsigned(out, graph.interests.size());
        for (Interest interest : graph.interests.values()) {
            VarInts.writeUnsigned(out, interest.id);
            writeMean(interest.centroid, graph.epoch, out, version);
            out.writeInt(interest.sentTopItemsHash);
            if (version < 5) {
                out.writeUTF(interest.label);
            }
            VarInts.writeUnsigned(out, interest.terms.size());
            for (Map.Entry<String, Float> term : interest.terms.entrySet()) {
                out.writeUTF(term.getKey());
                out.writeFloat(term.getValue());
            }
            if (version >= 5) {
                writeLabel(interest, out);
            }
            if (derived) {
                writeDerived(interest, out);
            }
        }
        writeOptionalMean(graph.longTerm, graph.epoch, out, version);
        writeOptionalMean(graph.shortTerm, graph.epoch, out, version);
        out.writeBoolean(graph.calibration != null);
        if (graph.calibration != null) {
            out.writeUTF(graph.calibrationVersion);
            out.writeDouble(graph.calibration.baseMean);
            out.writeDouble(graph.calibration.baseStd);
            out.writeDouble(graph.calibration.mean);
            out.writeDouble(graph.calibration.std);
        }
    }

    /**
     * The label (format 5), after the terms: a label is nearly always up to
     * {@link dev.interestgraph.graph.InterestLabels#LABEL_TERMS} of the interest's own terms
     * joined by ", ", so it is written as their count and their positions among the terms (a
     * byte each instead of ~25 bytes of text); 0 and the text for any other label ("#id"
     * suffixes, the empty label, a term that itself contains ", ").
     */
    private static void writeLabel(Interest interest, DataOutputView out) throws IOException {
        String[] parts = interest.label.isEmpty() ? null : LABEL_SEPARATOR.split(interest.label, -1);
        int[] positions = parts == null || parts.length > 127 ? null : new int[parts.length];
        for (int i = 0; positions != null && i < parts.length; i++) {
            positions[i] = interest.terms.containsKey(parts[i])
                    ? interest.terms.headMap(parts[i]).size() : -1;
            if (positions[i] < 0) {
                positions = null;
            }
        }
        if (positions == null) {
            VarInts.writeUnsigned(out, 0);
            out.writeUTF(interest.label);
            return;
        }
        // the parts joined by the separator are the label again, whatever the terms contain
        VarInts.writeUnsigned(out, positions.length);
        for (int position : positions) {
            VarInts.writeUnsigned(out, position);
        }
    }

    private static final java.util.regex.Pattern LABEL_SEPARATOR =
            java.util.regex.Pattern.compile(", ", java.util.regex.Pattern.LITERAL);

    private static String readLabel(Interest interest, DataInputView in) throws IOException {
        int count = (int) VarInts.readUnsigned(in);
        if (count == 0) {
            return in.readUTF();
        }
        String[] terms = interest.terms.keySet().toArray(new String[0]);
        StringBuilder label = new StringBuilder();
        for (int i = 0; i < count; i++) {
            int position = (int) VarInts.readUnsigned(in);
            if (position >= terms.length) {
                throw new IOException("label term " + position + " of " + terms.length);
            }
            label.append(i == 0 ? "" : ", ").append(terms[position]);
        }
        return label.toString();
    }

    private static void writeEdges(UserGraph graph, DataOutputView out) throws IOException {
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
            EdgeSerializer.writeCounts(edge, out);
            VarInts.writeSigned(out, edge.interestId);
            VarInts.writeUnsigned(out, versions.indexOf(edge.modelVersion));
        }
    }

    /**
     * Size, cached ranking prefix (ids with their edges' weights and last times, the times
     * relative to the ranking's), whether complete, when ranked, members touched since.
     */
    private static void writeDerived(Interest interest, DataOutputView out) throws IOException {
        VarInts.writeUnsigned(out, interest.size());
        List<String> top = interest.cachedTop();
        VarInts.writeUnsigned(out, top == null ? 0 : top.size() + 1);
        if (top == null) {
            return;
        }
        long atMs = interest.cachedTopAtMs();
        for (int i = 0; i < top.size(); i++) {
            out.writeUTF(top.get(i));
            out.writeDouble(interest.cachedTopWeights()[i]);
            VarInts.writeSigned(out, atMs - interest.cachedTopLastMs()[i]);
        }
        out.writeBoolean(interest.cachedTopComplete());
        out.writeLong(atMs);
        VarInts.writeUnsigned(out, interest.touchedMembers().size());
        for (String itemId : interest.touchedMembers()) {
            out.writeUTF(itemId);
        }
    }

    private static void readDerived(Interest interest, DataInputView in) throws IOException {
        int size = (int) VarInts.readUnsigned(in);
        int topLength = (int) VarInts.readUnsigned(in) - 1;
        if (topLength < 0) {
            interest.restoreDerived(size, null, null, null, false, 0, List.of());
            return;
        }
        List<String> top = new ArrayList<>(topLength);
        double[] weights = new double[topLength];
        long[] before = new long[topLength];
        for (int i = 0; i < topLength; i++) {
            top.add(in.readUTF());
            weights[i] = in.readDouble();
            before[i] = VarInts.readSigned(in);
        }
        boolean complete = in.readBoolean();
        long atMs = in.readLong();
        long[] lastMs = new long[topLength];
        for (int i = 0; i < topLength; i++) {
            lastMs[i] = atMs - before[i];
        }
        int touchedCount = (int) VarInts.readUnsigned(in);
        List<String> touched = new ArrayList<>(touchedCount);
        for (int i = 0; i < touchedCount; i++) {
            touched.add(in.readUTF());
        }
        interest.restoreDerived(size, top, weights, lastMs, complete, atMs, touched);
    }

    @Override
    public UserGraph deserialize(DataInputView in) throws IOException {
        int version = in.readUnsignedByte();
        if (version < 1 || version > FORMAT_VERSION) {
            throw new IOException("unknown UserGraph format version " + version);
        }
        return read(in, version, true);
    }

    /**
     * Reads what {@link #write} wrote in format {@code version}; without {@code withEdges} the
     * graph's edges are {@link EdgeStore#unattached} with the stored count.
     */
    static UserGraph read(DataInputView in, int version, boolean withEdges) throws IOException {
        UserGraph graph = new UserGraph();
        graph.epoch = in.readLong();
        graph.seq = VarInts.readUnsigned(in);
        graph.lastEventMs = in.readLong();
        graph.maintenanceTimerMs = in.readLong();
        graph.nextInterestId = (int) VarInts.readUnsigned(in);

        if (withEdges) {
            readEdges(graph, in);
        } else {
            graph.edges = EdgeStore.unattached((int) VarInts.readUnsigned(in));
        }

        boolean derived = version >= 3 && in.readBoolean();
        int interests = (int) VarInts.readUnsigned(in);
        for (int i = 0; i < interests; i++) {
            Interest interest = new Interest((int) VarInts.readUnsigned(in),
                    readMean(in, graph.epoch, version));
            if (version >= 2) {
                interest.sentTopItemsHash = in.readInt();
            }
            if (version < 5) {
                interest.label = in.readUTF();
            }
            int terms = (int) VarInts.readUnsigned(in);
            for (int t = 0; t < terms; t++) {
                interest.terms.put(in.readUTF(), in.readFloat());
            }
            if (version >= 5) {
                interest.label = readLabel(interest, in);
            }
            if (derived) {
                readDerived(interest, in);
            }
            graph.interests.put(interest.id, interest);
        }
        graph.longTerm = readOptionalMean(in, graph.epoch, version);
        graph.shortTerm = readOptionalMean(in, graph.epoch, version);
        if (version >= 4 && in.readBoolean()) {
            graph.calibrationVersion = in.readUTF();
            graph.calibration = new CosineCalibration(in.readDouble(), in.readDouble(),
                    in.readDouble(), in.readDouble());
        }
        if (derived) {
            graph.derivedRestored();
        }
        return graph;
    }

    private static void readEdges(UserGraph graph, DataInputView in) throws IOException {
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
            EdgeSerializer.readCounts(edge, in);
            edge.interestId = (int) VarInts.readSigned(in);
            edge.modelVersion = versions[(int) VarInts.readUnsigned(in)];
            graph.edges.put(edge);
        }
    }

    /**
     * A mean in format 5: its length and whether it is on its int8 grid in one varint, then
     * either the grid's scale (a half) and a byte per component, or the halves; weight; the last
     * update relative to the graph's epoch; model version; the angle moved since last sent; the
     * last send relative to the last update (0 when never sent). Format 4: the length, the
     * halves, weight, times as longs.
     */
    static void writeMean(DecayedMean mean, long epoch, DataOutputView out, int version)
            throws IOException {
        if (version < 5) {
            VarInts.writeUnsigned(out, mean.mean.length);
            out.write(halvesToBytes(mean.mean));
            out.writeDouble(mean.weight);
            out.writeLong(mean.lastMs);
            out.writeUTF(mean.modelVersion);
            out.writeFloat(mean.sentAngle);
            out.writeLong(mean.sentMs);
            return;
        }
        boolean gridded = !Float.isNaN(mean.scale);
        VarInts.writeUnsigned(out, (long) mean.mean.length << 1 | (gridded ? 1 : 0));
        if (gridded) {
            out.writeShort(HalfFloats.toHalf(mean.scale));
            out.write(mean.codes != null ? mean.codes : ScaledInt8.codes(mean.mean, mean.scale));
        } else {
            // the vector as one byte array (little-endian halves), not a call per component
            out.write(halvesToBytes(mean.mean));
        }
        out.writeDouble(mean.weight);
        VarInts.writeSigned(out, mean.lastMs - epoch);
        out.writeUTF(mean.modelVersion);
        out.writeFloat(mean.sentAngle);
        VarInts.writeUnsigned(out, mean.sentMs == Long.MIN_VALUE
                ? 0 : 1 + zigZag(mean.lastMs - mean.sentMs));
    }

    private static long zigZag(long value) {
        return (value << 1) ^ (value >> 63);
    }

    private static long unZigZag(long raw) {
        return (raw >>> 1) ^ -(raw & 1);
    }

    /**
     * Halves as little-endian bytes: one bulk copy through a little-endian view (a memory copy
     * on a little-endian machine) instead of two stores per component, which were ~4 % of the
     * RocksDB pass's samples each way.
     */
    static byte[] halvesToBytes(short[] halves) {
        byte[] bytes = new byte[halves.length * 2];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().put(halves);
        return bytes;
    }

    /** Fills {@code halves} from little-endian {@code bytes} (the inverse of the above). */
    static void halvesFromBytes(byte[] bytes, short[] halves) {
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(halves);
    }

    static DecayedMean readMean(DataInputView in, long epoch, int version) throws IOException {
        if (version >= 5) {
            long header = VarInts.readUnsigned(in);
            short[] vector = new short[(int) (header >>> 1)];
            float scale = Float.NaN;
            byte[] codes = null;
            if ((header & 1) != 0) {
                scale = HalfFloats.toFloat(in.readShort());
                codes = new byte[vector.length];
                in.readFully(codes);
                ScaledInt8.decode(codes, scale, vector);
            } else {
                byte[] bytes = new byte[vector.length * 2];
                in.readFully(bytes);
                halvesFromBytes(bytes, vector);
            }
            double weight = in.readDouble();
            long lastMs = epoch + VarInts.readSigned(in);
            DecayedMean mean = new DecayedMean(vector, weight, lastMs, in.readUTF());
            mean.scale = scale;
            mean.codes = codes; // written back as they are while the mean stays unchanged
            mean.sentAngle = in.readFloat();
            long sent = VarInts.readUnsigned(in);
            mean.sentMs = sent == 0 ? Long.MIN_VALUE : lastMs - unZigZag(sent - 1);
            return mean;
        }
        short[] vector = new short[(int) VarInts.readUnsigned(in)];
        if (version >= 2) {
            byte[] bytes = new byte[vector.length * 2];
            in.readFully(bytes);
            halvesFromBytes(bytes, vector);
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

    private static void writeOptionalMean(DecayedMean mean, long epoch, DataOutputView out,
            int version) throws IOException {
        out.writeBoolean(mean != null);
        if (mean != null) {
            writeMean(mean, epoch, out, version);
        }
    }

    private static DecayedMean readOptionalMean(DataInputView in, long epoch, int version)
            throws IOException {
        return in.readBoolean() ? readMean(in, epoch, version) : null;
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
