package dev.interestgraph.model;

import java.util.Objects;

/**
 * A validated user event (a Flink POJO). After the event-text embedding step it may carry the
 * embedding of its own text.
 */
public class UserAction {
    public String eventId;
    public String userId;
    /** Empty for FORGET_USER. */
    public String itemId;
    public Action action;
    public long eventTimeMs;
    /** Stars for RATE; 0 otherwise. */
    public double value;
    /** Comment or review text; null when none. */
    public String text;
    /** Embedding of {@link #text}; null when there is no text (or it is not embedded yet). */
    public float[] textEmbedding;
    public String textModelVersion;
    /** The encoder version to embed {@link #text} with (fine-tuning); null: the server's default. */
    public String pinnedModelVersion;
    /**
     * The cosine statistics announced with {@link #pinnedModelVersion} (issue 19); null when the
     * version was announced without them, and for version 1.
     */
    public dev.interestgraph.vector.CosineCalibration pinnedCosineCalibration;

    public UserAction() {}

    public UserAction(String eventId, String userId, String itemId, Action action,
            long eventTimeMs, double value, String text) {
        this.eventId = eventId;
        this.userId = userId;
        this.itemId = itemId;
        this.action = action;
        this.eventTimeMs = eventTimeMs;
        this.value = value;
        this.text = text;
    }

    public boolean hasText() {
        return text != null && !text.isBlank();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof UserAction)) {
            return false;
        }
        UserAction that = (UserAction) o;
        return eventTimeMs == that.eventTimeMs && Double.compare(value, that.value) == 0
                && Objects.equals(eventId, that.eventId) && Objects.equals(userId, that.userId)
                && Objects.equals(itemId, that.itemId) && action == that.action
                && Objects.equals(text, that.text);
    }

    @Override
    public int hashCode() {
        return Objects.hash(eventId, userId, itemId, action, eventTimeMs);
    }

    /** No user id or text here: this string reaches logs. */
    @Override
    public String toString() {
        return "UserAction{" + action + " @" + eventTimeMs + ", event " + eventId + "}";
    }
}
