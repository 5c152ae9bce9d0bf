package dev.interestgraph.graph;

import dev.interestgraph.vector.CosineCalibration;
import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.vector.VectorMath;
import dev.interestgraph.graph.UserGraph.DecayedMean;
import dev.interestgraph.graph.UserGraph.Edge;
import dev.interestgraph.graph.UserGraph.Interest;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.delta.VectorCodec;
import dev.interestgraph.proto.v2.EdgeRemove;
import dev.interestgraph.proto.v2.EdgeUpsert;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.proto.v2.InterestUpsert;
import dev.interestgraph.proto.v2.ProfileChange;
import dev.interestgraph.proto.v2.Vector;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The interest-graph semantics (docs/architecture.md, "user-graph") as plain Java: applies a flush's events to a
 * {@link UserGraph} in event-time order and describes the net change as {@link GraphDelta}s of
 * delta contract v2 (docs/architecture.md): one per flush, vectors only when they moved.
 * The Flink operator ({@link UserGraphFunction}) only buffers, times and stores; everything that
 * decides a weight, an interest or a label is here and unit-testable.
 */
public final class GraphUpdater {
    /** Terms kept per interest for its label. */
    static final int MAX_TERMS_PER_INTEREST = 16;

    private final GraphParameters params;
    /**
     * Whether the delta's top items of an interest are always found by a walk over all edges
     * (as before issue 16's incremental ranking), for tests that compare the two.
     */
    private final boolean walkTopMembers;
    /** How many interest rankings took a walk over the edges, and how many did not (tests). */
    long rankingWalks;
    long rankingsWithoutWalk;
    /**
     * The event's vector decoded, reused from event to event (nothing keeps it past the event):
     * a GraphUpdater serves one thread, as the operator's subtask does.
     */
    private float[] scratch;
    /**
     * Means whose halves this flush decoded ({@link DecayedMean#values}: a merge's query
     * centroid, the vectors a delta sends), and decoded arrays free for the next: each mean is
     * decoded at most once per flush and the arrays are reused, so that the folds, cosines and
     * encodings after it neither decode it again nor allocate.
     */
    private final List<DecayedMean> decodedMeans = new ArrayList<>();
    private final ArrayDeque<float[]> spareValues = new ArrayDeque<>();

    public GraphUpdater(GraphParameters params) {
        this(params, false);
    }

    /** With {@code walkTopMembers}, ranks interest members by a walk every time (tests). */
    GraphUpdater(GraphParameters params, boolean walkTopMembers) {
        this.params = params;
        this.walkTopMembers = walkTopMembers;
        log2PruneThreshold = Math.log(params.pruneThreshold) / Math.log(2);
    }

    /** log₂ graph.prune-threshold (the sweep's test without a power per edge). */
    private final double log2PruneThreshold;

    /** Sort order of a flush: event time, then event id, so that replays apply identically. */
    public static final Comparator<EnrichedAction> EVENT_ORDER =
            Comparator.<EnrichedAction>comparingLong(e -> e.eventTimeMs)
                    .thenComparing(e -> e.eventId == null ? "" : e.eventId);

    /**
     * The vectors of a user's items in another encoder version, for re-basing the user's graph
     * at a version switch (fine-tuning). Implemented by the operator, which keeps the items'
     * texts; a failure is thrown unchecked (the job restarts from its checkpoint).
     */
    public interface ItemVectors {
        /** Vectors and label terms of those of the items it can embed in {@code version}. */
        Map<String, ItemVector> inVersion(Collection<String> itemIds, String version);
    }

    /** An item's vector (half floats) in one version, and its label terms. */
    public static final class ItemVector {
        public final short[] vector;
        public final String[] terms;

        public ItemVector(short[] vector, String[] terms) {
            this.vector = vector;
            this.terms = terms;
        }
    }

    /** The outcome of a flush, sweep or expiry. */
    public static final class Result {
        /** The graph to store; null when the user's state is to be cleared. */
        public UserGraph graph;
        public final List<GraphDelta> deltas = new ArrayList<>();
        public int edgesPruned;
        public int edgesCapped;
        public int interestsOpened;
        public int interestsMerged;
        /** Interests evicted at the cap (no pair similar enough to merge). */
        public int interestsEvicted;
        public int duplicatesDropped;
        public int rebases;
    }

    /**
     * Applies events (any order; they are sorted here) to the graph, which may be null for a user
     * without state. Usually yields one delta; FORGET_USER ends one and emits {@code UserErased}.
     */
    public Result flush(UserGraph graph, String userId, List<EnrichedAction> events) {
        return flush(graph, userId, events, null);
    }

    /**
     * As {@link #flush(UserGraph, String, List)}; with {@code itemVectors}, an event whose vector
     * is of another version than the graph's first re-bases the graph on that version (see
     * {@link #rebase}). Without it such an event restarts the profile and opens its own
     * interests, and the old version's interests fade out.
     */
    public Result flush(UserGraph graph, String userId, List<EnrichedAction> events,
            ItemVectors itemVectors) {
        return flush(graph, userId, events, itemVectors, Long.MIN_VALUE);
    }

    /**
     * As {@link #flush(UserGraph, String, List, ItemVectors)}, and when {@code sweepAtMs} is not
     * Long.MIN_VALUE also the decay sweep at that time, so that a flush and a sweep due at the
     * same tick leave as one delta (at most one delta per user per emit interval).
     */
    public Result flush(UserGraph graph, String userId, List<EnrichedAction> events,
            ItemVectors itemVectors, long sweepAtMs) {
        return flush(graph, userId, events, itemVectors, sweepAtMs, Long.MIN_VALUE);
    }

    /**
     * As {@link #flush(UserGraph, String, List, ItemVectors, long)}, with the flush's time (the
     * decay "now" of its end, the delta's event time) at least {@code notBeforeMs}: in arrival
     * order a batch may hold only events older than what the graph has applied, and its delta
     * must not step back in time.
     */
    public Result flush(UserGraph graph, String userId, List<EnrichedAction> events,
            ItemVectors itemVectors, long sweepAtMs, long notBeforeMs) {
        try {
            return flushDecoding(graph, userId, events, itemVectors, sweepAtMs, notBeforeMs);
        } finally {
            releaseDecoded();
        }
    }

