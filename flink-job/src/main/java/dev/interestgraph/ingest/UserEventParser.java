package dev.interestgraph.ingest;

import static dev.interestgraph.ingest.DeadLetterReason.INVALID_VALUE;
import static dev.interestgraph.ingest.DeadLetterReason.MALFORMED_PROTOBUF;
import static dev.interestgraph.ingest.DeadLetterReason.UNKNOWN_ACTION;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.interestgraph.config.InterestGraphOptions.InputFormat;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v1.UserEvent;

/**
 * Parses and validates one {@code user-events} record (JSON with the protobuf field names, or
 * protobuf {@code interestgraph.v1.UserEvent}).
 */
public final class UserEventParser extends RecordParser {
    private static final long serialVersionUID = 1L;

    private final InputFormat format;

    public UserEventParser(InputFormat format, InputLimits limits) {
        super(limits);
        this.format = format;
    }

    /** Parses the record value; {@code nowMs} is the wall clock, for the future-skew check. */
    public UserAction parse(byte[] payload, long nowMs) throws InvalidRecordException {
        UserAction action = format == InputFormat.JSON ? parseJson(payload) : parseProtobuf(payload);
        validate(action, nowMs);
        return action;
    }

    private UserAction parseJson(byte[] payload) throws InvalidRecordException {
        ObjectNode node = readJsonObject(payload);
        String actionName = requiredText(node, "action");
        Action action = Action.parse(actionName);
        if (action == null) {
            throw new InvalidRecordException(UNKNOWN_ACTION, "unknown action (" + actionName.length()
                    + " characters); expected one of " + java.util.Arrays.toString(Action.values()));
        }
        String itemId = optionalText(node, "item_id");
        return new UserAction(requiredText(node, "event_id"), requiredText(node, "user_id"),
                itemId == null ? "" : itemId, action, requiredLong(node, "event_time_ms"),
                optionalDouble(node, "value"), optionalText(node, "text"));
    }

    private UserAction parseProtobuf(byte[] payload) throws InvalidRecordException {
        requireNonEmpty(payload);
        UserEvent event;
        try {
            event = UserEvent.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            throw new InvalidRecordException(MALFORMED_PROTOBUF, "not a UserEvent: " + e.getMessage());
        }
        if (event.getAction() == dev.interestgraph.proto.v1.Action.UNRECOGNIZED
                || event.getAction() == dev.interestgraph.proto.v1.Action.ACTION_UNSPECIFIED) {
            throw new InvalidRecordException(UNKNOWN_ACTION,
                    "unknown action number " + event.getActionValue());
        }
        return new UserAction(event.getEventId(), event.getUserId(), event.getItemId(),
                Action.valueOf(event.getAction().name()), event.getEventTimeMs(), event.getValue(),
                event.getText().isEmpty() ? null : event.getText());
    }

    private void validate(UserAction action, long nowMs) throws InvalidRecordException {
        checkId("event_id", action.eventId);
        checkId("user_id", action.userId);
        if (action.action != Action.FORGET_USER) {
            checkId("item_id", action.itemId);
        }
        checkTimestamp("event_time_ms", action.eventTimeMs, nowMs);
        checkText("text", action.text);
        if (action.action == Action.RATE && !(action.value >= 0.0 && action.value <= 5.0)) {
            throw new InvalidRecordException(INVALID_VALUE,
                    "RATE needs 'value' in [0, 5] stars, got " + action.value);
        }
        if (!Double.isFinite(action.value)) {
            throw new InvalidRecordException(INVALID_VALUE, "'value' is not a finite number");
        }
    }
}
