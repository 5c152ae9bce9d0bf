package dev.interestgraph.inspect;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.interestgraph.delta.DeltaMaterializer.UserView;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v1.InterestUpsert;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Readable views of one user's materialised graph: a few lines of text (interests by weight with
 * their labels and top items, then the strongest items) or one JSON object. Vectors are left out
 * of both: 384 floats help no reader.
 */
public final class UserGraphText {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Item id → a display name (a title); identity when titles are unknown. */
    private final Function<String, String> itemNames;
    private final int strongestItems;

    public UserGraphText(Function<String, String> itemNames, int strongestItems) {
        this.itemNames = itemNames;
        this.strongestItems = strongestItems;
    }

    /** Interests, strongest first. */
    public static List<InterestUpsert> interestsByWeight(UserView user) {
        List<InterestUpsert> interests = new ArrayList<>(user.interests().values());
        interests.sort(Comparator.comparingDouble(InterestUpsert::getWeight).reversed()
                .thenComparingInt(InterestUpsert::getInterestId));
        return interests;
    }

    /** Edges, strongest first (ties by item id, so the output is stable). */
    public static List<EdgeUpsert> edgesByWeight(UserView user, int limit) {
        return user.edges().values().stream()
                .sorted(Comparator.comparingDouble(EdgeUpsert::getWeight).reversed()
                        .thenComparing(EdgeUpsert::getItemId))
                .limit(limit).collect(Collectors.toList());
    }

    /** The user's graph as indented lines; {@code heading} comes after the user id. */
    public String text(UserView user, String heading) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("  user %s%s  (%d edges, %d interests, epoch %d seq %d, as of "
                + "%s)%n", user.userId, heading.isEmpty() ? "" : " " + heading,
                user.edges().size(), user.interests().size(), user.epoch(), user.seq(),
                Instant.ofEpochMilli(user.eventTimeMs())));
        for (InterestUpsert interest : interestsByWeight(user)) {
            List<String> top = interest.getTopItemsList().subList(0,
                    Math.min(3, interest.getTopItemsCount()));
            out.append(String.format("    interest %-2d %-30s weight %6.2f  items %-3d top: %s%n",
                    interest.getInterestId(), '"' + interest.getLabel() + '"',
                    interest.getWeight(), interest.getSize(),
                    top.stream().map(itemNames).collect(Collectors.joining(", "))));
        }
        out.append("    strongest items: ").append(edgesByWeight(user, strongestItems).stream()
                .map(e -> String.format("%s (%.2f)", itemNames.apply(e.getItemId()),
                        e.getWeight()))
                .collect(Collectors.joining(", "))).append(System.lineSeparator());
        return out.toString();
    }

    /** The user's graph as one line of JSON. */
    public String json(UserView user) {
        ObjectNode json = MAPPER.createObjectNode();
        json.put("user_id", user.userId);
        json.put("epoch", user.epoch());
        json.put("seq", user.seq());
        json.put("event_time_ms", user.eventTimeMs());
        ArrayNode interests = json.putArray("interests");
        for (InterestUpsert interest : interestsByWeight(user)) {
            ObjectNode node = interests.addObject();
            node.put("interest_id", interest.getInterestId());
            node.put("label", interest.getLabel());
            node.put("weight", interest.getWeight());
            node.put("size", interest.getSize());
            ArrayNode top = node.putArray("top_items");
            interest.getTopItemsList().forEach(top::add);
        }
        ArrayNode edges = json.putArray("edges");
        for (EdgeUpsert edge : edgesByWeight(user, Integer.MAX_VALUE)) {
            ObjectNode node = edges.addObject();
            node.put("item_id", edge.getItemId());
            String name = itemNames.apply(edge.getItemId());
            if (!name.equals(edge.getItemId())) {
                node.put("title", name);
            }
            node.put("weight", edge.getWeight());
            node.put("interest_id", edge.getInterestId());
            node.put("last_ms", edge.getLastMs());
            ObjectNode counts = node.putObject("action_counts");
            for (Map.Entry<String, Integer> c : edge.getActionCountsMap().entrySet()) {
                counts.put(c.getKey(), c.getValue());
            }
        }
        return json.toString();
    }
}
