package dev.interestgraph.graph;

import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.vector.VectorMath;
import dev.interestgraph.model.Action;
import java.util.TreeMap;

/**
 * One user's interest graph: the whole of the {@code user-graph} operator's per-user state, read
 * and written once per flush. Sorted maps keep iteration (and so tie-breaking) identical before
 * and after a restore. Serialised compactly by {@link UserGraphSerializer}.
 */
public final class UserGraph {
    /** Event time at which this incarnation of the user's graph began (see GraphDelta.epoch). */
    public long epoch;
    /** Sequence number of the last delta emitted in this epoch. */
    public long seq;
    /** Event time of the newest applied event. */
    public long lastEventMs = Long.MIN_VALUE;
    /** The registered decay-sweep / idle-expiry timer, or {@link Long#MIN_VALUE}. */
    public long maintenanceTimerMs = Long.MIN_VALUE;
    public int nextInterestId;
    public final TreeMap<String, Edge> edges = new TreeMap<>();
    public final TreeMap<Integer, Interest> interests = new TreeMap<>();
    /** Long- and short-term profile embeddings; null until the first positive embedded event. */
    public DecayedMean longTerm;
    public DecayedMean shortTerm;

    public boolean isEmpty() {
        return edges.isEmpty() && interests.isEmpty() && longTerm == null && shortTerm == null;
    }

    /** A user–item edge. The weight is as of {@link #lastMs}; decay it to read it later. */
    public static final class Edge {
        public final String itemId;
        public double weight;
        public long firstMs;
        public long lastMs;
        /** Per {@link Action} ordinal (FORGET_USER excluded). */
        public final int[] actionCounts = new int[Action.values().length - 1];
        /** The interest this item belongs to, or -1. */
        public int interestId = -1;
        /** Version of the embedding the item was last seen with; "" when it had none. */
        public String modelVersion = "";

        public Edge(String itemId, long firstMs) {
            this.itemId = itemId;
            this.firstMs = firstMs;
            this.lastMs = firstMs;
        }

        /** The weight decayed to {@code atMs} (never grows for a time before lastMs). */
        public double weightAt(long atMs, long halfLifeMs) {
            return atMs <= lastMs ? weight : weight * VectorMath.decay(atMs - lastMs, halfLifeMs);
        }

        /** w ← w·2^(−Δt/h) + a; an out-of-order contribution is decayed to lastMs instead. */
        void add(double amount, long atMs, long halfLifeMs) {
            if (atMs >= lastMs) {
                weight = weightAt(atMs, halfLifeMs) + amount;
                lastMs = atMs;
            } else {
                weight += amount * VectorMath.decay(lastMs - atMs, halfLifeMs);
            }
            firstMs = Math.min(firstMs, atMs);
        }
    }

    /**
     * An exponentially decayed weighted mean of embeddings of one model version: the interest
     * centroids and the profiles. The mean is kept in half precision (see {@link HalfFloats}).
     */
    public static final class DecayedMean {
        public short[] mean;
        public double weight;
        public long lastMs;
        public String modelVersion;
        /** {@link #mean} as floats and as a unit vector, computed on first use per change. */
        private float[] meanFloats;
        private float[] direction;

        public DecayedMean(short[] mean, double weight, long lastMs, String modelVersion) {
            this.mean = mean;
            this.weight = weight;
            this.lastMs = lastMs;
            this.modelVersion = modelVersion;
        }

        public double weightAt(long atMs, long halfLifeMs) {
            return atMs <= lastMs ? weight : weight * VectorMath.decay(atMs - lastMs, halfLifeMs);
        }

        /** The mean as floats; shared, do not modify. */
        public float[] meanVector() {
            if (meanFloats == null) {
                meanFloats = HalfFloats.toFloats(mean);
            }
            return meanFloats;
        }

        /** Unit-length direction of the mean; shared, do not modify. */
        public float[] direction() {
            if (direction == null) {
                direction = VectorMath.normalized(meanVector());
            }
            return direction;
        }

        private void requireSameVersion(String version) {
            if (!modelVersion.equals(version)) {
                throw new IllegalStateException("refusing to fuse a vector of model version "
                        + version + " into a mean of version " + modelVersion);
            }
        }

        private void setMean(float[] values) {
            mean = HalfFloats.fromFloats(values);
            meanFloats = null;
            direction = null;
        }

        /**
         * Folds in vector {@code x} of model version {@code version} with weight {@code amount} at
         * {@code atMs}. A vector of another version is refused: averaging vectors of two encoder
         * versions yields a point that means nothing in either space.
         */
        void add(float[] x, String version, double amount, long atMs, long halfLifeMs) {
            requireSameVersion(version);
            double oldWeight;
            double newAmount;
            if (atMs >= lastMs) {
                oldWeight = weightAt(atMs, halfLifeMs);
                newAmount = amount;
                lastMs = atMs;
            } else {
                oldWeight = weight;
                newAmount = amount * VectorMath.decay(lastMs - atMs, halfLifeMs);
            }
            setMean(VectorMath.weightedMean(meanVector(), oldWeight, x, newAmount));
            weight = oldWeight + newAmount;
        }

        /** Folds in another mean of the same version, both decayed to {@code atMs}. */
        void merge(DecayedMean other, long atMs, long halfLifeMs) {
            requireSameVersion(other.modelVersion);
            long at = Math.max(atMs, Math.max(lastMs, other.lastMs));
            double mine = weightAt(at, halfLifeMs);
            double theirs = other.weightAt(at, halfLifeMs);
            setMean(VectorMath.weightedMean(meanVector(), mine, other.meanVector(), theirs));
            weight = mine + theirs;
            lastMs = at;
        }
    }

    /** An interest cluster: a centroid, and the label terms of the items that joined it. */
    public static final class Interest {
        public final int id;
        public final DecayedMean centroid;
        /** Term → accumulated action weight of the items that brought it. Bounded. */
        public final TreeMap<String, Float> terms = new TreeMap<>();
        /** The label last emitted; labels depend on the other interests, so they are kept. */
        public String label = "";

        public Interest(int id, DecayedMean centroid) {
            this.id = id;
            this.centroid = centroid;
        }
    }
}
