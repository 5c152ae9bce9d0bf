package dev.interestgraph.ingest;

import static dev.interestgraph.ingest.DeadLetterReason.EMPTY_RECORD;
import static dev.interestgraph.ingest.DeadLetterReason.INVALID_ID;
import static dev.interestgraph.ingest.DeadLetterReason.INVALID_TIMESTAMP;
import static dev.interestgraph.ingest.DeadLetterReason.INVALID_UTF8;
import static dev.interestgraph.ingest.DeadLetterReason.MALFORMED_JSON;
import static dev.interestgraph.ingest.DeadLetterReason.MISSING_FIELD;
import static dev.interestgraph.ingest.DeadLetterReason.TEXT_TOO_LONG;
import static dev.interestgraph.ingest.DeadLetterReason.WRONG_TYPE;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Shared validation of the input parsers: strict JSON field access (a wrong type is an error, not
 * a coercion), id and text limits, and timestamps that can't stall or rewind event time.
 */
abstract class RecordParser implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /**
     * 1990-01-01: anything earlier is a unit mistake (epoch seconds read as milliseconds land in
     * January 1970), not an event. Real histories do reach back: MovieLens starts in 1996.
     */
    static final long MIN_EVENT_TIME_MS = 631_152_000_000L;

    final InputLimits limits;

    RecordParser(InputLimits limits) {
        this.limits = limits;
    }

    static void requireNonEmpty(byte[] payload) throws InvalidRecordException {
        if (payload == null || payload.length == 0) {
            throw new InvalidRecordException(EMPTY_RECORD, "record has no value");
        }
    }

    static ObjectNode readJsonObject(byte[] payload) throws InvalidRecordException {
        requireNonEmpty(payload);
        try {
            StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(payload));
        } catch (CharacterCodingException e) {
            throw new InvalidRecordException(INVALID_UTF8, "value is not valid UTF-8");
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(payload);
        } catch (JsonProcessingException e) {
            // Jackson's message quotes the offending token: the detail says where, not what
            throw new InvalidRecordException(MALFORMED_JSON, "not JSON ("
                    + e.getClass().getSimpleName() + ")" + (e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column "
                            + e.getLocation().getColumnNr()));
        } catch (java.io.IOException e) {
            throw new InvalidRecordException(MALFORMED_JSON,
                    "not JSON (" + e.getClass().getSimpleName() + ")");
        }
        if (node == null || !node.isObject()) {
            throw new InvalidRecordException(MALFORMED_JSON, "expected a JSON object");
        }
        return (ObjectNode) node;
    }

    static String requiredText(ObjectNode node, String field) throws InvalidRecordException {
        String value = optionalText(node, field);
        if (value == null) {
            throw new InvalidRecordException(MISSING_FIELD, "missing field '" + field + "'");
        }
        return value;
    }

    static String optionalText(ObjectNode node, String field) throws InvalidRecordException {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new InvalidRecordException(WRONG_TYPE,
                    "field '" + field + "' must be a string, got " + value.getNodeType());
        }
        return value.textValue();
    }

    static long requiredLong(ObjectNode node, String field) throws InvalidRecordException {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new InvalidRecordException(MISSING_FIELD, "missing field '" + field + "'");
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw new InvalidRecordException(WRONG_TYPE,
                    "field '" + field + "' must be an integer, got " + value.getNodeType());
        }
        return value.longValue();
    }

    static double optionalDouble(ObjectNode node, String field) throws InvalidRecordException {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return 0.0;
        }
        if (!value.isNumber()) {
            throw new InvalidRecordException(WRONG_TYPE,
                    "field '" + field + "' must be a number, got " + value.getNodeType());
        }
        return value.doubleValue();
    }

    void checkId(String field, String id) throws InvalidRecordException {
        if (id == null || id.isBlank()) {
            throw new InvalidRecordException(INVALID_ID, "'" + field + "' is empty");
        }
        if (id.length() > limits.maxIdLength) {
            throw new InvalidRecordException(INVALID_ID, "'" + field + "' has " + id.length()
                    + " characters, more than input.max-id-length=" + limits.maxIdLength);
        }
        for (int i = 0; i < id.length(); i++) {
            if (Character.isISOControl(id.charAt(i))) {
                throw new InvalidRecordException(INVALID_ID,
                        "'" + field + "' contains a control character");
            }
        }
    }

    void checkText(String field, String text) throws InvalidRecordException {
        if (text != null && text.length() > limits.maxTextLength) {
            throw new InvalidRecordException(TEXT_TOO_LONG, "'" + field + "' has " + text.length()
                    + " characters, more than input.max-text-length=" + limits.maxTextLength);
        }
    }

    void checkTimestamp(String field, long timestampMs, long nowMs) throws InvalidRecordException {
        if (timestampMs < MIN_EVENT_TIME_MS) {
            throw new InvalidRecordException(INVALID_TIMESTAMP, "'" + field + "' = " + timestampMs
                    + " is before 1990-01-01 (expected epoch milliseconds)");
        }
        if (timestampMs > nowMs + limits.maxFutureSkewMs) {
            throw new InvalidRecordException(INVALID_TIMESTAMP, "'" + field + "' = " + timestampMs
                    + " is more than input.max-future-skew=" + limits.maxFutureSkewMs
                    + " ms ahead of the clock");
        }
    }
}
