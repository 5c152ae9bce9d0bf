package dev.interestgraph.usergraph;

import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.vector.CosineCalibration;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.api.java.typeutils.runtime.PojoSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

/**
 * The user-graph operator's actions waiting for their flush ({@code pending-events}, and
 * {@code held-flush-events} with fine-tuning): every field of an {@link EnrichedAction}, its
 * vector's halves as one block of little-endian bytes. Flink's POJO serializer, used before,
 * set each field by reflection and wrote the vector one {@code writeShort} per component; each
 * action is written once and read back once at its flush, so that was ~8 % of the RocksDB
 * pass's samples (docs/benchmarks.md, "RocksDB state layout step 3").
 *
 * <p>A snapshot written with the POJO serializer restores through Flink's state migration
 * ({@link Snapshot#resolveSchemaCompatibility}: compatible after migration), so a savepoint
 * taken before this serializer existed still restores with its pending actions.
 *
 * <p>Layout: a bitmask of the non-null fields (two bytes), the event time and value, then each
 * present field: strings as Flink's {@link StringValue} (any length), the action as its
 * ordinal (as {@link EdgeSerializer}'s action counts are indexed: the order of {@link Action}'s
 * constants is part of the state format; append new ones), the vector as a varint length plus its halves, terms as a varint count plus
 * strings, the event-text vector as a varint length plus little-endian floats, the cosine
 * calibration (issue 19) as its four doubles.
 */
public final class PendingActionSerializer extends TypeSerializerSingleton<EnrichedAction> {
    private static final long serialVersionUID = 1L;

    public static final PendingActionSerializer INSTANCE = new PendingActionSerializer();

    private static final Action[] ACTIONS = Action.values();
    private static final int EVENT_ID = 1;
    private static final int USER_ID = 1 << 1;
    private static final int ITEM_ID = 1 << 2;
    private static final int ACTION = 1 << 3;
    private static final int VECTOR = 1 << 4;
    private static final int MODEL_VERSION = 1 << 5;
    private static final int TERMS = 1 << 6;
    private static final int ITEM_TEXT = 1 << 7;
    private static final int PINNED_VERSION = 1 << 8;
    private static final int TEXT_VECTOR = 1 << 9;
    private static final int CALIBRATION = 1 << 10;

    private PendingActionSerializer() {}

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public EnrichedAction createInstance() {
        return new EnrichedAction();
    }

    @Override
    public EnrichedAction copy(EnrichedAction from) {
        EnrichedAction copy = new EnrichedAction();
        copy.eventId = from.eventId;
        copy.userId = from.userId;
        copy.itemId = from.itemId;
        copy.action = from.action;
        copy.eventTimeMs = from.eventTimeMs;
        copy.value = from.value;
        copy.vector = from.vector == null ? null : from.vector.clone();
        copy.modelVersion = from.modelVersion;
        copy.terms = from.terms == null ? null : from.terms.clone();
        copy.itemText = from.itemText;
        copy.pinnedModelVersion = from.pinnedModelVersion;
        copy.eventTextVector = from.eventTextVector == null ? null : from.eventTextVector.clone();
        CosineCalibration c = from.cosineCalibration; // a POJO with public fields: copied too
        copy.cosineCalibration = c == null ? null
                : new CosineCalibration(c.baseMean, c.baseStd, c.mean, c.std);
        return copy;
    }

