package dev.interestgraph.graph;

import dev.interestgraph.vector.CosineCalibration;
import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.vector.ScaledInt8;
import dev.interestgraph.vector.VectorMath;
import dev.interestgraph.model.Action;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * One user's interest graph: the {@code user-graph} operator's per-user graph. The operator keeps
 * it as a summary (everything but the edges) and one state entry per edge ({@link EdgeStore}):
 * a flush reads and writes the summary and the edges it touches. Interests and terms are sorted
 * maps; nothing that decides a tie depends on the edges' iteration order. Serialised compactly
 * by the operator's serializers (flink-job's {@code UserGraphSerializer} and its summary form).
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
    /**
     * The edges: in memory for a graph held whole, or the operator's per-edge state (the summary
     * read from state carries only their count until the operator attaches the store).
     */
    public EdgeStore edges = new InMemoryEdgeStore();
    public final TreeMap<Integer, Interest> interests = new TreeMap<>();
    /** Long- and short-term profile embeddings; null until the first positive embedded event. */
    public DecayedMean longTerm;
    public DecayedMean shortTerm;
    /**
     * The cosine calibration of encoder version {@link #calibrationVersion} (issue 19), taken from
     * the newest event that carried one: the user-graph maps its cosine thresholds by it for
     * vectors of that version ({@link GraphUpdater#joinThreshold}). Null (with a null version)
     * for the frozen encoder and versions announced without statistics: thresholds as
     * configured. Stored, so that a sweep after a restore maps as the flushes before it did.
     */
    public String calibrationVersion;
    public CosineCalibration calibration;
    /**
     * Whether the interests' derived fields ({@link Interest#size()}, the top-members cache) are
     * known for this object. Each is derivable from the edges: a graph built by hand, or restored
     * from a format that did not store them, starts without them and {@link GraphUpdater}
     * derives them in one walk over the edges before it first changes the graph, then keeps
     * them. The operator's state format stores them (issue 16), so that a graph whose edges live
     * one per state entry needs no walk per flush.
     */
    boolean derivedKnown;
    /**
     * Not stored: no edge decays below graph.prune-threshold at or before this event time (a
     * lower bound kept by {@link GraphUpdater} as edges change, exact after each sweep's walk), so
     * a sweep up to it skips the walk over the edges; {@link Long#MIN_VALUE} when unknown (a
     * graph read back from state: its first sweep walks).
     */
    long noPruneUntilMs = Long.MIN_VALUE;

    /**
     * Whether this object knows its derived fields (the interests' sizes and ranking caches).
     * A serializer that stores them writes them only then; see {@link #derivedRestored}.
     */
    public boolean derivedKnown() {
        return derivedKnown;
    }

    /**
     * Marks the derived fields known after a serializer restored each interest's with
     * {@link Interest#restoreDerived} (a format that stores them: no walk to derive them again).
     */
    public void derivedRestored() {
        derivedKnown = true;
    }

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

        /** A copy of {@code from} under {@code itemId} (stores that keep the id as the key). */
        public Edge(String itemId, Edge from) {
            this.itemId = itemId;
            weight = from.weight;
            firstMs = from.firstMs;
            lastMs = from.lastMs;
            System.arraycopy(from.actionCounts, 0, actionCounts, 0, actionCounts.length);
            interestId = from.interestId;
            modelVersion = from.modelVersion;
        }

        /** The weight decayed to {@code atMs} (never grows for a time before lastMs). */
        public double weightAt(long atMs, long halfLifeMs) {
            return weightAt(weight, lastMs, atMs, halfLifeMs);
        }

        /** An edge's {@code weight} as of {@code lastMs} decayed to {@code atMs}. */
        public static double weightAt(double weight, long lastMs, long atMs, long halfLifeMs) {
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
     * centroids and the profiles. The mean is kept in half precision (see {@link HalfFloats}) and
     * updated in place: folding in a vector allocates nothing. A centroid's halves are moreover
     * on an int8 grid ({@link ScaledInt8}, {@link #scale}), so that state stores a byte per
     * component; every change rounds it back there.
     *
     * <p>It also remembers what the delta topic knows of it (delta contract v2): the event time
     * it was last sent at and an upper bound of the angle it moved since (the sum of bounds of the
     * angles of each update, {@link #turnBound}; by the triangle inequality on the sphere never
     * less than the true angle), so
     * that it is sent again only when it moved more than {@code graph.delta.vector-min-distance}
     * or {@code graph.delta.vector-max-age} passed.
     */
    public static final class DecayedMean {
        /** {@link #sentAngle} of a mean that was never sent (or must be sent again). */
        public static final float NEVER_SENT = Float.POSITIVE_INFINITY;

        public short[] mean;
        /**
         * The step of the int8 grid {@link #mean} is on ({@link ScaledInt8}: every half is a
         * code in ±127 times it, so that state stores a code per component), or NaN when the
         * halves are not on one (profiles; a centroid restored from a format before the grid,
         * until its next change; a vector no grid keeps exactly).
         */
        public float scale = Float.NaN;
        /**
         * The codes state holds for this mean (on its grid), kept from a read until the mean
         * changes, so that writing back a centroid the flush did not change is a copy instead of
         * a conversion per component (on RocksDB every flush writes all centroids and changes
         * one or two); null otherwise.
         */
        public byte[] codes;
        /**
         * Whether every change rounds the mean to its int8 grid (the interest centroids; the
         * profiles, folded with small rates, stay halves: docs/benchmarks.md, state size step 2).
         */
        boolean onGrid;
        public double weight;
        public long lastMs;
        public String modelVersion;
        /** Upper bound of the angle (radians) between the mean and the direction last sent. */
        public float sentAngle = NEVER_SENT;
        /** Event time the direction was last sent at; Long.MIN_VALUE when never. */
        public long sentMs = Long.MIN_VALUE;
        /** The norm of {@link #mean}, computed on first use per change; NaN when unknown. */
        private double norm = Double.NaN;
        /** {@link #mean} as a unit vector, computed on first use per change. */
        private float[] direction;
        /**
         * {@link #mean} decoded, each component exactly {@code HalfFloats.toFloat} of its half,
         * while a {@link GraphUpdater} works on the mean in a flush (it lends the array and takes
         * it back at the end: a graph held in heap state keeps no 1.5 KB more per vector), so
         * that the cosines, the folds and the delta's encoding of one flush decode each mean
         * once; null otherwise. Every change of {@link #mean} here keeps it equal.
         */
        float[] values;

        public DecayedMean(short[] mean, double weight, long lastMs, String modelVersion) {
            this.mean = mean;
            this.weight = weight;
            this.lastMs = lastMs;
            this.modelVersion = modelVersion;
        }

        public double weightAt(long atMs, long halfLifeMs) {
            return atMs <= lastMs ? weight : weight * VectorMath.decay(atMs - lastMs, halfLifeMs);
        }

        /** The mean as a new float array. */
        public float[] meanVector() {
            return HalfFloats.toFloats(mean);
        }

        /** Unit-length direction of the mean; shared, do not modify. */
        public float[] direction() {
            if (direction == null) {
                direction = VectorMath.normalized(values != null ? values : meanVector());
            }
            return direction;
        }

        /** The Euclidean norm of the mean. */
        public double norm() {
            if (Double.isNaN(norm)) {
                double squares = 0;
                if (values != null) {
                    for (float x : values) {
                        squares += (double) x * x;
                    }
                } else {
                    for (short half : mean) {
                        float x = HalfFloats.toFloat(half);
                        squares += (double) x * x;
                    }
                }
                norm = Math.sqrt(squares);
            }
            return norm;
        }

        /** Whether {@link #norm()} is known without a pass over the mean. */
        boolean normKnown() {
            return !Double.isNaN(norm);
        }

        /** Sets the norm found by a pass equal to {@link #norm()}'s (several means at once). */
        void knownNorm(double value) {
            norm = value;
        }

        /** Cosine similarity of the mean and {@code x} (of norm {@code xNorm}); no allocation. */
        public double cosine(float[] x, double xNorm) {
            double denominator = norm() * xNorm;
            if (denominator == 0) {
                return 0;
            }
            double dot = 0;
            if (values != null) {
                for (int i = 0; i < mean.length; i++) {
                    dot += values[i] * x[i];
                }
            } else {
                for (int i = 0; i < mean.length; i++) {
                    dot += HalfFloats.toFloat(mean[i]) * x[i];
                }
            }
            return dot / denominator;
        }

        /** Cosine similarity of two means; no allocation. */
        public double cosine(DecayedMean other) {
            double denominator = norm() * other.norm();
            if (denominator == 0) {
                return 0;
            }
            double dot = 0;
            if (values != null && other.values != null) {
                for (int i = 0; i < mean.length; i++) {
                    dot += values[i] * other.values[i];
                }
            } else {
                for (int i = 0; i < mean.length; i++) {
                    dot += HalfFloats.toFloat(mean[i]) * HalfFloats.toFloat(other.mean[i]);
                }
            }
            return dot / denominator;
        }

        /** Whether the delta should carry the direction now (see the class comment). */
        public boolean dueToSend(long atMs, double minAngle, long maxAgeMs) {
            return sentAngle == NEVER_SENT
                    || sentAngle > 0 && (sentAngle >= minAngle || atMs - sentMs >= maxAgeMs);
        }

        /** The direction was sent at {@code atMs}. */
        public void sent(long atMs) {
            sentAngle = 0;
            sentMs = atMs;
        }

        private void requireSameVersion(String version) {
            if (!modelVersion.equals(version)) {
                throw new IllegalStateException("refusing to fuse a vector of model version "
                        + version + " into a mean of version " + modelVersion);
            }
        }

        /**
         * mean ← (mean·wa + x·wb) / (wa + wb), in place, rounded to halves or, for a mean kept on
         * its int8 grid, to the grid ({@link #foldOnGrid}); adds the angle the direction turned
         * by to {@link #sentAngle}. {@code x} is either a float array or, when null,
         * {@code xHalves}.
         */
        private void fold(double wa, float[] x, short[] xHalves, double wb) {
            if (onGrid) {
                double total = wa + wb;
                codes = null;
                if (foldOnGrid(wa / total, x, xHalves, wb / total,
                        Double.doubleToRawLongBits(total) * 31 + lastMs)) {
                    return;
                }
                scale = Float.NaN; // no grid keeps it (ScaledInt8.scaleFor): halves
            }
            foldToHalves(wa, x, xHalves, wb);
        }

        /**
         * The fold of the profiles (and of a centroid no grid keeps): one pass, each component
         * rounded to a half. Its own method, as it was before the grid: with the grid's branch
         * and pass inside the same method, the heap pass measured ~0.7× main's CPU speed, the
         * profiles' folds taking ~1.6× their share of the samples (docs/benchmarks.md, state
         * size step 2).
         */
        private void foldToHalves(double wa, float[] x, short[] xHalves, double wb) {
            double total = wa + wb;
            double ka = wa / total;
            double kb = wb / total;
            double dot = 0;
            double oldSquares = 0;
            double newSquares = 0;
            float[] decoded = values;
            for (int i = 0; i < mean.length; i++) {
                float old = decoded != null ? decoded[i] : HalfFloats.toFloat(mean[i]);
                float xi = x != null ? x[i] : HalfFloats.toFloat(xHalves[i]);
                short rounded = HalfFloats.toHalf((float) (old * ka + xi * kb));
                float now = HalfFloats.toFloat(rounded);
                mean[i] = rounded;
                if (decoded != null) {
                    decoded[i] = now;
                }
                dot += (double) old * now;
                oldSquares += (double) old * old;
                newSquares += (double) now * now;
            }
            double denominator = Math.sqrt(oldSquares * newSquares);
            double cos = denominator == 0 ? 1 : Math.max(-1, Math.min(1, dot / denominator));
            sentAngle += (float) turnBound(cos);
            norm = Math.sqrt(newSquares);
            direction = null;
        }

        /** Each thread's array for a grid fold's unrounded components (no allocation per fold). */
        private static final ThreadLocal<float[]> EXACT = ThreadLocal.withInitial(() -> new float[0]);

        /**
         * The fold of {@link #fold} rounded to the int8 grid of the new mean: a first pass
         * computes the components (into a per-thread array) and their largest magnitude, which
         * sets the grid's scale; the second rounds each to the grid. False, with nothing
         * changed, when no grid keeps the new mean exactly ({@link ScaledInt8#scaleFor}).
         *
         * <p>Dithered, not nearest, rounding: a fold of weight kb moves a component by
         * kb·(x − mean), below half a grid step once kb is under ~1/60, and rounding to the
         * nearest code would then undo it — a centroid with a few hundred items' weight stopped
         * following its items (CentroidGridTest). Rounded up or down with the probabilities that
         * make the code's expectation exact, it keeps moving on average. The draws come from
         * {@code seed} (a hash of the new weight and the last update's time: what state holds
         * and the event brings), so the same fold after a restore rounds the same way.
         */
        private boolean foldOnGrid(double ka, float[] x, short[] xHalves, double kb, long seed) {
            float[] exact = EXACT.get();
            if (exact.length < mean.length) {
                exact = new float[mean.length];
                EXACT.set(exact);
            }
            float[] decoded = values;
            float max = 0;
            for (int i = 0; i < mean.length; i++) {
                float old = decoded != null ? decoded[i] : HalfFloats.toFloat(mean[i]);
                float xi = x != null ? x[i] : HalfFloats.toFloat(xHalves[i]);
                float e = (float) (old * ka + xi * kb);
                exact[i] = e;
                max = Math.max(max, Math.abs(e));
            }
            float grid = ScaledInt8.scaleFor(max);
            if (Float.isNaN(grid)) {
                return false;
            }
            float inverse = ScaledInt8.inverse(grid);
            int dither = ScaledInt8.ditherStart(seed);
            double dot = 0;
            double oldSquares = 0;
            double newSquares = 0;
            for (int i = 0; i < mean.length; i++) {
                float old = decoded != null ? decoded[i] : HalfFloats.toFloat(mean[i]);
                // code·grid is exactly a half: no conversion back
                float now = ScaledInt8.ditheredCode(exact[i], inverse,
                        ScaledInt8.dither(dither + i)) * grid;
                mean[i] = HalfFloats.toHalf(now);
                if (decoded != null) {
                    decoded[i] = now;
                }
                dot += (double) old * now;
                oldSquares += (double) old * old;
                newSquares += (double) now * now;
            }
            double denominator = Math.sqrt(oldSquares * newSquares);
            double cos = denominator == 0 ? 1 : Math.max(-1, Math.min(1, dot / denominator));
            sentAngle += (float) turnBound(cos);
            norm = Math.sqrt(newSquares);
            direction = null;
            scale = grid;
            return true;
        }

        /**
         * Keeps this mean on its int8 grid from now on (an interest's centroid) and rounds it
         * there now: its first vector enters state as codes, as every later change will.
         */
        void keepOnGrid() {
            onGrid = true;
            scale = ScaledInt8.roundInPlace(mean);
            codes = null;
            if (values != null) {
                HalfFloats.toFloats(mean, values);
            }
            norm = Double.NaN;
            direction = null;
        }

        /**
         * An upper bound of the angle θ = acos(cos), as 2·tan(θ/2) = 2·√((1 − cos)/(1 + cos)):
         * never below θ (tan x ≥ x on [0, π/2)), within 0.1 % of it for the small turns a fold
         * makes (θ ≤ 0.1 rad), and a square root instead of {@code Math.acos}, which was the
         * largest single cost of the operator (17 % of its samples in the JMH profile,
         * docs/benchmarks.md). Opposite directions count as π.
         */
        static double turnBound(double cos) {
            if (cos <= -0.5) {
                return Math.acos(cos); // large turns are rare: exact, and never above π
            }
            return 2 * Math.sqrt((1 - cos) / (1 + cos));
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
            fold(oldWeight, x, null, newAmount);
            weight = oldWeight + newAmount;
        }

        /** Folds in another mean of the same version, both decayed to {@code atMs}. */
        void merge(DecayedMean other, long atMs, long halfLifeMs) {
            sentAngle = NEVER_SENT; // the merged interest's consumers get its new direction
            requireSameVersion(other.modelVersion);
            long at = Math.max(atMs, Math.max(lastMs, other.lastMs));
            double mine = weightAt(at, halfLifeMs);
            double theirs = other.weightAt(at, halfLifeMs);
            fold(mine, other.values, other.mean, theirs);
            weight = mine + theirs;
            lastMs = at;
        }
    }

    /** An interest cluster: a centroid, and the label terms of the items that joined it. */
    public static final class Interest {
        public final int id;
        /**
         * A hash of the top items last emitted (delta contract v2 says "unchanged" instead of
         * repeating them); 0 when never emitted.
         */
        public int sentTopItemsHash;
        public final DecayedMean centroid;
        /** Term → accumulated action weight of the items that brought it. Bounded. */
        public final TreeMap<String, Float> terms = new TreeMap<>();
        /** The label last emitted; labels depend on the other interests, so they are kept. */
        public String label = "";
        /**
         * Derived (stored by the operator's state format, not by older ones): how many edges
         * name this interest. Kept by {@link GraphUpdater} wherever an edge joins, leaves or
         * moves, so that a flush finds empty interests and publishes provisional ones without a
         * walk over the edges.
         */
        int size;
        /**
         * Derived (likewise): a prefix of the interest's members ranked by decayed weight
         * (strongest first, ties by item id) as of {@link #topAtMs}, when that was at or after
         * every edge's last event; null when unknown. Every edge decays with the same half-life, so
         * two members nobody touched keep their order: the ranking changes only where a member was
         * touched, joined or left ({@link #touched}), and the delta's top items are found from
         * this prefix and those members instead of a walk over all edges (GraphUpdater#topMembers).
         */
        List<String> top;
        /**
         * The cached members' edge weights and last event times, aligned with {@link #top}: an
         * untouched member is ranked from these, without reading its edge (on RocksDB a point
         * read per member).
         */
        double[] topWeights;
        long[] topLastMs;
        /** Whether {@link #top} holds every member. */
        boolean topComplete;
        /** Event time {@link #top} was ranked at. */
        long topAtMs;
        /**
         * Members touched, joined or left since {@link #top} was ranked (kept only while it is);
         * allocated on first use.
         */
        private Set<String> touched;

        /**
         * An interest of {@code centroid}, which is kept on its int8 grid at every change from
         * now on (a centroid restored off the grid, from an older state format, stays as it was
         * until its next change, so that the restore itself changes nothing).
         */
        public Interest(int id, DecayedMean centroid) {
            this.id = id;
            this.centroid = centroid;
            centroid.onGrid = true;
        }

        /** How many edges name this interest (derived; see {@link UserGraph#derivedKnown}). */
        public int size() {
            return size;
        }

        /** Notes that member {@code itemId} changed, joined or left, for the top-members cache. */
        void touch(String itemId) {
            if (top != null) {
                if (touched == null) {
                    touched = new HashSet<>();
                }
                touched.add(itemId);
            }
        }

        /** The cached ranking prefix (derived; null when unknown). Do not modify. */
        public List<String> cachedTop() {
            return top;
        }

        /** The cached members' edge weights, aligned with {@link #cachedTop()}. Do not modify. */
        public double[] cachedTopWeights() {
            return topWeights;
        }

        /** The cached members' last event times, aligned with {@link #cachedTop()}. */
        public long[] cachedTopLastMs() {
            return topLastMs;
        }

        /** Whether {@link #cachedTop()} holds every member. */
        public boolean cachedTopComplete() {
            return topComplete;
        }

        /** The event time {@link #cachedTop()} was ranked at. */
        public long cachedTopAtMs() {
            return topAtMs;
        }

        /**
         * Restores the derived fields a serializer stored (size, cached ranking, members touched
         * since): then the first flush after a restore needs no walk to derive them. {@code top}
         * null: no cached ranking.
         */
        public void restoreDerived(int size, List<String> top, double[] weights, long[] lastMs,
                boolean complete, long atMs, Collection<String> touched) {
            this.size = size;
            this.top = top;
            topWeights = top == null ? null : weights;
            topLastMs = top == null ? null : lastMs;
            topComplete = top != null && complete;
            topAtMs = top == null ? 0 : atMs;
            this.touched = top == null || touched.isEmpty() ? null : new HashSet<>(touched);
        }

        /** Whether member {@code itemId} was touched since {@link #top} was ranked. */
        boolean touched(String itemId) {
            return touched != null && touched.contains(itemId);
        }

        /** The members touched since {@link #top} was ranked. Do not modify. */
        public Set<String> touchedMembers() {
            return touched == null ? Set.of() : touched;
        }

        /** A new ranking starts: nothing touched since. */
        void ranked(List<String> top, double[] weights, long[] lastMs, boolean complete,
                long atMs) {
            this.top = top;
            topWeights = weights;
            topLastMs = lastMs;
            topComplete = complete;
            topAtMs = atMs;
            if (touched != null) {
                touched.clear();
            }
        }

        /** Forgets the top-members cache (the next delta ranks the members by a walk). */
        void forgetTop() {
            top = null;
            topWeights = null;
            topLastMs = null;
            topComplete = false;
            if (touched != null) {
                touched.clear();
            }
        }
    }
}
