package dev.interestgraph.bench;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.proto.v2.Vector;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.DefaultRecord;

/**
 * Where the bytes of v2 deltas go (issue 16: cut what dominates, measured): every byte of every
 * payload attributed to one field path of {@link GraphDelta} — a scalar or string field with its
 * tag, a nested message's tag and length as "(framing)", a {@link Vector} whole (tag, length and
 * content) under its change (SET / UNCHANGED / CLEARED), since what a vector costs depends on
 * nothing else — plus the Kafka record around the payload (key, the format header, the record's
 * own varints; Kafka's {@link DefaultRecord#sizeInBytes}, without the batch header that batches
 * share). Field sizes come from protobuf's own serialised sizes (a field's share is the message's
 * size less the size without it), so the rows sum to the payload exactly.
 */
final class DeltaComposition {
    private static final Header[] HEADERS = {new RecordHeader(DeltaRecord.FORMAT_HEADER,
            DeltaRecord.FORMAT_V2.getBytes(StandardCharsets.UTF_8))};
    /** Row → {bytes, occurrences}. */
    private final Map<String, long[]> rows = new TreeMap<>();
    private long deltas;
    private long payload;

    void add(GraphDelta delta) {
        deltas++;
        payload += delta.getSerializedSize();
        walk(delta, "");
        byte[] key = delta.getUserId().getBytes(StandardCharsets.UTF_8);
        // a record in a batch of a few hundred, timestamps within a second of the batch's first
        int record = DefaultRecord.sizeInBytes(100, 500, ByteBuffer.wrap(key),
                ByteBuffer.allocate(delta.getSerializedSize()), HEADERS);
        // the header count, the header's key and value with their lengths
        int header = 3 + HEADERS[0].key().length() + HEADERS[0].value().length;
        add("record: key (user id)", key.length);
        add("record: format header", header);
        add("record: lengths, attributes, offset and time",
                record - key.length - delta.getSerializedSize() - header);
    }

    private void walk(Message message, String prefix) {
        for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
            boolean present = field.isRepeated() ? message.getRepeatedFieldCount(field) > 0
                    : message.hasField(field);
            if (!present) {
                continue;
            }
            String path = prefix.isEmpty() ? field.getName() : prefix + "." + field.getName();
            if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
                add(path, message.getSerializedSize()
                        - message.toBuilder().clearField(field).build().getSerializedSize());
                continue;
            }
            List<Message> elements = new ArrayList<>();
            if (field.isRepeated()) {
                for (int i = 0; i < message.getRepeatedFieldCount(field); i++) {
                    elements.add((Message) message.getRepeatedField(field, i));
                }
            } else {
                elements.add((Message) message.getField(field));
            }
            int tag = CodedOutputStream.computeTagSize(field.getNumber());
            for (Message element : elements) {
                int size = element.getSerializedSize();
                int framing = tag + CodedOutputStream.computeUInt32SizeNoTag(size);
                if (element instanceof Vector vector) {
                    add(path + " " + vector.getChange(), framing + size);
                } else {
                    add(path + " (framing)", framing);
                    walk(element, path);
                }
            }
        }
    }

    private void add(String row, long bytes) {
        long[] row0 = rows.computeIfAbsent(row, r -> new long[2]);
        row0[0] += bytes;
        row0[1]++;
    }

    long deltas() {
        return deltas;
    }

    long payloadBytes() {
        return payload;
    }

    /**
     * The table, largest rows first: bytes per input event, share of the payload, how often the
     * field occurs per delta and its mean size where it occurs.
     */
    String table(long events) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%,d deltas, %,d payload B (%.1f B per event, "
                + "%.1f B per delta)%n", deltas, payload, (double) payload / events,
                (double) payload / Math.max(1, deltas)));
        out.append("| field | B / event | % of payload | per delta | B where present |\n");
        out.append("|---|---:|---:|---:|---:|\n");
        List<Map.Entry<String, long[]>> sorted = new ArrayList<>(rows.entrySet());
        sorted.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
        long recordBytes = 0;
        for (Map.Entry<String, long[]> row : sorted) {
            long bytes = row.getValue()[0];
            boolean record = row.getKey().startsWith("record:");
            recordBytes += record ? bytes : 0;
            out.append(String.format(Locale.ROOT, "| %s | %.1f | %s | %.2f | %.1f |%n",
                    row.getKey(), (double) bytes / events,
                    record ? "(outside)" : String.format(Locale.ROOT, "%.1f %%",
                            100.0 * bytes / payload),
                    (double) row.getValue()[1] / deltas,
                    (double) bytes / row.getValue()[1]));
        }
        out.append(String.format(Locale.ROOT, "payload + record %.1f B per event (batch headers "
                + "not counted)%n", (double) (payload + recordBytes) / events));
        return out.toString();
    }
}
