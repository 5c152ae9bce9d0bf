package dev.interestgraph.delta;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.interestgraph.proto.v2.GraphDelta;

/**
 * A {@link GraphDelta} (delta contract v2) on its way to Kafka: the protobuf bytes plus the fields the sink needs.
 * Flink moves these bytes between operators instead of the generated message class, which would
 * otherwise fall back to Kryo.
 */
public class DeltaRecord {
    /**
     * Record header of the delta topic naming the contract of the value: {@link #FORMAT_V2}. A
     * consumer that finds another value (or none: a topic written by a v1 job) must not parse
     * the record as v2; {@link DeltaMaterializer#applyRecord} decides by it.
     */
    public static final String FORMAT_HEADER = "interestgraph-delta-format";
    /** The header's value for contract v2. */
    public static final String FORMAT_V2 = "2";

    public String userId;
    public long epoch;
    public long seq;
    public long eventTimeMs;
    public byte[] payload;

    public DeltaRecord() {}

    public static DeltaRecord of(GraphDelta delta) {
        DeltaRecord record = new DeltaRecord();
        record.userId = delta.getUserId();
        record.epoch = delta.getEpoch();
        record.seq = delta.getSeq();
        record.eventTimeMs = delta.getEventTimeMs();
        record.payload = delta.toByteArray();
        return record;
    }

    public GraphDelta delta() {
        try {
            return GraphDelta.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("a DeltaRecord holds no GraphDelta", e);
        }
    }

    @Override
    public String toString() {
        return "DeltaRecord{epoch " + epoch + ", seq " + seq + " @" + eventTimeMs + "}";
    }
}