    private Result flushDecoding(UserGraph graph, String userId, List<EnrichedAction> events,
            ItemVectors itemVectors, long sweepAtMs, long notBeforeMs) {
        List<EnrichedAction> sorted = new ArrayList<>(events);
        sorted.sort(EVENT_ORDER);
        derive(graph);
        Result result = new Result();
        Changes changes = new Changes();
        Set<String> seenEventIds = new HashSet<>();
        long flushTime = notBeforeMs;
        for (EnrichedAction event : sorted) {
            if (event.eventId != null && !seenEventIds.add(event.eventId)) {
                result.duplicatesDropped++;
                continue;
            }
            if (event.action == Action.FORGET_USER) {
                // changes not yet emitted are about the user too: they never leave the job
                result.deltas.add(erasure(graph, userId, event.eventTimeMs));
                graph = null;
                changes = new Changes();
                continue;
            }
            if (graph == null) {
                graph = new UserGraph();
                graph.derivedKnown = true; // nothing to derive yet
                graph.noPruneUntilMs = Long.MAX_VALUE; // no edge yet
                graph.epoch = event.eventTimeMs;
            }
            flushTime = Math.max(flushTime, event.eventTimeMs);
            if (event.hasVector() && event.cosineCalibration != null) {
                // before a re-base: the re-based interests are joined in the new version's space
                graph.calibrationVersion = event.modelVersion;
                graph.calibration = event.cosineCalibration;
            }
            if (itemVectors != null && event.hasVector()) {
                String current = versionOf(graph);
                if (current != null && !current.equals(event.modelVersion)) {
                    rebase(graph, event.modelVersion, itemVectors, changes, result);
                }
            }
            apply(graph, event, changes, result);
        }
        if (graph != null && !changes.isEmpty()) {
            finish(graph, flushTime, changes, result, false);
        }
        if (graph != null && sweepAtMs != Long.MIN_VALUE) {
            flushTime = Math.max(flushTime, sweepAtMs);
            finish(graph, flushTime, changes, result, true);
        }
        if (graph != null && !changes.isEmpty()) {
            result.deltas.add(emit(graph, userId, flushTime, changes));
        }
        result.graph = graph == null || graph.isEmpty() && graph.seq == 0 ? null : graph;
        return result;
    }

    /**
     * graph.interest-join-threshold for cosines between vectors of {@code version}: mapped by the
     * version's {@link CosineCalibration} when the graph holds one for it (fine-tuned versions
     * announced with their cosine statistics), else exactly the configured value (version 1,
     * the frozen encoder, announcements without statistics).
     */
    double joinThreshold(UserGraph graph, String version) {
        return calibrated(graph, version, params.interestJoinThreshold);
    }

    /** graph.interest-merge-threshold for cosines between centroids of {@code version}: as above. */
    double mergeThreshold(UserGraph graph, String version) {
        return calibrated(graph, version, params.interestMergeThreshold);
    }

    private static double calibrated(UserGraph graph, String version, double threshold) {
        if (graph.calibration == null || !graph.calibrationVersion.equals(version)) {
            return threshold;
        }
        return graph.calibration.map(threshold);
    }

    /** The decay sweep at event time {@code atMs}: removes what decayed below the threshold. */
    public Result sweep(UserGraph graph, String userId, long atMs) {
        try {
            derive(graph);
            Result result = new Result();
            Changes changes = new Changes();
            finish(graph, atMs, changes, result, true);
            if (!changes.isEmpty()) {
                result.deltas.add(emit(graph, userId, atMs, changes));
            }
            result.graph = graph;
            return result;
        } finally {
            releaseDecoded();
        }
    }

    /** The mean's halves decoded for this flush (see {@link #decodedMeans}). */
    private float[] decoded(DecayedMean mean) {
        if (mean.values == null) {
            mean.values = HalfFloats.toFloats(mean.mean, spareValues.poll());
            decodedMeans.add(mean);
        }
        return mean.values;
    }

    /** Takes the decoded arrays back from the means at the end of a flush, for the next. */
    private void releaseDecoded() {
        for (DecayedMean mean : decodedMeans) {
            if (mean.values != null) {
                spareValues.push(mean.values);
                mean.values = null;
            }
        }
        decodedMeans.clear();
    }

    // ------------------------------------------------------------------ event-time schedule

    /** The last millisecond of the flush slot that holds {@code eventTimeMs}. */
    public long flushTick(long eventTimeMs) {
        long interval = params.flushIntervalMs;
        return Math.floorDiv(eventTimeMs, interval) * interval + interval - 1;
    }

    /**
     * When the user's maintenance timer fires next: the next decay sweep, or the idle expiry if
     * that comes first, aligned to a flush tick so that it never splits a flush slot.
     */
    public long nextMaintenance(UserGraph graph, long nowMs) {
        long now = Math.max(nowMs, graph.lastEventMs);
        long expiry = saturatedAdd(graph.lastEventMs, params.idleTtlMs);
        long next = Math.min(saturatedAdd(now, params.sweepIntervalMs), expiry);
        return next >= Long.MAX_VALUE - params.flushIntervalMs ? Long.MAX_VALUE : flushTick(next);
    }

    /**
     * The maintenance timer fired: the idle expiry if the user has been idle long enough, else a
     * decay sweep. A result without a graph means the user expired.
     */
    public Result maintain(UserGraph graph, String userId, long atMs) {
        return isIdle(graph, atMs) ? expire(graph, userId, atMs) : sweep(graph, userId, atMs);
    }

