package dev.interestgraph.bench;

import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v1.UserEvent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.utils.Utils;

/**
 * What producer compression does to the delta topic and to the input topic (issue 16: delta
 * topic / input topic bytes): the user-graph operator alone in a test harness over the end-to-end
 * bench's workload ({@link CoalescingSweep#enriched}), its deltas and the workload's input events
 * written into Kafka's own record batches ({@link MemoryRecordsBuilder}, the format the broker
 * stores) with each codec, per partition by the producer's key hash, a batch closed at the
 * producer's default {@code batch.size} (16 KiB before compression). Prints bytes per record and
 * per input event of both topics and their ratio, codec by codec. Measured over the second half
 * of the events, as {@link CoalescingSweep}.
 *
 * <p>Run from {@code tools/} with the bench classpath: {@code java -cp
 * target/test-classes:target/classes:$(cat target/bench-classpath.txt)
 * dev.interestgraph.bench.CompressionProbe [users] [eventsPerSecond] [events] [partitions]}.
 */
public final class CompressionProbe {
    private static final int BATCH_SIZE = 16_384;
    private static final Header[] DELTA_HEADERS = {new RecordHeader(DeltaRecord.FORMAT_HEADER,
            DeltaRecord.FORMAT_V2.getBytes(StandardCharsets.UTF_8))};

    private CompressionProbe() {}

    /** One record as the producer sends it. */
    private record Out(byte[] key, byte[] value, long timestamp, Header[] headers) {}

    public static void main(String[] args) throws Exception {
        System.out.print(table(args.length > 0 ? Integer.parseInt(args[0]) : 5_000,
                args.length > 1 ? Integer.parseInt(args[1]) : 1_000,
                args.length > 2 ? Integer.parseInt(args[2]) : 100_000,
                args.length > 3 ? Integer.parseInt(args[3]) : 4));
    }

    /** The table, one row per codec (the first row: uncompressed). */
    static String table(int users, int rate, int events, int partitions) throws Exception {
        E2EWorkload workload = new E2EWorkload(users, 100, events, rate, 42);
        List<EnrichedAction> input = CoalescingSweep.enriched(workload, events);
        long measuredFrom = input.get(events / 2).eventTimeMs;

        List<Out> inputRecords = new ArrayList<>();
        for (long i = events / 2; i < events; i++) {
            UserEvent event = workload.event(i);
            inputRecords.add(new Out(E2EWorkload.bytes(event.getUserId()), event.toByteArray(),
                    event.getEventTimeMs(), new Header[0]));
        }
        List<Out> deltaRecords = deltas(input, measuredFrom);
        long measured = events - events / 2;
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "COMPRESSION of the delta and input topics "
                + "(CompressionProbe: %,d events over %,d users, the second half: %,d input "
                + "records, %,d deltas; Kafka record batches, %d partitions, batch.size %,d B)%n",
                events, users, inputRecords.size(), deltaRecords.size(), partitions, BATCH_SIZE));
        out.append("| codec | input B / event | delta B / delta | delta B / event "
                + "| deltas / input, same codec | deltas with it / input uncompressed |\n");
        out.append("|---|---:|---:|---:|---:|---:|\n");
        long uncompressedInput = 0;
        for (CompressionType type : new CompressionType[] {CompressionType.NONE,
                CompressionType.LZ4, CompressionType.SNAPPY, CompressionType.ZSTD,
                CompressionType.GZIP}) {
            Compression codec = Compression.of(type).build();
            long in = batchedBytes(inputRecords, codec, partitions);
            long deltas = batchedBytes(deltaRecords, codec, partitions);
            uncompressedInput = type == CompressionType.NONE ? in : uncompressedInput;
            out.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.2f× | %.2f× |%n",
                    type.name, (double) in / measured, (double) deltas / deltaRecords.size(),
                    (double) deltas / measured, (double) deltas / in,
                    (double) deltas / uncompressedInput));
        }
        return out.toString();
    }

    /** The deltas of slots ending at or after {@code measuredFrom}, as the sink writes them. */
    private static List<Out> deltas(List<EnrichedAction> input, long measuredFrom)
            throws Exception {
        List<Out> out = new ArrayList<>();
        CoalescingSweep.replay(input, GraphParameters.defaults(), measuredFrom, delta ->
                out.add(new Out(delta.userId.getBytes(StandardCharsets.UTF_8), delta.payload,
                        delta.eventTimeMs, DELTA_HEADERS)));
        return out;
    }

    /**
     * Bytes of the record batches the producer would send, per partition in send order. As in the
     * producer's accumulator, a batch's buffer is {@code batch.size} and its room is judged on the
     * estimated compressed size: here the ratio of the partition's last closed batch.
     */
    private static long batchedBytes(List<Out> records, Compression codec, int partitions) {
        MemoryRecordsBuilder[] open = new MemoryRecordsBuilder[partitions];
        float[] ratio = new float[partitions];
        java.util.Arrays.fill(ratio, 1f);
        long bytes = 0;
        for (Out record : records) {
            int partition = Utils.toPositive(Utils.murmur2(record.key)) % partitions;
            MemoryRecordsBuilder builder = open[partition];
            if (builder != null && !builder.hasRoomFor(record.timestamp, record.key, record.value,
                    record.headers)) {
                bytes += close(builder, ratio, partition);
                builder = null;
            }
            if (builder == null) {
                builder = MemoryRecords.builder(ByteBuffer.allocate(BATCH_SIZE), codec,
                        TimestampType.CREATE_TIME, 0L);
                builder.setEstimatedCompressionRatio(ratio[partition]);
                open[partition] = builder;
            }
            builder.append(record.timestamp, record.key, record.value, record.headers);
        }
        for (int p = 0; p < partitions; p++) {
            if (open[p] != null) {
                bytes += close(open[p], ratio, p);
            }
        }
        return bytes;
    }

    private static long close(MemoryRecordsBuilder builder, float[] ratio, int partition) {
        builder.close();
        ratio[partition] = Math.max(0.05f, (float) builder.compressionRatio());
        return builder.build().sizeInBytes();
    }
}
