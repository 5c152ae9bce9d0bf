package dev.interestgraph.graph;

import dev.interestgraph.model.Action;
import dev.interestgraph.proto.v2.VectorEncoding;
import java.io.Serializable;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * The interest-graph semantics' parameters (docs/architecture.md, "user-graph"). The job builds
 * them from its validated configuration ({@code InterestGraphOptions.graphParameters}); the
 * builder's defaults are the options' defaults (a test in flink-job keeps the two equal).
 */
public final class GraphParameters implements Serializable {
    private static final long serialVersionUID = 1L;

    public final long edgeHalfLifeMs;
    public final double pruneThreshold;
    public final int maxEdgesPerUser;
    public final int maxInterests;
    public final double interestJoinThreshold;
    /**
     * graph.interest-merge-threshold: two interests of a user whose centroids' cosine is at least
     * this merge (after a flush, at the cap, at the sweep's re-clustering). Kept apart from the
     * join threshold so that a cluster is not merged away by the same noise that opened it.
     */
    public final double interestMergeThreshold;
    /** graph.interest-min-items: items an interest needs to stop being provisional. */
    public final int interestMinItems;
    /** graph.interest-min-weight: or the weight (as of its newest item) it needs instead. */
    public final double interestMinWeight;
    public final int interestTopItems;
    public final long longTermHalfLifeMs;
    public final long shortTermHalfLifeMs;
    /** graph.emit-interval: the flush slot, and so at most one delta per user per slot. */
    public final long flushIntervalMs;
    /** graph.delta.vector-min-distance as an angle (radians). */
    public final double vectorMinAngle;
    public final long vectorMaxAgeMs;
    public final VectorEncoding vectorEncoding;
    public final long sweepIntervalMs;
    /** graph.dedup-window: how long (processing time) an applied event id is remembered. */
    public final long dedupWindowMs;
    /** graph.dedup-max-ids: how many of a user's latest event ids are remembered at most. */
    public final int dedupMaxIds;
    public final long idleTtlMs;
    private final EnumMap<Action, Double> actionWeights;

    private GraphParameters(Builder b) {
        edgeHalfLifeMs = b.edgeHalfLife.toMillis();
        pruneThreshold = b.pruneThreshold;
        maxEdgesPerUser = b.maxEdgesPerUser;
        maxInterests = b.maxInterests;
        interestJoinThreshold = b.interestJoinThreshold;
        interestMergeThreshold = b.interestMergeThreshold;
        interestMinItems = b.interestMinItems;
        interestMinWeight = b.interestMinWeight;
        interestTopItems = b.interestTopItems;
        longTermHalfLifeMs = b.longTermHalfLife.toMillis();
        shortTermHalfLifeMs = b.shortTermHalfLife.toMillis();
        flushIntervalMs = b.flushInterval.toMillis();
        vectorMinAngle = Math.acos(1 - b.vectorMinDistance);
        vectorMaxAgeMs = b.vectorMaxAge.toMillis();
        vectorEncoding = b.vectorEncoding;
        sweepIntervalMs = b.sweepInterval.toMillis();
        dedupWindowMs = b.dedupWindow.toMillis();
        dedupMaxIds = b.dedupMaxIds;
        idleTtlMs = b.idleTtl.toMillis();
        actionWeights = new EnumMap<>(b.actionWeights);
    }

    public static GraphParameters defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The weight an action adds to its edge: RATE maps 0..5 stars to -1..+1. */
    public double actionWeight(Action action, double value) {
        if (action == Action.RATE) {
            return (value - 2.5) / 2.5;
        }
        Double weight = actionWeights.get(action);
        return weight == null ? 0.0 : weight;
    }

    /** Builds {@link GraphParameters}; {@link #build()} rejects values the semantics cannot use. */
    public static final class Builder {
        private Duration edgeHalfLife = Duration.ofDays(30);
        private double pruneThreshold = 0.05;
        private int maxEdgesPerUser = 200;
        private int maxInterests = 6;
        private double interestJoinThreshold = 0.5;
        private double interestMergeThreshold = 0.4;
        private int interestMinItems = 3;
        private double interestMinWeight = 1.0;
        private int interestTopItems = 5;
        private Duration longTermHalfLife = Duration.ofDays(30);
        private Duration shortTermHalfLife = Duration.ofDays(1);
        private Duration flushInterval = Duration.ofSeconds(1);
        private double vectorMinDistance = 0.015;
        private Duration vectorMaxAge = Duration.ofDays(7);
        private VectorEncoding vectorEncoding = VectorEncoding.INT6;
        private Duration sweepInterval = Duration.ofDays(1);
        private Duration dedupWindow = Duration.ofHours(1);
        private int dedupMaxIds = 1024;
        private Duration idleTtl = Duration.ofDays(180);
        private final EnumMap<Action, Double> actionWeights = new EnumMap<>(Map.of(
                Action.VIEW, 0.1,
                Action.CLICK, 0.3,
                Action.CART, 0.6,
                Action.PURCHASE, 1.0,
                Action.COMMENT, 0.5,
                Action.SHARE, 0.7,
                Action.DISLIKE, -1.0));