    /** Whether the user has been idle for graph.idle-ttl at {@code atMs}. */
    public boolean isIdle(UserGraph graph, long atMs) {
        return atMs >= saturatedAdd(graph.lastEventMs, params.idleTtlMs);
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    /** Idle expiry: everything goes, with reason EXPIRED; the user's state is then cleared. */
    public Result expire(UserGraph graph, String userId, long atMs) {
        Result result = new Result();
        Changes changes = new Changes();
        for (String itemId : graph.edges.keySet()) {
            changes.removeEdge(itemId, true, EdgeRemove.Reason.EXPIRED);
        }
        graph.interests.values().forEach(changes::interestRemoved);
        graph.edges.clear();
        graph.interests.clear();
        changes.profileChanged = graph.longTerm != null;
        graph.longTerm = null; // the profile is CLEARED
        graph.shortTerm = null;
        result.deltas.add(emit(graph, userId, atMs, changes));
        result.graph = null;
        return result;
    }

    // ------------------------------------------------------------------ applying one event

    private void apply(UserGraph graph, EnrichedAction event, Changes changes, Result result) {
        double amount = params.actionWeight(event.action, event.value);
        Edge edge = graph.edges.get(event.itemId);
        changes.touchEdge(event.itemId, edge != null);
        if (edge == null) {
            edge = new Edge(event.itemId, event.eventTimeMs);
        }
        edge.add(amount, event.eventTimeMs, params.edgeHalfLifeMs);
        graph.noPruneUntilMs = Math.min(graph.noPruneUntilMs, noPruneUntil(edge));
        edge.actionCounts[event.action.ordinal()]++;
        Interest member = graph.interests.get(edge.interestId);
        if (member != null) {
            member.touch(edge.itemId); // its weight changed
        }
        if (event.hasVector()) {
            edge.modelVersion = event.modelVersion;
        }
        graph.edges.put(edge); // new or changed (before the join: assign puts it again)
        graph.lastEventMs = Math.max(graph.lastEventMs, event.eventTimeMs);

        if (amount > 0 && event.hasVector()) {
            float[] vector = scratch = HalfFloats.toFloats(event.vector, scratch);
            joinInterest(graph, edge, event, vector, amount, changes, result);
            graph.longTerm = addToProfile(graph.longTerm, vector, amount, event,
                    params.longTermHalfLifeMs);
            graph.shortTerm = addToProfile(graph.shortTerm, vector, amount, event,
                    params.shortTermHalfLifeMs);
            changes.profileChanged = true;
        } else if (edge.weight <= 0 && edge.interestId >= 0) {
            // a disliked item no longer stands for the interest it was in
            changes.interestChanged(edge.interestId);
            assign(graph, edge, -1);
        }
    }

    /** The model version of the graph's vectors, or null when it has none. */
    /**
     * The versions a flush of these events would re-base the graph on when given
     * {@link ItemVectors}: in event order, each version of an event with a vector that differs
     * from the graph's version at that point. Empty when the flush needs no re-embedding. The
     * operator asks for these vectors before the flush, without waiting (a re-base must not
     * block the task), and flushes once they are there.
     */
    public static Set<String> rebaseVersions(UserGraph graph, List<EnrichedAction> events) {
        List<EnrichedAction> sorted = new ArrayList<>(events);
        sorted.sort(EVENT_ORDER);
        Set<String> versions = new LinkedHashSet<>();
        String current = graph == null ? null : versionOf(graph);
        for (EnrichedAction event : sorted) {
            if (event.action == Action.FORGET_USER) {
                current = null; // a new graph starts in the version of its first vector
            } else if (event.hasVector()) {
                if (current != null && !current.equals(event.modelVersion)) {
                    versions.add(event.modelVersion);
                }
                current = event.modelVersion;
            }
        }
        return versions;
    }

    static String versionOf(UserGraph graph) {
        if (graph.longTerm != null) {
            return graph.longTerm.modelVersion;
        }
        for (Interest interest : graph.interests.values()) {
            return interest.centroid.modelVersion;
        }
        return null;
    }

    /**
     * A version switch, before the first vector of the new version is fused: every vector of the
     * old version goes (interests, profiles), and the interests and profiles are recomputed from
     * the items on the user's edges in the new version, each positive edge applied once with its
     * weight at its last event time, oldest first. Edges, weights and counts stay as they are;
     * items that cannot be embedded (no text known) stay without an interest.
     */
    private void rebase(UserGraph graph, String version, ItemVectors itemVectors,
            Changes changes, Result result) {
        List<Edge> positive = new ArrayList<>();
        for (Edge edge : graph.edges.values()) {
            if (edge.weight > 0) {
                positive.add(edge);
            }
        }
        Map<String, ItemVector> vectors = positive.isEmpty() ? Map.of()
                : itemVectors.inVersion(positive.stream().map(e -> e.itemId).toList(), version);
        graph.interests.values().forEach(changes::interestRemoved);
        graph.interests.clear();
        boolean hadProfile = graph.longTerm != null;
        graph.longTerm = null;
        graph.shortTerm = null;
        for (Edge edge : graph.edges.values()) {
            if (edge.interestId >= 0 || vectors.containsKey(edge.itemId)) {
                changes.touchEdge(edge.itemId, true); // its interest or version changes
            }
            assign(graph, edge, -1);
        }
        positive.removeIf(edge -> !vectors.containsKey(edge.itemId));
        positive.sort(Comparator.<Edge>comparingLong(e -> e.lastMs).thenComparing(e -> e.itemId));
        for (Edge edge : positive) {
            ItemVector item = vectors.get(edge.itemId);
            EnrichedAction replayed = new EnrichedAction();
            replayed.itemId = edge.itemId;
            replayed.eventTimeMs = edge.lastMs;
            replayed.vector = item.vector;
            replayed.modelVersion = version;
            replayed.terms = item.terms;
            edge.modelVersion = version;
            graph.edges.put(edge);
            float[] vector = HalfFloats.toFloats(item.vector);
            joinInterest(graph, edge, replayed, vector, edge.weight, changes, result);
            graph.longTerm = addToProfile(graph.longTerm, vector, edge.weight, replayed,
                    params.longTermHalfLifeMs);
            graph.shortTerm = addToProfile(graph.shortTerm, vector, edge.weight, replayed,
                    params.shortTermHalfLifeMs);
        }
        changes.profileChanged = hadProfile || graph.longTerm != null;
        result.rebases++;
    }

    /**
     * Fusion of new evidence into the profile: a decayed mean of item vectors of one model
     * version. A vector of another version starts the profile afresh rather than being mixed.
     */
    private static DecayedMean addToProfile(DecayedMean profile, float[] vector, double amount,
            EnrichedAction event, long halfLifeMs) {
        if (profile == null || !profile.modelVersion.equals(event.modelVersion)) {
            return new DecayedMean(event.vector.clone(), amount, event.eventTimeMs,
                    event.modelVersion);
        }
        profile.add(vector, event.modelVersion, amount, event.eventTimeMs, halfLifeMs);
        return profile;
    }

    private void joinInterest(UserGraph graph, Edge edge, EnrichedAction event, float[] vector,
            double amount, Changes changes, Result result) {
        Interest best = null;
        double bestSimilarity = Double.NEGATIVE_INFINITY;
        double norm = VectorMath.norm(vector);
        List<DecayedMean> centroids = new ArrayList<>(graph.interests.size());
        List<Interest> candidates = new ArrayList<>(graph.interests.size());
        for (Interest interest : graph.interests.values()) {
            if (!interest.centroid.modelVersion.equals(event.modelVersion)) {
                continue; // never compare or mix vectors of different model versions
            }
            candidates.add(interest);
            centroids.add(interest.centroid);
        }
        double[] similarities = cosines(centroids, vector, norm,
                mean -> mean.cosine(vector, norm));
        for (int i = 0; i < candidates.size(); i++) {
            if (similarities[i] > bestSimilarity) {
                best = candidates.get(i);
                bestSimilarity = similarities[i];
            }
        }
        if (best == null || bestSimilarity < joinThreshold(graph, event.modelVersion)) {
            if (graph.interests.size() >= params.maxInterests
                    && !makeRoom(graph, event.eventTimeMs, amount, changes, result)) {
                // issue 17: a weak item does not displace an established interest
                if (edge.interestId >= 0) {
                    changes.interestChanged(edge.interestId);
                    assign(graph, edge, -1);
                }
                return;
            }
            best = new Interest(graph.nextInterestId++, new DecayedMean(event.vector.clone(), 0,
                    event.eventTimeMs, event.modelVersion));
            best.centroid.keepOnGrid();
            graph.interests.put(best.id, best);
            result.interestsOpened++;
        }
        if (best.centroid.weight == 0) {
            best.centroid.weight = amount; // a new interest: the item's own vector is the centroid
        } else {
            best.centroid.add(vector, event.modelVersion, amount, event.eventTimeMs,
                    params.edgeHalfLifeMs);
        }
        addTerms(best, event.terms, amount);
        changes.labelInputsChanged = true; // its terms (or a new interest)
        if (edge.interestId != best.id) {
            if (edge.interestId >= 0) {
                changes.interestChanged(edge.interestId);
            }
            assign(graph, edge, best.id);
        }
        changes.interestChanged(best.id);
    }

    /**
     * The cosine of {@code x} (norm {@code xNorm}) with every mean, bit for bit what
     * {@link DecayedMean#cosine(float[], double)} gives (a product of two norms is the same in
     * either order), with the dot products taken four means at a time from their halves
     * ({@link VectorMath#halfDotsInto}: each summed in index order as the single loop sums it,
     * but four independent sums keep the adder busy where one waits for each add: the cosines
     * were 13 % of the operator's JMH samples). A mean of another dimension takes
     * {@code otherDimension}, the plain computation.
     */
    private double[] cosines(List<DecayedMean> means, float[] x, double xNorm,
            java.util.function.ToDoubleFunction<DecayedMean> otherDimension) {
        double[] dots = dots(means, x);
        double[] cosines = new double[dots.length];
        for (int i = 0; i < dots.length; i++) {
            DecayedMean mean = means.get(i);
            if (mean.mean.length != x.length) {
                cosines[i] = otherDimension.applyAsDouble(mean);
                continue;
            }
            double denominator = mean.norm() * xNorm;
            cosines[i] = denominator == 0 ? 0 : dots[i] / denominator;
        }
        return cosines;
    }

    /**
     * The dot products of each mean with {@code x}, from the halves (decoded in the loop, four
     * means at a time: {@link VectorMath#halfDotsInto}).
     */
    private static double[] dots(List<DecayedMean> means, float[] x) {
        short[][] vectors = new short[means.size()][];
        for (int i = 0; i < vectors.length; i++) {
            vectors[i] = means.get(i).mean;
        }
        double[] dots = new double[vectors.length];
        VectorMath.halfDotsInto(vectors, x, dots);
        return dots;
    }

    /**
     * The interests are full (issue 17): merges the two most similar interests of one model
     * version if their cosine reaches graph.interest-merge-threshold; otherwise evicts the weakest
     * interest (a provisional one first), whose items become unassigned — unless it is published
     * and weighs more than the new item ({@code amount}): then nothing changes and the caller
     * leaves the item unassigned. Unrelated interests never merge.
     *
     * @return whether there is room now
     */
    private boolean makeRoom(UserGraph graph, long atMs, double amount, Changes changes,
            Result result) {
        List<Interest> all = new ArrayList<>(graph.interests.values());
        Interest first = null;
        Interest second = null;
        double bestSimilarity = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < all.size(); i++) {
            for (int j = i + 1; j < all.size(); j++) {
                Interest a = all.get(i);
                Interest b = all.get(j);
                if (!a.centroid.modelVersion.equals(b.centroid.modelVersion)) {
                    continue;
                }
                double similarity = a.centroid.cosine(b.centroid);
                if (similarity > bestSimilarity) {
                    bestSimilarity = similarity;
                    first = a;
                    second = b;
                }
            }
        }
        if (first != null
                && bestSimilarity >= mergeThreshold(graph, first.centroid.modelVersion)) {
            merge(graph, first, second, atMs, changes, result);
            return true;
        }
        Interest weakest = all.stream()
                .min(Comparator.comparing(InterestMerging::isPublished)
                        .thenComparingDouble(
                                (Interest i) -> i.centroid.weightAt(atMs, params.edgeHalfLifeMs))
                        .thenComparingInt(i -> i.id))
                .orElseThrow();
        if (InterestMerging.isPublished(weakest)
                && weakest.centroid.weightAt(atMs, params.edgeHalfLifeMs) > amount) {
            return false;
        }
        reassign(graph, weakest.id, -1, changes);
        graph.interests.remove(weakest.id);
        changes.interestRemoved(weakest);
        result.interestsEvicted++;
        return true;
    }