    @Override
    public EnrichedAction copy(EnrichedAction from, EnrichedAction reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(EnrichedAction a, DataOutputView out) throws IOException {
        int present = (a.eventId != null ? EVENT_ID : 0) | (a.userId != null ? USER_ID : 0)
                | (a.itemId != null ? ITEM_ID : 0) | (a.action != null ? ACTION : 0)
                | (a.vector != null ? VECTOR : 0) | (a.modelVersion != null ? MODEL_VERSION : 0)
                | (a.terms != null ? TERMS : 0) | (a.itemText != null ? ITEM_TEXT : 0)
                | (a.pinnedModelVersion != null ? PINNED_VERSION : 0)
                | (a.eventTextVector != null ? TEXT_VECTOR : 0)
                | (a.cosineCalibration != null ? CALIBRATION : 0);
        out.writeShort(present);
        out.writeLong(a.eventTimeMs);
        out.writeDouble(a.value);
        writeString(a.eventId, out);
        writeString(a.userId, out);
        writeString(a.itemId, out);
        if (a.action != null) {
            out.writeByte(a.action.ordinal());
        }
        if (a.vector != null) {
            VarInts.writeUnsigned(out, a.vector.length);
            out.write(UserGraphSerializer.halvesToBytes(a.vector));
        }
        writeString(a.modelVersion, out);
        if (a.terms != null) {
            VarInts.writeUnsigned(out, a.terms.length);
            for (String term : a.terms) {
                // a null term is kept as such (the POJO serializer kept it too)
                out.writeBoolean(term != null);
                writeString(term, out);
            }
        }
        writeString(a.itemText, out);
        writeString(a.pinnedModelVersion, out);
        if (a.eventTextVector != null) {
            VarInts.writeUnsigned(out, a.eventTextVector.length);
            byte[] bytes = new byte[a.eventTextVector.length * 4];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
                    .put(a.eventTextVector);
            out.write(bytes);
        }
        if (a.cosineCalibration != null) {
            CosineCalibration c = a.cosineCalibration;
            out.writeDouble(c.baseMean);
            out.writeDouble(c.baseStd);
            out.writeDouble(c.mean);
            out.writeDouble(c.std);
        }
    }

    private static void writeString(String s, DataOutputView out) throws IOException {
        if (s != null) {
            StringValue.writeString(s, out);
        }
    }

    @Override
    public EnrichedAction deserialize(DataInputView in) throws IOException {
        int present = in.readUnsignedShort();
        EnrichedAction a = new EnrichedAction();
        a.eventTimeMs = in.readLong();
        a.value = in.readDouble();
        a.eventId = readString(present, EVENT_ID, in);
        a.userId = readString(present, USER_ID, in);
        a.itemId = readString(present, ITEM_ID, in);
        if ((present & ACTION) != 0) {
            int ordinal = in.readUnsignedByte();
            if (ordinal >= ACTIONS.length) {
                throw new IOException("unknown action ordinal " + ordinal);
            }
            a.action = ACTIONS[ordinal];
        }
        if ((present & VECTOR) != 0) {
            short[] vector = new short[(int) VarInts.readUnsigned(in)];
            byte[] bytes = new byte[vector.length * 2];
            in.readFully(bytes);
            UserGraphSerializer.halvesFromBytes(bytes, vector);
            a.vector = vector;
        }
        a.modelVersion = readString(present, MODEL_VERSION, in);
        if ((present & TERMS) != 0) {
            String[] terms = new String[(int) VarInts.readUnsigned(in)];
            for (int i = 0; i < terms.length; i++) {
                terms[i] = in.readBoolean() ? StringValue.readString(in) : null;
            }
            a.terms = terms;
        }
        a.itemText = readString(present, ITEM_TEXT, in);
        a.pinnedModelVersion = readString(present, PINNED_VERSION, in);
        if ((present & TEXT_VECTOR) != 0) {
            float[] vector = new float[(int) VarInts.readUnsigned(in)];
            byte[] bytes = new byte[vector.length * 4];
            in.readFully(bytes);
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(vector);
            a.eventTextVector = vector;
        }
        if ((present & CALIBRATION) != 0) {
            a.cosineCalibration = new CosineCalibration(in.readDouble(), in.readDouble(),
                    in.readDouble(), in.readDouble());
        }
        return a;
    }

    private static String readString(int present, int field, DataInputView in)
            throws IOException {
        return (present & field) != 0 ? StringValue.readString(in) : null;
    }

    @Override
    public EnrichedAction deserialize(EnrichedAction reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    @Override
    public TypeSerializerSnapshot<EnrichedAction> snapshotConfiguration() {
        return new Snapshot();
    }

    /**
     * Format 1. Restores a state written by Flink's POJO serializer of {@link EnrichedAction}
     * (the operator's serializer before this one) through state migration.
     */
    public static final class Snapshot implements TypeSerializerSnapshot<EnrichedAction> {
        private static final int VERSION = 1;

        /** For Flink's reflective instantiation when reading a snapshot. */
        public Snapshot() {}

        @Override
        public int getCurrentVersion() {
            return VERSION;
        }

        @Override
        public void writeSnapshot(DataOutputView out) {
            // the format is the snapshot's version: nothing else to write
        }

        @Override
        public void readSnapshot(int readVersion, DataInputView in, ClassLoader classLoader)
                throws IOException {
            if (readVersion != VERSION) {
                throw new IOException("unknown pending-action format version " + readVersion);
            }
        }

        @Override
        public TypeSerializer<EnrichedAction> restoreSerializer() {
            return INSTANCE;
        }

        @Override
        public TypeSerializerSchemaCompatibility<EnrichedAction> resolveSchemaCompatibility(
                TypeSerializerSnapshot<EnrichedAction> oldSnapshot) {
            if (oldSnapshot instanceof Snapshot) {
                return TypeSerializerSchemaCompatibility.compatibleAsIs();
            }
            if (oldSnapshot instanceof PojoSerializerSnapshot) {
                // the layout before: read with the POJO serializer it restores, rewritten here
                return TypeSerializerSchemaCompatibility.compatibleAfterMigration();
            }
            return TypeSerializerSchemaCompatibility.incompatible();
        }
    }
}
