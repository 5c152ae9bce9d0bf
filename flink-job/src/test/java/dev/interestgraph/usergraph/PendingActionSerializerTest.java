package dev.interestgraph.usergraph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class PendingActionSerializerTest {
    private static EnrichedAction full() {
        EnrichedAction a = new EnrichedAction();
        a.eventId = "e-1";
        a.userId = "user-ü";
        a.itemId = "item-9";
        a.action = Action.values()[Action.values().length - 1];
        a.eventTimeMs = -1_234_567_890_123L;
        a.value = 4.5;
        a.vector = new short[] {1, -2, Short.MIN_VALUE, Short.MAX_VALUE, 0x3c00};
        a.modelVersion = "all-minilm-l6-v2";
        a.terms = new String[] {"drama", null, ""};
        a.itemText = "x".repeat(70_000); // longer than writeUTF allows
        a.pinnedModelVersion = "v7";
        a.eventTextVector = new float[] {0.5f, -0f, Float.NaN, Float.MIN_VALUE};
        a.cosineCalibration = new dev.interestgraph.vector.CosineCalibration(0.37, 0.12, 0.08,
                0.21);
        return a;
    }

    private static byte[] bytes(TypeSerializer<EnrichedAction> serializer, EnrichedAction a)
            throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(a, out);
        return out.getCopyOfBuffer();
    }

    private static EnrichedAction roundTrip(EnrichedAction a) throws Exception {
        DataInputDeserializer in = new DataInputDeserializer(
                bytes(PendingActionSerializer.INSTANCE, a));
        EnrichedAction back = PendingActionSerializer.INSTANCE.deserialize(in);
        assertThat(in.available()).isZero();
        return back;
    }

    @Test
    void everyFieldRoundTripsAndNullsStayNull() throws Exception {
        EnrichedAction a = full();
        // a field added to EnrichedAction must be set here, so that this test sees whether the
        // serializer writes it (the calibration of issue 19 was once left out)
        for (java.lang.reflect.Field field : EnrichedAction.class.getFields()) {
            if (!java.lang.reflect.Modifier.isStatic(field.getModifiers())) {
                assertThat(field.get(a)).as(field.getName()).isNotNull();
            }
        }
        EnrichedAction back = roundTrip(a);
        assertThat(back).usingRecursiveComparison().ignoringFields("eventTextVector")
                .isEqualTo(a);
        assertThat(bits(back.eventTextVector)).isEqualTo(bits(a.eventTextVector)); // NaN too
        EnrichedAction copy = PendingActionSerializer.INSTANCE.copy(a);
        assertThat(copy).usingRecursiveComparison().ignoringFields("eventTextVector")
                .isEqualTo(a);
        assertThat(bits(copy.eventTextVector)).isEqualTo(bits(a.eventTextVector));
        assertThat(copy.vector).isNotSameAs(a.vector);
        EnrichedAction empty = new EnrichedAction();
        assertThat(roundTrip(empty)).usingRecursiveComparison().isEqualTo(empty);
    }

    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    @Test
    void aTypicalActionIsSmallerThanWithThePojoSerializer() throws Exception {
        EnrichedAction a = full();
        a.itemText = null;
        a.pinnedModelVersion = null;
        a.eventTextVector = null;
        a.cosineCalibration = null; // with fine-tuning only, like the three above
        a.vector = new short[384];
        TypeSerializer<EnrichedAction> pojo = Types.POJO(EnrichedAction.class)
                .createSerializer(new SerializerConfigImpl());
        int compact = bytes(PendingActionSerializer.INSTANCE, a).length;
        // 2 bytes of flags and 8 + 8 of time and value, the halves, strings, 2 of vector length
        assertThat(compact).isLessThanOrEqualTo(2 + 16 + 768 + 2 + 60);
        assertThat(compact).isLessThan(bytes(pojo, a).length);
    }

    @Test
    void aPojoSnapshotMigratesAndItsOwnIsCompatibleAsIs() {
        TypeSerializer<EnrichedAction> pojo = Types.POJO(EnrichedAction.class)
                .createSerializer(new SerializerConfigImpl());
        PendingActionSerializer.Snapshot snapshot = new PendingActionSerializer.Snapshot();
        TypeSerializerSchemaCompatibility<EnrichedAction> fromPojo =
                snapshot.resolveSchemaCompatibility(pojo.snapshotConfiguration());
        assertThat(fromPojo.isCompatibleAfterMigration()).isTrue();
        assertThat(snapshot.resolveSchemaCompatibility(
                PendingActionSerializer.INSTANCE.snapshotConfiguration()).isCompatibleAsIs())
                .isTrue();
    }
}
