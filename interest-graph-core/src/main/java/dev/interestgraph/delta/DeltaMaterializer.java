package dev.interestgraph.delta;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.interestgraph.model.Action;
import dev.interestgraph.proto.v1.DeltaOp;
import dev.interestgraph.proto.v1.EdgeRemove;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v1.GraphDelta;
import dev.interestgraph.proto.v1.InterestRemove;
import dev.interestgraph.proto.v1.InterestUpsert;
import dev.interestgraph.proto.v1.ProfileUpdate;
import dev.interestgraph.proto.v1.UserErased;
import dev.interestgraph.proto.v2.Vector;
import dev.interestgraph.proto.v2.VectorChange;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The downstream half of the delta contract: applies deltas in order and gives back each user's
 * current graph (A_new = A + ΔA).
 *
 * <p>The job emits delta contract v2 ({@link dev.interestgraph.proto.v2.GraphDelta}: quantised
 * vectors sent only when they moved, "unchanged" fields, a version table; see
 * docs/architecture.md). {@link #apply(dev.interestgraph.proto.v2.GraphDelta)} decodes it against
 * the user's current view: the view holds every field in full (v1 message types serve as the
 * decoded value types: float vectors, action names, absolute times), so a reader of the view
 * does not care which contract the topic spoke. {@link #apply(GraphDelta)} still applies v1
 * deltas (a topic written before the switch). {@link #decode} gives the self-contained v1 delta a
 * v2 delta amounts to, for a consumer that keeps the v1 model.
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

    private static final Action[] ACTIONS = Action.values();

    private final Map<String, UserView> users = new HashMap<>();
    private long invalidVectors;
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

    /**
     * Applies one record of the delta topic by its format header (the value of
     * {@code interestgraph-delta-format}, null when the record has none): "2" is contract v2,
     * no header is v1 (a topic written before the switch). Returns the delta applied, in its
     * decoded (v1) form, or null when it was already applied (or older) and was skipped.
     *
     * @throws InvalidProtocolBufferException when the value is not a delta of that format, or
     *     the header names a format this reader does not know
     */
    public GraphDelta applyRecord(String format, byte[] value)
            throws InvalidProtocolBufferException {
        GraphDelta delta;
        if (format == null) {
            delta = GraphDelta.parseFrom(value);
        } else if (format.equals("2")) {
            dev.interestgraph.proto.v2.GraphDelta v2 =
                    dev.interestgraph.proto.v2.GraphDelta.parseFrom(value);
            if (isApplied(v2.getUserId(), v2.getEpoch(), v2.getSeq())) {
                skipped++;
                return null;
            }
            delta = decode(v2);
        } else {
            throw new InvalidProtocolBufferException("unknown delta format '" + format + "'");
        }
        return apply(delta) ? delta : null;
    }

    private boolean isApplied(String userId, long epoch, long seq) {
        long[] last = lastPosition(userId);
        return last != null && compare(epoch, seq, last[0], last[1]) <= 0;
    }

    /**
     * Applies one delta of contract v2; returns false when it was already applied (or older)
     * and was skipped.
     */
    public boolean apply(dev.interestgraph.proto.v2.GraphDelta delta) {
        if (isApplied(delta.getUserId(), delta.getEpoch(), delta.getSeq())) {
            skipped++;
            return false;
        }
        return apply(decode(delta));
    }

    /**
     * Decodes a v2 delta against the current view ({@link #decode}) and applies it; returns the
     * decoded delta, also when it was skipped as already applied.
     */
    public GraphDelta decodeAndApply(dev.interestgraph.proto.v2.GraphDelta delta) {
        GraphDelta decoded = decode(delta);
        apply(decoded);
        return decoded;
    }

    /**
     * The self-contained v1 delta that a v2 delta amounts to for this materializer's current view
     * of the user: "unchanged" vectors, labels and top items filled in from the view, vectors
     * dequantised, times absolute, action counts by name. Changes nothing.
     */
    public GraphDelta decode(dev.interestgraph.proto.v2.GraphDelta delta) {
        UserView view = users.get(delta.getUserId());
        if (view != null && view.epoch != delta.getEpoch()) {
            view = null; // a new epoch starts empty
        }
        GraphDelta.Builder v1 = GraphDelta.newBuilder()
                .setUserId(delta.getUserId())
                .setEpoch(delta.getEpoch())
                .setSeq(delta.getSeq())
                .setEventTimeMs(delta.getEventTimeMs());
        if (delta.getUserErased()) {
            return v1.addOps(DeltaOp.newBuilder().setUserErased(UserErased.getDefaultInstance()))
                    .build();
        }
        for (dev.interestgraph.proto.v2.EdgeRemove remove : delta.getEdgeRemovesList()) {
            v1.addOps(DeltaOp.newBuilder().setEdgeRemove(EdgeRemove.newBuilder()
                    .setItemId(remove.getItemId())
                    .setReasonValue(remove.getReasonValue())));
        }
        for (dev.interestgraph.proto.v2.EdgeUpsert edge : delta.getEdgeUpsertsList()) {
            long lastMs = delta.getEventTimeMs() - edge.getLastMsBefore();
            EdgeUpsert.Builder upsert = EdgeUpsert.newBuilder()
                    .setItemId(edge.getItemId())
                    .setWeight(edge.getWeight())
                    .setFirstMs(lastMs - edge.getFirstMsBeforeLast())
                    .setLastMs(lastMs)
                    .setInterestId(edge.getInterestId())
                    .setModelVersion(edge.getHasVersion() ? version(delta, edge.getVersion()) : "");
            for (int i = 0; i < edge.getActionCountsCount() && i < ACTIONS.length - 1; i++) {
                if (edge.getActionCounts(i) > 0) {
                    upsert.putActionCounts(ACTIONS[i].name(), edge.getActionCounts(i));
                }
            }
            v1.addOps(DeltaOp.newBuilder().setEdgeUpsert(upsert));
        }
        for (int interestId : delta.getInterestRemovesList()) {
            v1.addOps(DeltaOp.newBuilder().setInterestRemove(
                    InterestRemove.newBuilder().setInterestId(interestId)));
        }
        for (dev.interestgraph.proto.v2.InterestUpsert interest : delta.getInterestUpsertsList()) {
            InterestUpsert before = view == null ? null
                    : view.interests.get(interest.getInterestId());
            InterestUpsert.Builder upsert = InterestUpsert.newBuilder()
                    .setInterestId(interest.getInterestId())
                    .setWeight(interest.getWeight())
                    .setSize(interest.getSize());
            if (interest.getLabelUnchanged()) {
                upsert.setLabel(before == null ? "" : before.getLabel());
            } else {
                upsert.setLabel(interest.getLabel());
            }
            if (interest.getTopItemsUnchanged()) {
                if (before != null) {
                    upsert.addAllTopItems(before.getTopItemsList());
                }
            } else {
                upsert.addAllTopItems(interest.getTopItemsList());
            }
            Vector centroid = interest.getCentroid();
            if (centroid.getChange() == VectorChange.SET) {
                addAll(upsert, VectorCodec.decode(centroid));
                upsert.setModelVersion(version(delta, centroid.getVersion()));
            } else {
                countInvalid(centroid, false);
                if (before != null) {
                    upsert.addAllCentroid(before.getCentroidList())
                            .setModelVersion(before.getModelVersion());
                }
            }
            v1.addOps(DeltaOp.newBuilder().setInterestUpsert(upsert));
        }
        ProfileUpdate profile = profile(delta, view == null ? null : view.profile);
        if (profile != null) {
            v1.addOps(DeltaOp.newBuilder().setProfileUpdate(profile));
        }
        return v1.build();
    }

    /** The v1 profile update a v2 profile change amounts to; null when nothing changed. */
    private ProfileUpdate profile(dev.interestgraph.proto.v2.GraphDelta delta,
            ProfileUpdate before) {
        Vector longTerm = delta.getProfile().getLongTerm();
        Vector shortTerm = delta.getProfile().getShortTerm();
        countInvalid(longTerm, true);
        countInvalid(shortTerm, true);
        boolean longSet = longTerm.getChange() == VectorChange.SET;
        boolean shortSet = shortTerm.getChange() == VectorChange.SET;
        if (longTerm.getChange() == VectorChange.CLEARED
                || shortTerm.getChange() == VectorChange.CLEARED) {
            return ProfileUpdate.getDefaultInstance(); // an empty update clears the profile
        }
        if (!longSet && !shortSet) {
            return null;
        }
        ProfileUpdate.Builder profile = ProfileUpdate.newBuilder();
        if (longSet) {
            for (float x : VectorCodec.decode(longTerm)) {
                profile.addLongTerm(x);
            }
            profile.setModelVersion(version(delta, longTerm.getVersion()));
        } else if (before != null) {
            profile.addAllLongTerm(before.getLongTermList()).setModelVersion(before.getModelVersion());
        }
        if (shortSet) {
            for (float x : VectorCodec.decode(shortTerm)) {
                profile.addShortTerm(x);
            }
            if (!longSet) {
                profile.setModelVersion(version(delta, shortTerm.getVersion()));
            }
        } else if (before != null) {
            profile.addAllShortTerm(before.getShortTermList());
        }
        return profile.build();
    }

    private void countInvalid(Vector vector, boolean mayClear) {
        VectorChange change = vector.getChange();
        if (change != VectorChange.UNCHANGED && change != VectorChange.SET
                && !(mayClear && change == VectorChange.CLEARED)) {
            invalidVectors++; // a producer always says; kept as it was
        }
    }

    private static void addAll(InterestUpsert.Builder upsert, float[] values) {
        for (float x : values) {
            upsert.addCentroid(x);
        }
    }

    private static String version(dev.interestgraph.proto.v2.GraphDelta delta, int index) {
        return index < delta.getModelVersionsCount() ? delta.getModelVersions(index) : "";
    }

    /** Vectors of v2 deltas that said neither UNCHANGED, SET nor (for a profile) CLEARED. */
    public long invalidVectorCount() {
        return invalidVectors;
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