        private Builder() {}

        public Builder edgeHalfLife(Duration value) {
            edgeHalfLife = value;
            return this;
        }

        public Builder pruneThreshold(double value) {
            pruneThreshold = value;
            return this;
        }

        public Builder maxEdgesPerUser(int value) {
            maxEdgesPerUser = value;
            return this;
        }

        public Builder maxInterests(int value) {
            maxInterests = value;
            return this;
        }

        public Builder interestJoinThreshold(double value) {
            interestJoinThreshold = value;
            return this;
        }

        public Builder interestMergeThreshold(double value) {
            interestMergeThreshold = value;
            return this;
        }

        public Builder interestMinItems(int value) {
            interestMinItems = value;
            return this;
        }

        public Builder interestMinWeight(double value) {
            interestMinWeight = value;
            return this;
        }

        public Builder interestTopItems(int value) {
            interestTopItems = value;
            return this;
        }

        public Builder longTermHalfLife(Duration value) {
            longTermHalfLife = value;
            return this;
        }

        public Builder shortTermHalfLife(Duration value) {
            shortTermHalfLife = value;
            return this;
        }

        public Builder flushInterval(Duration value) {
            flushInterval = value;
            return this;
        }

        /** Cosine distance a vector must move before a delta carries it again. */
        public Builder vectorMinDistance(double value) {
            vectorMinDistance = value;
            return this;
        }

        public Builder vectorMaxAge(Duration value) {
            vectorMaxAge = value;
            return this;
        }

        public Builder vectorEncoding(VectorEncoding value) {
            vectorEncoding = value;
            return this;
        }

        public Builder dedupWindow(Duration value) {
            dedupWindow = value;
            return this;
        }

        public Builder dedupMaxIds(int value) {
            dedupMaxIds = value;
            return this;
        }

        public Builder sweepInterval(Duration value) {
            sweepInterval = value;
            return this;
        }

        public Builder idleTtl(Duration value) {
            idleTtl = value;
            return this;
        }

        /** The weight {@code action} adds to its edge (not RATE, whose weight comes from stars). */
        public Builder actionWeight(Action action, double weight) {
            if (action == Action.RATE || action == Action.FORGET_USER) {
                throw new IllegalArgumentException(action + " has no configurable weight");
            }
            actionWeights.put(action, weight);
            return this;
        }

        public GraphParameters build() {
            positive("edge half-life", edgeHalfLife);
            positive("long-term half-life", longTermHalfLife);
            positive("short-term half-life", shortTermHalfLife);
            positive("flush interval", flushInterval);
            positive("sweep interval", sweepInterval);
            positive("idle TTL", idleTtl);
            positive("vector max age", vectorMaxAge);
            positive("dedup window", dedupWindow);
            if (!(vectorMinDistance >= 0 && vectorMinDistance <= 2)) {
                throw new IllegalArgumentException(
                        "vector min distance is a cosine distance in [0, 2]: " + vectorMinDistance);
            }
            if (dedupMaxIds < 1) {
                throw new IllegalArgumentException("dedup max ids must be >= 1: " + dedupMaxIds);
            }
            if (vectorEncoding == null || vectorEncoding == VectorEncoding.UNRECOGNIZED
                    || vectorEncoding == VectorEncoding.VECTOR_ENCODING_UNSPECIFIED) {
                throw new IllegalArgumentException("vector encoding: " + vectorEncoding);
            }
            if (!(pruneThreshold >= 0)) {
                throw new IllegalArgumentException("prune threshold must be >= 0: " + pruneThreshold);
            }
            if (maxEdgesPerUser < 1 || maxInterests < 1 || interestTopItems < 1) {
                throw new IllegalArgumentException("max edges (" + maxEdgesPerUser
                        + "), max interests (" + maxInterests + ") and interest top items ("
                        + interestTopItems + ") must be >= 1");
            }
            if (!(interestJoinThreshold >= -1 && interestJoinThreshold <= 1)) {
                throw new IllegalArgumentException(
                        "interest join threshold is a cosine in [-1, 1]: " + interestJoinThreshold);
            }
            if (!(interestMergeThreshold >= -1 && interestMergeThreshold <= 1)) {
                throw new IllegalArgumentException("interest merge threshold is a cosine in "
                        + "[-1, 1]: " + interestMergeThreshold);
            }
            if (interestMinItems < 1) {
                throw new IllegalArgumentException(
                        "interest min items must be >= 1: " + interestMinItems);
            }
            if (!(interestMinWeight >= 0) || Double.isInfinite(interestMinWeight)) {
                throw new IllegalArgumentException(
                        "interest min weight must be finite and >= 0: " + interestMinWeight);
            }
            return new GraphParameters(this);
        }

        private static void positive(String what, Duration value) {
            if (value == null || value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(what + " must be positive: " + value);
            }
        }
    }
}
