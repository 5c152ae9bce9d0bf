package dev.interestgraph.ingest;

import static dev.interestgraph.ingest.DeadLetterReason.MALFORMED_PROTOBUF;
import static dev.interestgraph.ingest.DeadLetterReason.MISSING_FIELD;
import static dev.interestgraph.ingest.DeadLetterReason.WRONG_TYPE;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.interestgraph.config.InterestGraphOptions.InputFormat;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.proto.v1.ItemEvent;

/**
 * Parses and validates one {@code item-catalog} record (JSON with the protobuf field names, or
 * protobuf {@code interestgraph.v1.ItemEvent}).
 */
public final class ItemEventParser extends RecordParser {
    private static final long serialVersionUID = 1L;

    private final InputFormat format;

    public ItemEventParser(InputFormat format, InputLimits limits) {
        super(limits);
        this.format = format;
    }

    public ItemVersion parse(byte[] payload, long nowMs) throws InvalidRecordException {
        ItemVersion item = format == InputFormat.JSON ? parseJson(payload) : parseProtobuf(payload);
        checkId("item_id", item.itemId);
        checkTimestamp("updated_ms", item.updatedMs, nowMs);
        checkText("title", item.title);
        checkText("description", item.description);
        checkText("tags", String.join(",", item.tags));
        if ((item.title == null || item.title.isBlank()) && item.tags.length == 0) {
            throw new InvalidRecordException(MISSING_FIELD, "item has neither 'title' nor 'tags'");
        }
        return item;
    }

    private ItemVersion parseJson(byte[] payload) throws InvalidRecordException {
        ObjectNode node = readJsonObject(payload);
        JsonNode tagsNode = node.get("tags");
        String[] tags = new String[0];
        if (tagsNode != null && !tagsNode.isNull()) {
            if (!tagsNode.isArray()) {
                throw new InvalidRecordException(WRONG_TYPE, "field 'tags' must be an array of strings");
            }
            tags = new String[tagsNode.size()];
            for (int i = 0; i < tags.length; i++) {
                if (!tagsNode.get(i).isTextual()) {
                    throw new InvalidRecordException(WRONG_TYPE,
                            "field 'tags' must be an array of strings");
                }
                tags[i] = tagsNode.get(i).textValue();
            }
        }
        return new ItemVersion(requiredText(node, "item_id"), optionalText(node, "title"),
                optionalText(node, "description"), tags, requiredLong(node, "updated_ms"));
    }

    private ItemVersion parseProtobuf(byte[] payload) throws InvalidRecordException {
        requireNonEmpty(payload);
        try {
            ItemEvent event = ItemEvent.parseFrom(payload);
            return new ItemVersion(event.getItemId(), event.getTitle(), event.getDescription(),
                    event.getTagsList().toArray(new String[0]), event.getUpdatedMs());
        } catch (InvalidProtocolBufferException e) {
            throw new InvalidRecordException(MALFORMED_PROTOBUF, "not an ItemEvent: " + e.getMessage());
        }
    }
}
