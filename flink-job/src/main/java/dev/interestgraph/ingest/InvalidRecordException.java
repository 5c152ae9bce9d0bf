package dev.interestgraph.ingest;

/** A record that cannot be accepted; becomes a {@link DeadLetter}. */
public final class InvalidRecordException extends Exception {
    private final DeadLetterReason reason;

    public InvalidRecordException(DeadLetterReason reason, String detail) {
        super(detail, null, false, false); // no stack trace: this is data, not a bug
        this.reason = reason;
    }

    public DeadLetterReason reason() {
        return reason;
    }
}
