package dev.interestgraph.ingest;

/**
 * A rejected input record: where it came from, why, and its original bytes, so that nothing is
 * lost. Written to the dead-letter topic as JSON (see {@link DeadLetterSerializationSchema}).
 */
public class DeadLetter {
    public String topic;
    public int partition;
    public long offset;
    public DeadLetterReason reason;
    /** What exactly was wrong; never contains the payload itself. */
    public String detail;
    public byte[] key;
    public byte[] payload;

    public DeadLetter() {}

    public DeadLetter(String topic, int partition, long offset, DeadLetterReason reason,
            String detail, byte[] key, byte[] payload) {
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
        this.reason = reason;
        this.detail = detail;
        this.key = key;
        this.payload = payload;
    }

    @Override
    public String toString() {
        return "DeadLetter{" + reason + " " + topic + "-" + partition + "@" + offset + ": " + detail
                + "}";
    }
}
