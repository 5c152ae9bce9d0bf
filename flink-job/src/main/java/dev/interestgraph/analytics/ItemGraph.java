package dev.interestgraph.analytics;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * What the graph analytics know about items, as the {@link Recommender} reads it: item–item
 * neighbours for candidate generation, communities and their popular items for cold-start users.
 * Implemented by the analytics job's output ({@code analytics.AnalyticsOutput}), by the streaming
 * job's broadcast state ({@code RecommendFunction}) and, for the evaluation's baseline, by a plain
 * neighbour table.
 */
public interface ItemGraph {

    /** One popular item of a community and how many users hold it. */
    record Popular(String itemId, int users) {}

    /**
     * Similar items with a score in (0, 1], empty when the item has none; EASE neighbours with
     * negative weights ({@code analytics.ease.negatives}) also carry scores below 0.
     */
    Map<String, Float> neighbours(String itemId);

    /** The item's community, or -1 when it is in none. */
    long communityOf(String itemId);

    /** The community's most popular items, most users first. */
    List<Popular> popularIn(long communityId);

    /** Every community id. */
    Collection<Long> communities();

    /** No neighbours, no communities. */
    ItemGraph EMPTY = of(Map.of());

    /** Neighbours only, from a table item → (neighbour → similarity). */
    static ItemGraph of(Map<String, Map<String, Float>> neighbours) {
        return new ItemGraph() {
            @Override
            public Map<String, Float> neighbours(String itemId) {
                return neighbours.getOrDefault(itemId, Map.of());
            }

            @Override
            public long communityOf(String itemId) {
                return -1;
            }

            @Override
            public List<Popular> popularIn(long communityId) {
                return List.of();
            }

            @Override
            public Collection<Long> communities() {
                return List.of();
            }
        };
    }
}