    /** Merges two interests into the one whose id survives ({@link InterestMerging#keepsFirst}). */
    private Interest merge(UserGraph graph, Interest a, Interest b, long atMs, Changes changes,
            Result result) {
        boolean aKept = InterestMerging.keepsFirst(a, b, atMs, params.edgeHalfLifeMs);
        Interest keep = aKept ? a : b;
        Interest absorb = aKept ? b : a;
        keep.centroid.merge(absorb.centroid, atMs, params.edgeHalfLifeMs);
        for (Map.Entry<String, Float> term : absorb.terms.entrySet()) {
            keep.terms.merge(term.getKey(), term.getValue(), Float::sum);
        }
        trimTerms(keep);
        reassign(graph, absorb.id, keep.id, changes);
        graph.interests.remove(absorb.id);
        changes.interestRemoved(absorb);
        changes.interestChanged(keep.id);
        result.interestsMerged++;
        return keep;
    }

    /**
     * After a flush (issue 17): each interest the flush touched merges with any interest of the
     * user whose centroid's cosine reaches graph.interest-merge-threshold, most similar first,
     * until none does — two interests of one topic do not both keep feeding on it.
     */
    private void mergeTouched(UserGraph graph, long atMs, Changes changes, Result result) {
        boolean merged = true;
        while (merged) {
            merged = false;
            for (Integer id : new ArrayList<>(changes.changedInterests)) {
                Interest touched = graph.interests.get(id);
                if (touched == null) {
                    continue;
                }
                Interest closest = null;
                double best = Double.NEGATIVE_INFINITY;
                List<Interest> others = new ArrayList<>(graph.interests.size());
                List<DecayedMean> centroids = new ArrayList<>(graph.interests.size());
                for (Interest other : graph.interests.values()) {
                    if (other.id == touched.id || !other.centroid.modelVersion
                            .equals(touched.centroid.modelVersion)) {
                        continue;
                    }
                    others.add(other);
                    centroids.add(other.centroid);
                }
                double[] similarities = cosines(centroids,
                        decoded(touched.centroid), touched.centroid.norm(),
                        touched.centroid::cosine);
                for (int i = 0; i < others.size(); i++) {
                    if (similarities[i] > best) {
                        best = similarities[i];
                        closest = others.get(i);
                    }
                }
                if (closest != null
                        && best >= mergeThreshold(graph, touched.centroid.modelVersion)) {
                    merge(graph, touched, closest, atMs, changes, result);
                    merged = true; // the merged centroid moved: look again
                    break;
                }
            }
        }
    }

