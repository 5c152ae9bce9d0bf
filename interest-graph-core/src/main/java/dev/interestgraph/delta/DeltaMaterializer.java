package dev.interestgraph.delta;

import dev.interestgraph.proto.v1.DeltaOp;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v1.GraphDelta;
import dev.interestgraph.proto.v1.InterestUpsert;
import dev.interestgraph.proto.v1.ProfileUpdate;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The downstream half of the delta contract: applies {@link GraphDelta}s in order and gives back
 * each user's current graph (A_new = A + ΔA).
 *
 * <p>Idempotent: a delta is applied only when its (epoch, seq) is greater than the last one
 * applied for that user, so re-reading a topic or receiving a duplicate changes nothing. A delta of
 * a greater epoch starts from an empty graph; {@code UserErased} removes the user and remembers
 * only the (epoch, seq) it reached, so that a replay of older deltas cannot resurrect them.
 *
 * <p>Not thread-safe; one materializer per consumer thread.
 */
public final class DeltaMaterializer {

    /** One user's graph as the deltas describe it. */
    public static final class UserView {
        public final String userId;
        long epoch;
        long seq;
        long eventTimeMs;
        final TreeMap<String, EdgeUpsert> edges = new TreeMap<>();
        final TreeMap<Integer, InterestUpsert> interests = new TreeMap<>();
        ProfileUpdate profile;

        UserView(String userId) {
            this.userId = userId;
        }

        /**
         * A view holding only edges (no interests, no profile): what a consumer that keeps only
         * the user–item edges, like the streaming recommender, can give the {@code Recommender}.
         */
        public static UserView ofEdges(String userId, long eventTimeMs,
                java.util.Collection<EdgeUpsert> edges) {
            UserView view = new UserView(userId);
            view.eventTimeMs = eventTimeMs;
            for (EdgeUpsert edge : edges) {
                view.edges.put(edge.getItemId(), edge);
            }
            return view;
        }

        public long epoch() {
            return epoch;
        }

        public long seq() {
            return seq;
        }

        public long eventTimeMs() {
            return eventTimeMs;
        }

        public Map<String, EdgeUpsert> edges() {
            return Collections.unmodifiableMap(edges);
        }

        public Map<Integer, InterestUpsert> interests() {
            return Collections.unmodifiableMap(interests);
        }

        public Optional<ProfileUpdate> profile() {
            return Optional.ofNullable(profile);
        }
    }

    private final Map<String, UserView> users = new HashMap<>();
    /** Erased users: only the position reached, so that older deltas are recognised as such. */
    private final Map<String, long[]> erased = new HashMap<>();
    private long applied;
    private long skipped;

    /** Applies one delta; returns false when it was already applied (or older) and was skipped. */
    public boolean apply(GraphDelta delta) {
        String userId = delta.getUserId();
        long[] last = lastPosition(userId);
        if (last != null && compare(delta.getEpoch(), delta.getSeq(), last[0], last[1]) <= 0) {
            skipped++;
            return false;
        }
        UserView view = users.get(userId);
        if (view == null || view.epoch != delta.getEpoch()) {
            view = new UserView(userId); // a new epoch starts empty
            users.put(userId, view);
        }
        erased.remove(userId);
        view.epoch = delta.getEpoch();
        view.seq = delta.getSeq();
        view.eventTimeMs = delta.getEventTimeMs();
        for (DeltaOp op : delta.getOpsList()) {
            switch (op.getOpCase()) {
                case EDGE_UPSERT:
                    view.edges.put(op.getEdgeUpsert().getItemId(), op.getEdgeUpsert());
                    break;
                case EDGE_REMOVE:
                    view.edges.remove(op.getEdgeRemove().getItemId());
                    break;
                case INTEREST_UPSERT:
                    view.interests.put(op.getInterestUpsert().getInterestId(),
                            op.getInterestUpsert());
                    break;
                case INTEREST_REMOVE:
                    view.interests.remove(op.getInterestRemove().getInterestId());
                    break;
                case PROFILE_UPDATE: // an empty update clears the profile (idle expiry)
                    view.profile = op.getProfileUpdate().getLongTermCount() == 0
                            ? null : op.getProfileUpdate();
                    break;
                case USER_ERASED:
                    users.remove(userId);
                    erased.put(userId, new long[] {delta.getEpoch(), delta.getSeq()});
                    break;
                default:
                    // an op from a newer producer: ignore rather than fail the consumer
                    break;
            }
        }
        if (view.edges.isEmpty() && view.interests.isEmpty() && view.profile == null
                && users.get(userId) == view) {
            // an expired user: keep the position, drop the graph
            users.remove(userId);
            erased.put(userId, new long[] {delta.getEpoch(), delta.getSeq()});
        }
        applied++;
        return true;
    }

    private long[] lastPosition(String userId) {
        UserView view = users.get(userId);
        return view != null ? new long[] {view.epoch, view.seq} : erased.get(userId);
    }

    private static int compare(long epochA, long seqA, long epochB, long seqB) {
        int byEpoch = Long.compare(epochA, epochB);
        return byEpoch != 0 ? byEpoch : Long.compare(seqA, seqB);
    }

    /** The user's current graph, if they have one. */
    public Optional<UserView> user(String userId) {
        return Optional.ofNullable(users.get(userId));
    }

    /** Every user with a graph, by id. */
    public Map<String, UserView> users() {
        return Collections.unmodifiableMap(users);
    }

    public long appliedCount() {
        return applied;
    }

    public long skippedCount() {
        return skipped;
    }
}
