package dev.interestgraph.ingest;

/** Why an input record was rejected. Each has its own counter in the dashboard. */
public enum DeadLetterReason {
    EMPTY_RECORD,
    INVALID_UTF8,
    MALFORMED_JSON,
    MALFORMED_PROTOBUF,
    MISSING_FIELD,
    WRONG_TYPE,
    UNKNOWN_ACTION,
    INVALID_ID,
    INVALID_TIMESTAMP,
    INVALID_VALUE,
    TEXT_TOO_LONG
}