    /**
     * The sweep's re-clustering (issue 17): Ward agglomerative clustering of the user's interests
     * per model version, cut at graph.interest-merge-threshold ({@link InterestClustering#ward}),
     * each new cluster keeping the id of the old interest it shares most items with ({@link
     * InterestClustering#matchIds}) — though an emitted interest's id wins over a provisional
     * one's ({@link InterestMerging#keepsFirst}): consumers know only the former. The state keeps no item vectors, so the interests (centroid,
     * weight) are the points: what this adds to the merges after each flush is that groups of
     * interests whose centroids drifted together are merged as a whole, by the Ward criterion.
     */
    private void recluster(UserGraph graph, long atMs, Changes changes, Result result) {
        if (graph.interests.size() < 2) {
            return;
        }
        Map<String, List<Interest>> byVersion = new TreeMap<>();
        for (Interest interest : graph.interests.values()) {
            byVersion.computeIfAbsent(interest.centroid.modelVersion, v -> new ArrayList<>())
                    .add(interest);
        }
        // the interests' members: a walk over the edges, only once some clusters merge (most
        // sweeps merge nothing, and the walk was most of their cost)
        Map<Integer, Set<String>> members = null;
        for (Map.Entry<String, List<Interest>> version : byVersion.entrySet()) {
            List<Interest> interests = version.getValue();
            List<float[]> vectors = new ArrayList<>(interests.size());
            double[] weights = new double[interests.size()];
            for (int i = 0; i < interests.size(); i++) {
                vectors.add(interests.get(i).centroid.direction());
                weights[i] = interests.get(i).centroid.weightAt(atMs, params.edgeHalfLifeMs);
            }
            List<List<Integer>> clusters = InterestClustering.ward(vectors, weights,
                    mergeThreshold(graph, version.getKey()));
            if (clusters.size() == interests.size()) {
                continue;
            }
            if (members == null) {
                members = new TreeMap<>();
                for (Edge edge : graph.edges.values()) {
                    if (edge.interestId >= 0) {
                        members.computeIfAbsent(edge.interestId, i -> new TreeSet<>())
                                .add(edge.itemId);
                    }
                }
            }
            List<Set<String>> oldMembers = new ArrayList<>();
            int[] oldIds = new int[interests.size()];
            for (int i = 0; i < interests.size(); i++) {
                oldIds[i] = interests.get(i).id;
                oldMembers.add(members.getOrDefault(oldIds[i], Set.of()));
            }
            List<Set<String>> newMembers = new ArrayList<>();
            for (List<Integer> cluster : clusters) {
                Set<String> union = new TreeSet<>();
                cluster.forEach(i -> union.addAll(oldMembers.get(i)));
                newMembers.add(union);
            }
            int[] ids = InterestClustering.matchIds(oldMembers, oldIds, newMembers);
            for (int c = 0; c < clusters.size(); c++) {
                List<Integer> cluster = clusters.get(c);
                if (cluster.size() < 2) {
                    continue;
                }
                // the matched id survives; without members anywhere, the keeper rule decides
                Interest keep = ids[c] >= 0 ? graph.interests.get(ids[c])
                        : interests.get(cluster.get(0));
                for (int i : cluster) {
                    Interest other = interests.get(i);
                    if (other != keep) {
                        keep = merge(graph, keep, other, atMs, changes, result);
                    }
                }
            }
        }
    }

    /** Moves an interest's edges to another (or to none, -1); their upserts say so. */
    private static void reassign(UserGraph graph, int fromInterest, int toInterest,
            Changes changes) {
        for (Edge edge : graph.edges.values()) {
            if (edge.interestId == fromInterest) {
                assign(graph, edge, toInterest);
                changes.touchEdge(edge.itemId, true);
            }
        }
    }

    /**
     * Moves an edge to another interest (or to none, -1), keeping both interests' derived
     * {@link Interest#size() sizes} and top-members caches: every change of an edge's interest
     * goes through here.
     */
    private static void assign(UserGraph graph, Edge edge, int toInterest) {
        if (edge.interestId == toInterest) {
            return;
        }
        Interest from = graph.interests.get(edge.interestId);
        if (from != null) {
            from.size--;
            from.touch(edge.itemId);
        }
        edge.interestId = toInterest;
        graph.edges.put(edge);
        Interest to = graph.interests.get(toInterest);
        if (to != null) {
            to.size++;
            to.touch(edge.itemId);
        }
    }

    /**
     * Derives the interests' sizes (and forgets their top-members caches) in one walk over the
     * edges, unless this graph object already has them: once per restored graph (RocksDB reads a
     * new object per flush; the heap keeps the object), never per flush on the heap.
     */
    private static void derive(UserGraph graph) {
        if (graph == null || graph.derivedKnown) {
            return;
        }
        for (Interest interest : graph.interests.values()) {
            interest.size = 0;
            interest.forgetTop();
        }
        for (Edge edge : graph.edges.values()) {
            Interest interest = edge.interestId < 0 ? null : graph.interests.get(edge.interestId);
            if (interest != null) {
                interest.size++;
            }
        }
        graph.derivedKnown = true;
    }

    private static void addTerms(Interest interest, String[] terms, double amount) {
        if (terms == null) {
            return;
        }
        for (String term : terms) {
            interest.terms.merge(term, (float) amount, Float::sum);
        }
        trimTerms(interest);
    }

    private static void trimTerms(Interest interest) {
        while (interest.terms.size() > MAX_TERMS_PER_INTEREST) {
            String weakest = interest.terms.entrySet().stream()
                    .min(Map.Entry.<String, Float>comparingByValue()
                            .thenComparing(Map.Entry.comparingByKey(Comparator.reverseOrder())))
                    .orElseThrow().getKey();
            interest.terms.remove(weakest);
        }
    }

    // ------------------------------------------------------------------ end of a flush

