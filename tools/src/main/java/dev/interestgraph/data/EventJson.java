package dev.interestgraph.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.nio.charset.StandardCharsets;

/**
 * The JSON form of the input records, with the protobuf field names: what producers write to
 * {@code user-events} and {@code item-catalog} when {@code input.format} is JSON.
 */
public final class EventJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private EventJson() {}

    public static byte[] toJson(UserAction action) {
        ObjectNode json = MAPPER.createObjectNode();
        json.put("event_id", action.eventId);
        json.put("user_id", action.userId);
        json.put("item_id", action.itemId);
        json.put("action", action.action.name());
        json.put("event_time_ms", action.eventTimeMs);
        if (action.value != 0.0) {
            json.put("value", action.value);
        }
        if (action.text != null) {
            json.put("text", action.text);
        }
        return json.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] toJson(ItemVersion item) {
        ObjectNode json = MAPPER.createObjectNode();
        json.put("item_id", item.itemId);
        json.put("title", item.title);
        if (item.description != null && !item.description.isEmpty()) {
            json.put("description", item.description);
        }
        ArrayNode tags = json.putArray("tags");
        if (item.tags != null) {
            for (String tag : item.tags) {
                tags.add(tag);
            }
        }
        json.put("updated_ms", item.updatedMs);
        return json.toString().getBytes(StandardCharsets.UTF_8);
    }
}
