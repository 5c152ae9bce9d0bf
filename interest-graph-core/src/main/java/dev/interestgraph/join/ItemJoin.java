package dev.interestgraph.join;

import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.vector.VectorMath;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.util.ArrayList;
import java.util.List;

/**
 * The item join's semantics, apart from Flink: which item version an action meets (the newest
 * with {@code updated_ms <= event_time_ms}), which versions a later action can still need, and
 * how an action and its item make an {@link EnrichedAction}. The job's {@code item-enrich}
 * operator and the evaluation's offline replay both use it, so both join the same way.
 */
public final class ItemJoin {
    /** How many label terms travel with each action. */
    public static final int TERMS_PER_ITEM = 5;

    private ItemJoin() {}

    /** The newest version with updatedMs at or before the time, or null. */
    public static ItemVersion versionAt(List<ItemVersion> known, long timeMs) {
        ItemVersion valid = null;
        if (known != null) {
            for (ItemVersion version : known) { // oldest first
                if (version.updatedMs <= timeMs) {
                    valid = version;
                }
            }
        }
        return valid;
    }

    /**
     * The versions a future action can need: actions at or before the watermark are late, so of
     * the versions at or before it only the newest still matters.
     */
    public static List<ItemVersion> withoutStale(List<ItemVersion> sorted, long watermark) {
        int newestBeforeWatermark = -1;
        for (int i = 0; i < sorted.size(); i++) {
            if (sorted.get(i).updatedMs <= watermark) {
                newestBeforeWatermark = i;
            }
        }
        return newestBeforeWatermark <= 0
                ? sorted : new ArrayList<>(sorted.subList(newestBeforeWatermark, sorted.size()));
    }

    /**
     * The action with the item's vector and label terms. An action that brings its own text
     * (a comment) fuses it with the item's vector when both come from the same model version.
     */
    public static EnrichedAction enrich(UserAction action, ItemVersion item) {
        EnrichedAction enriched = new EnrichedAction();
        enriched.eventId = action.eventId;
        enriched.userId = action.userId;
        enriched.itemId = action.itemId;
        enriched.action = action.action;
        enriched.eventTimeMs = action.eventTimeMs;
        enriched.value = action.value;
        float[] vector = item == null ? null : item.embedding;
        String version = item == null ? null : item.modelVersion;
        if (action.pinnedModelVersion != null) {
            enriched.pinnedModelVersion = action.pinnedModelVersion;
            enriched.cosineCalibration = action.pinnedCosineCalibration;
            enriched.itemText = item == null ? null : item.text();
            if (item != null && !enriched.itemText.isBlank()
                    && !action.pinnedModelVersion.equals(version)) {
                // the item was embedded in another version: the next step re-requests its vector
                // in the action's version, then fuses the event's text vector (already in it)
                vector = null;
                version = null;
                enriched.eventTextVector = action.textEmbedding;
                enriched.terms = item.labelTerms(TERMS_PER_ITEM);
                return enriched;
            }
        }
        if (action.textEmbedding != null) {
            if (vector == null) {
                vector = action.textEmbedding;
                version = action.textModelVersion;
            } else if (action.textModelVersion.equals(version)) {
                vector = VectorMath.normalized(
                        VectorMath.weightedMean(vector, 1.0, action.textEmbedding, 1.0));
            }
        }
        if (vector != null) {
            enriched.vector = HalfFloats.fromFloats(vector);
            enriched.modelVersion = version;
        }
        enriched.terms = item == null ? new String[0] : item.labelTerms(TERMS_PER_ITEM);
        return enriched;
    }
}