    /**
     * Prunes decayed edges, applies the cap, drops empty interests and refreshes labels. A flush
     * checks only the edges it touched for pruning (an untouched edge only decays: the sweep
     * removes it); the sweep ({@code sweep} true) checks them all.
     */
    private void finish(UserGraph graph, long atMs, Changes changes, Result result,
            boolean sweep) {
        List<String> decayed = new ArrayList<>();
        if (sweep && atMs <= graph.noPruneUntilMs) {
            // no edge can have decayed below the threshold yet: no walk (on the heap, where
            // the graph object and this bound live on between flushes)
        } else if (sweep) {
            long noPruneUntil = Long.MAX_VALUE;
            for (Edge edge : graph.edges.values()) { // (not a look-up per key)
                if (!surelyAbovePruneThreshold(edge, atMs) && Math.abs(edge.weightAt(atMs,
                        params.edgeHalfLifeMs)) < params.pruneThreshold) {
                    decayed.add(edge.itemId);
                } else {
                    noPruneUntil = Math.min(noPruneUntil, noPruneUntil(edge));
                }
            }
            graph.noPruneUntilMs = noPruneUntil;
        } else {
            for (String itemId : changes.upsertedEdges) {
                Edge edge = graph.edges.get(itemId);
                if (edge != null && Math.abs(edge.weightAt(atMs, params.edgeHalfLifeMs))
                        < params.pruneThreshold) {
                    decayed.add(itemId);
                }
            }
        }
        for (String itemId : decayed) {
            removeEdge(graph, itemId, EdgeRemove.Reason.DECAYED, changes);
            result.edgesPruned++;
        }
        int excess = graph.edges.size() - params.maxEdgesPerUser;
        if (excess > 0) {
            // one walk (a store may iterate its backing state): the weakest go, ties by item id
            // (stores iterate in any order); removing one does not change the others' weights,
            // so the weakest `excess` at once are the edges a scan per excess edge would remove
            List<Map.Entry<Double, String>> weakest = new ArrayList<>(graph.edges.size());
            for (Edge edge : graph.edges.values()) {
                weakest.add(Map.entry(Math.abs(edge.weightAt(atMs, params.edgeHalfLifeMs)),
                        edge.itemId));
            }
            if (excess == 1) {
                // usually one new edge over the cap: a scan, not a sort
                Map.Entry<Double, String> first = weakest.get(0);
                for (Map.Entry<Double, String> candidate : weakest) {
                    if (WEAKEST_FIRST.compare(candidate, first) < 0) {
                        first = candidate;
                    }
                }
                weakest = List.of(first);
            } else {
                weakest.sort(WEAKEST_FIRST);
            }
            for (int i = 0; i < excess; i++) {
                removeEdge(graph, weakest.get(i).getValue(), EdgeRemove.Reason.CAPPED, changes);
                result.edgesCapped++;
            }
        }
        if (sweep || !changes.changedInterests.isEmpty()) {
            // (sizes are kept as edges join and leave: no walk over the edges)
            for (Integer interestId : new ArrayList<>(graph.interests.keySet())) {
                if (graph.interests.get(interestId).size == 0) {
                    changes.interestRemoved(graph.interests.remove(interestId));
                }
            }
            // issue 17: one interest per meaning — merge, or re-cluster at the sweep
            if (sweep) {
                recluster(graph, atMs, changes, result);
            } else {
                mergeTouched(graph, atMs, changes, result);
            }
            // a provisional interest that became real: its members now name it downstream
            for (Interest interest : graph.interests.values()) {
                // the weight as of its newest item: what it held when it last grew
                if (!InterestMerging.isPublished(interest) && InterestMerging.isReal(
                        interest.size, interest.centroid.weight, params)) {
                    changes.interestChanged(interest.id);
                    changes.published.add(interest.id);
                    // a walk, but once in an interest's life
                    for (Edge edge : graph.edges.values()) {
                        if (edge.interestId == interest.id) {
                            changes.touchEdge(edge.itemId, true);
                        }
                    }
                }
            }
            // labels depend on every interest's terms: a change to one may relabel another.
            // Unless a term or the set of interests changed since they were last computed (in
            // this flush, or in the flush that last changed them: every such change reaches
            // here), they are the stored ones: a sweep, a dislike or the sweep half of a flush
            // computes nothing.
            if (changes.labelInputsChanged) {
                changes.labelInputsChanged = false;
                Map<Integer, String> labels = InterestLabels.labels(graph.interests.values());
                for (Interest interest : graph.interests.values()) {
                    String label = labels.get(interest.id);
                    if (!label.equals(interest.label)) {
                        interest.label = label;
                        changes.labelChanged(interest.id);
                    }
                }
            }
        }
    }

    /**
     * Whether the edge's weight decayed to {@code atMs} is certainly not below
     * graph.prune-threshold, decided without the {@code Math.pow} of the decay: |w| = m·2^e
     * (e its binary exponent, m in [1, 2)) ≥ 2^(e + m − 1) because log₂ m ≥ m − 1 there, and the
     * decay is 2^−Δt/h, so e + m − 1 − Δt/h ≥ log₂ threshold + 0.001 leaves a margin far above
     * the rounding of the exact test. False says "test it exactly", never "prune": the sweep
     * prunes exactly the edges it pruned before, with one power per edge near the threshold
     * instead of one per edge (a sweep walks all of the user's edges).
     */
    private boolean surelyAbovePruneThreshold(Edge edge, long atMs) {
        double halfLives = atMs <= edge.lastMs ? 0
                : (double) (atMs - edge.lastMs) / params.edgeHalfLifeMs;
        return log2Below(edge.weight) - halfLives >= log2PruneThreshold + 0.001;
    }

    /**
     * A lower bound of log₂ |w| without a logarithm (e + m − 1, see above); −∞ for a zero or
     * subnormal weight (whose exponent does not bound it), NaN for NaN.
     */
    private static double log2Below(double weight) {
        double magnitude = Math.abs(weight);
        if (!(magnitude >= Double.MIN_NORMAL)) {
            return magnitude != magnitude ? Double.NaN : Double.NEGATIVE_INFINITY;
        }
        int exponent = Math.getExponent(magnitude);
        if (exponent > Double.MAX_EXPONENT) {
            return Double.POSITIVE_INFINITY; // infinite: never below the threshold
        }
        return exponent + (Math.scalb(magnitude, -exponent) - 1);
    }

