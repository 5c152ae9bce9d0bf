package dev.interestgraph.model;

/**
 * A user action joined with the item version valid at its event time: what the user-graph
 * operator applies. The vector is stored as IEEE half floats (see {@code HalfFloats}) so that
 * state, its snapshots and the deltas computed after a restore are bit-for-bit the same.
 */
public class EnrichedAction {
    public String eventId;
    public String userId;
    public String itemId;
    public Action action;
    public long eventTimeMs;
    public double value;
    /** Item embedding (fused with the event's own text when it has one); null when unknown. */
    public short[] vector;
    public String modelVersion;
    /** Terms for interest labels (genres or title words). */
    public String[] terms;
    /**
     * With fine-tuning only: the item's text (training examples, and re-embedding a user's items
     * after a version switch) and the version the action is pinned to. Null otherwise.
     */
    public String itemText;
    public String pinnedModelVersion;
    /**
     * With fine-tuning only: the cosine statistics announced with the pinned version (issue 19),
     * by which the user-graph maps its thresholds; null for version 1 and versions announced
     * without them (thresholds as configured).
     */
    public dev.interestgraph.vector.CosineCalibration cosineCalibration;
    /**
     * With fine-tuning only, in flight between the join and the re-embedding step: the event's own
     * text vector (pinned version) when the item's vector must be re-requested in that version.
     */
    public float[] eventTextVector;

    public EnrichedAction() {}

    public boolean hasVector() {
        return vector != null && modelVersion != null;
    }

    /** Pinned to a version, and the item's vector in it is still to be requested. */
    public boolean needsItemVector() {
        return pinnedModelVersion != null && itemText != null && !hasVector();
    }

    @Override
    public String toString() {
        return "EnrichedAction{" + action + " @" + eventTimeMs + ", event " + eventId + "}";
    }
}
