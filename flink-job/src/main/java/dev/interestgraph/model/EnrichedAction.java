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

    public EnrichedAction() {}

    public boolean hasVector() {
        return vector != null && modelVersion != null;
    }

    @Override
    public String toString() {
        return "EnrichedAction{" + action + " @" + eventTimeMs + ", event " + eventId + "}";
    }
}
