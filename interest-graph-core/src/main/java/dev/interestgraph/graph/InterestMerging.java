package dev.interestgraph.graph;

import dev.interestgraph.graph.UserGraph.Edge;
import dev.interestgraph.graph.UserGraph.Interest;

/**
 * The life of an interest between "opened" and "merged or evicted" (issue 17): when a new
 * interest becomes real enough to publish, which of two merging interests keeps its id, and what
 * consumers of the deltas see of each.
 *
 * <p>A new interest is <em>provisional</em> until it holds graph.interest-min-items items or
 * graph.interest-min-weight of weight: a single 0.1-weight VIEW is not an interest. Provisional
 * interests are not emitted, and an edge of one says interest -1. When one becomes real its
 * InterestUpsert goes out with its members' EdgeUpserts (now naming it) in the same delta; a
 * provisional one that merges or is dropped leaves no trace downstream. Once emitted an interest
 * stays published until it is merged, evicted or empty — it does not flicker when it decays
 * below the thresholds. "Emitted" is {@link Interest#sentTopItemsHash} ≠ 0, which the state
 * already keeps: no new state, no serializer change.
 */
public final class InterestMerging {
    private InterestMerging() {}

    /** Whether the interest has been emitted (its consumers know it). */
    public static boolean isPublished(Interest interest) {
        return interest.sentTopItemsHash != 0;
    }

    /**
     * Whether an interest of {@code size} items and {@code weight} (as of its newest item: a
     * quiet interest does not decay back into a provisional one) is no longer provisional.
     */
    static boolean isReal(int size, double weight, GraphParameters params) {
        return size >= params.interestMinItems || weight >= params.interestMinWeight;
    }

    /**
     * The interest id consumers see on this edge after the last delta: its interest's when that
     * was emitted, else -1. What a graph materialised from the deltas holds.
     */
    public static int publishedInterestId(UserGraph graph, Edge edge) {
        Interest interest = graph.interests.get(edge.interestId);
        return interest != null && isPublished(interest) ? interest.id : -1;
    }

    /** The ids of the interests consumers know (the materialised graph's interests). */
    public static java.util.Set<Integer> publishedInterests(UserGraph graph) {
        java.util.Set<Integer> ids = new java.util.TreeSet<>();
        graph.interests.values().stream().filter(InterestMerging::isPublished)
                .forEach(i -> ids.add(i.id));
        return ids;
    }

    /**
     * Of two interests about to merge, the one whose id survives: a published one before a
     * provisional one (consumers keep their id), then the one with more members, then the
     * heavier, then the older (smaller id).
     */
    static boolean keepsFirst(Interest a, Interest b, long atMs, long halfLifeMs) {
        if (isPublished(a) != isPublished(b)) {
            return isPublished(a);
        }
        int sa = a.size;
        int sb = b.size;
        if (sa != sb) {
            return sa > sb;
        }
        double wa = a.centroid.weightAt(atMs, halfLifeMs);
        double wb = b.centroid.weightAt(atMs, halfLifeMs);
        if (wa != wb) {
            return wa > wb;
        }
        return a.id < b.id;
    }
}