    /**
     * An event time up to which the edge, untouched, is certainly not below
     * graph.prune-threshold (the bound {@link #surelyAbovePruneThreshold} tests, solved for the
     * time, less a millisecond): {@link Long#MIN_VALUE} when it may already be.
     */
    private long noPruneUntil(Edge edge) {
        double halfLives = log2Below(edge.weight) - log2PruneThreshold - 0.001;
        if (!(halfLives >= 0)) {
            return Long.MIN_VALUE; // (NaN included: tested exactly at every sweep)
        }
        double until = edge.lastMs + Math.floor(halfLives * params.edgeHalfLifeMs) - 1;
        return until >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) until;
    }

    private static void removeEdge(UserGraph graph, String itemId, EdgeRemove.Reason reason,
            Changes changes) {
        Edge edge = graph.edges.remove(itemId);
        Interest interest = graph.interests.get(edge.interestId);
        if (interest != null) {
            interest.size--;
            interest.touch(itemId);
        }
        if (edge.interestId >= 0) {
            changes.interestChanged(edge.interestId);
        }
        changes.removeEdge(itemId, changes.existedBefore(itemId), reason);
    }

    /** A ranked member's edge weight and last event time, as the ranking cache keeps them. */
    private record Stored(double weight, long lastMs) {}

    /** The cap's order: weakest |weight| first, then by item id. */
    private static final Comparator<Map.Entry<Double, String>> WEAKEST_FIRST =
            Map.Entry.<Double, String>comparingByKey().thenComparing(Map.Entry.comparingByValue());

    /** The delta's order of an interest's members: strongest first, then by item id. */
    private static final Comparator<Map.Entry<Double, String>> STRONGEST_FIRST =
            Map.Entry.<Double, String>comparingByKey().reversed()
                    .thenComparing(Map.Entry.comparingByValue());

    /**
     * A prefix, at least graph.interest-top-items long (or every member), of the interest's
     * members ranked as the delta ranks them: (decayed weight at {@code atMs}, item id) strongest
     * first. Usually from the interest's cached ranking ({@link Interest#top}) and the members
     * touched since, without a walk over the edges: a member nobody touched decays at the same
     * rate as every other untouched member, so every untouched member outside the cached prefix
     * still ranks below every untouched member inside it, and the candidates ranked down to the
     * weakest untouched cached member are the true ranking's prefix. A walk when that prefix is
     * too short (top members left or weakened) or nothing is cached (after a restore, or when the
     * interest is first emitted). The weights compared are computed as the walk computes them, so
     * the result is the walk's — barring two members whose decayed weights are equal to the last
     * bit at one time and not at another, which with real weights and times does not occur.
     */
    private List<Map.Entry<Double, String>> topMembers(UserGraph graph, Interest interest,
            long atMs) {
        int topItems = params.interestTopItems;
        List<Map.Entry<Double, String>> ranked = null;
        boolean complete = true;
        // each candidate's stored weight and last time, for the next cache
        Map<String, Stored> stored = new HashMap<>();
        if (!walkTopMembers && interest.top != null && atMs >= interest.topAtMs) {
            List<Map.Entry<Double, String>> candidates =
                    new ArrayList<>(interest.top.size() + interest.touchedMembers().size());
            for (int i = 0; i < interest.top.size(); i++) {
                String itemId = interest.top.get(i);
                if (!interest.touched(itemId)) {
                    // untouched since it was ranked (every change of a member touches it): its
                    // edge is as the cache recorded it, so no read of the edge (a state read)
                    Stored member = new Stored(interest.topWeights[i], interest.topLastMs[i]);
                    stored.put(itemId, member);
                    candidates.add(Map.entry(Edge.weightAt(member.weight, member.lastMs, atMs,
                            params.edgeHalfLifeMs), itemId));
                }
            }
            for (String itemId : interest.touchedMembers()) {
                Edge edge = graph.edges.get(itemId);
                if (edge != null && edge.interestId == interest.id) {
                    stored.put(itemId, new Stored(edge.weight, edge.lastMs));
                    candidates.add(Map.entry(edge.weightAt(atMs, params.edgeHalfLifeMs),
                            itemId));
                }
            }
            candidates.sort(STRONGEST_FIRST);
            if (candidates.size() == interest.size) {
                ranked = candidates; // every member
            } else if (!interest.topComplete) {
                int weakestUntouched = candidates.size() - 1;
                while (weakestUntouched >= 0 && interest.touched(
                        candidates.get(weakestUntouched).getValue())) {
                    weakestUntouched--;
                }
                if (weakestUntouched + 1 >= topItems) {
                    ranked = candidates.subList(0, weakestUntouched + 1);
                    complete = false;
                }
            }
        }
        if (ranked != null) {
            rankingsWithoutWalk++;
        } else {
            rankingWalks++;
            ranked = new ArrayList<>(interest.size);
            for (Edge edge : graph.edges.values()) {
                if (edge.interestId == interest.id) {
                    stored.put(edge.itemId, new Stored(edge.weight, edge.lastMs));
                    ranked.add(Map.entry(edge.weightAt(atMs, params.edgeHalfLifeMs),
                            edge.itemId));
                }
            }
            ranked.sort(STRONGEST_FIRST);
        }
        if (atMs >= graph.lastEventMs) {
            // cache one more than the top items, so that one leaving or weakening needs no
            // walk; the cache is persisted (~22 B a member in the RocksDB summary), and the
            // 2 × top + 2 kept before saved no measurable CPU time on heap or RocksDB
            // (docs/benchmarks.md, issue 16's state-size step)
            int keep = Math.min(ranked.size(), topItems + 1);
            List<String> top = new ArrayList<>(keep);
            double[] weights = new double[keep];
            long[] lastMs = new long[keep];
            for (int i = 0; i < keep; i++) {
                String itemId = ranked.get(i).getValue();
                Stored member = stored.get(itemId);
                top.add(itemId);
                weights[i] = member.weight;
                lastMs[i] = member.lastMs;
            }
            interest.ranked(top, weights, lastMs, complete && ranked.size() <= keep, atMs);
        } else {
            // an edge's last event is later than atMs: its weight is not yet decaying, and
            // the order of untouched members could change until then
            interest.forgetTop();
        }
        return ranked;
    }

    // ------------------------------------------------------------------ building deltas

    private GraphDelta emit(UserGraph graph, String userId, long atMs, Changes changes) {
        GraphDelta.Builder delta = GraphDelta.newBuilder()
                .setUserId(userId)
                .setEpoch(graph.epoch)
                .setSeq(++graph.seq)
                .setEventTimeMs(atMs);
        List<String> versions = new ArrayList<>(1);
        for (Map.Entry<String, EdgeRemove.Reason> removed : changes.removedEdges.entrySet()) {
            delta.addEdgeRemoves(EdgeRemove.newBuilder()
                    .setItemId(removed.getKey()).setReason(removed.getValue()));
        }
        for (String itemId : changes.upsertedEdges) {
            Edge edge = graph.edges.get(itemId);
            if (edge != null) {
                delta.addEdgeUpserts(edgeUpsert(edge, published(graph, edge, changes), atMs,
                        versions));
            }
        }
        for (Integer interestId : changes.removedInterests) {
            if (!graph.interests.containsKey(interestId)) {
                delta.addInterestRemoves(interestId);
            }
        }
        for (Integer interestId : changes.changedInterests) {
            Interest interest = graph.interests.get(interestId);
            if (interest != null && (InterestMerging.isPublished(interest)
                    || changes.published.contains(interestId))) {
                // (a provisional interest is not emitted: issue 17)
                delta.addInterestUpserts(interestUpsert(interest,
                        topMembers(graph, interest, atMs), atMs,
                        changes.labelsChanged.contains(interestId), versions));
            }
        }
        ProfileChange.Builder profile = ProfileChange.newBuilder();
        if (changes.profileChanged && graph.longTerm == null) {
            // expiry, or a re-base that found no item to rebuild the profile from
            profile.setLongTerm(VectorCodec.CLEARED).setShortTerm(VectorCodec.CLEARED);
        } else if (changes.profileChanged) {
            profile.setLongTerm(vector(graph.longTerm, atMs, versions))
                    .setShortTerm(vector(graph.shortTerm, atMs, versions));
        } else {
            profile.setLongTerm(VectorCodec.UNCHANGED).setShortTerm(VectorCodec.UNCHANGED);
        }
        delta.setProfile(profile);
        return delta.addAllModelVersions(versions).build();
    }

    /** The mean's direction when it is due to be sent (and marks it sent), else UNCHANGED. */
    private Vector vector(DecayedMean mean, long atMs, List<String> versions) {
        if (!mean.dueToSend(atMs, params.vectorMinAngle, params.vectorMaxAgeMs)) {
            return VectorCodec.UNCHANGED;
        }
        mean.sent(atMs);
        return VectorCodec.encodeDecoded(decoded(mean), mean.norm(), params.vectorEncoding,
                versionIndex(versions, mean.modelVersion));
    }

    private static int versionIndex(List<String> versions, String version) {
        int index = versions.indexOf(version);
        if (index < 0) {
            versions.add(version);
            index = versions.size() - 1;
        }
        return index;
    }

    /** The interest id this delta gives the edge: its interest's if published by now, else -1. */
    private static int published(UserGraph graph, Edge edge, Changes changes) {
        return changes.published.contains(edge.interestId) ? edge.interestId
                : InterestMerging.publishedInterestId(graph, edge);
    }

    private static EdgeUpsert edgeUpsert(Edge edge, int interestId, long atMs,
            List<String> versions) {
        EdgeUpsert.Builder upsert = EdgeUpsert.newBuilder()
                .setItemId(edge.itemId)
                .setWeight((float) edge.weight)
                .setLastMsBefore(atMs - edge.lastMs)
                .setFirstMsBeforeLast(edge.lastMs - edge.firstMs)
                .setInterestId(interestId);
        if (!edge.modelVersion.isEmpty()) {
            upsert.setHasVersion(true).setVersion(versionIndex(versions, edge.modelVersion));
        }
        int last = edge.actionCounts.length - 1;
        while (last >= 0 && edge.actionCounts[last] == 0) {
            last--;
        }
        for (int i = 0; i <= last; i++) {
            upsert.addActionCounts(edge.actionCounts[i]);
        }
        return upsert.build();
    }

    /** {@code members}: a prefix of the interest's ranking ({@link #topMembers}). */
    private InterestUpsert interestUpsert(Interest interest,
            List<Map.Entry<Double, String>> members, long atMs, boolean labelChanged,
            List<String> versions) {
        InterestUpsert.Builder upsert = InterestUpsert.newBuilder()
                .setInterestId(interest.id)
                .setWeight((float) interest.centroid.weightAt(atMs, params.edgeHalfLifeMs))
                .setSize(interest.size)
                .setCentroid(vector(interest.centroid, atMs, versions));
        boolean newInterest = interest.sentTopItemsHash == 0;
        if (labelChanged || newInterest) {
            upsert.setLabel(interest.label);
        } else {
            upsert.setLabelUnchanged(true);
        }
        int top = Math.min(params.interestTopItems, members.size());
        int hash = 1;
        for (int i = 0; i < top; i++) {
            hash = 31 * hash + members.get(i).getValue().hashCode();
        }
        hash = hash == 0 ? 1 : hash; // 0 means never sent
        if (hash == interest.sentTopItemsHash) {
            upsert.setTopItemsUnchanged(true);
        } else {
            for (int i = 0; i < top; i++) {
                upsert.addTopItems(members.get(i).getValue());
            }
            interest.sentTopItemsHash = hash;
        }
        return upsert.build();
    }

    private static GraphDelta erasure(UserGraph graph, String userId, long atMs) {
        return GraphDelta.newBuilder()
                .setUserId(userId)
                .setEpoch(graph == null ? atMs : graph.epoch)
                .setSeq(graph == null ? 1 : graph.seq + 1)
                .setEventTimeMs(atMs)
                .setUserErased(true)
                .build();
    }

    /** What a flush changed, so that the delta carries the net change and nothing else. */
    private static final class Changes {
        /** item → whether it had an edge before this flush touched it. */
        private final Map<String, Boolean> existed = new TreeMap<>();
        final Set<String> upsertedEdges = new TreeSet<>();
        final Map<String, EdgeRemove.Reason> removedEdges = new TreeMap<>();
        final Set<Integer> changedInterests = new TreeSet<>();
        final Set<Integer> removedInterests = new TreeSet<>();
        final Set<Integer> labelsChanged = new TreeSet<>();
        /** Provisional interests that became real in this flush: emitted from now on. */
        final Set<Integer> published = new TreeSet<>();
        boolean profileChanged;
        /**
         * Whether an interest's terms or the set of interests changed since the labels were
         * last computed: the labels' only inputs (InterestLabels).
         */
        boolean labelInputsChanged;

        void touchEdge(String itemId, boolean exists) {
            existed.putIfAbsent(itemId, exists);
            upsertedEdges.add(itemId);
            removedEdges.remove(itemId);
        }

        boolean existedBefore(String itemId) {
            return existed.getOrDefault(itemId, true);
        }

        /** An edge that never reached downstream needs no remove. */
        void removeEdge(String itemId, boolean existedBefore, EdgeRemove.Reason reason) {
            upsertedEdges.remove(itemId);
            if (existedBefore) {
                removedEdges.put(itemId, reason);
            }
        }

        void interestChanged(int interestId) {
            changedInterests.add(interestId);
        }

        void labelChanged(int interestId) {
            labelsChanged.add(interestId);
            changedInterests.add(interestId);
        }

        /** An interest goes; consumers hear of it only if it was ever emitted to them. */
        void interestRemoved(Interest interest) {
            labelInputsChanged = true;
            published.remove(interest.id);
            if (InterestMerging.isPublished(interest)) {
                removedInterests.add(interest.id);
            }
            changedInterests.remove(interest.id);
        }

        boolean isEmpty() {
            return upsertedEdges.isEmpty() && removedEdges.isEmpty() && changedInterests.isEmpty()
                    && removedInterests.isEmpty() && !profileChanged;
        }
    }
}
