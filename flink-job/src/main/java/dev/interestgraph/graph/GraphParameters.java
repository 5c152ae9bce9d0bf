package dev.interestgraph.graph;

import static dev.interestgraph.config.InterestGraphOptions.*;

import dev.interestgraph.model.Action;
import dev.interestgraph.proto.v2.VectorEncoding;
import java.io.Serializable;
import java.util.EnumMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;

/** The interest-graph semantics of DESIGN.md §3, read once from the validated configuration. */
public final class GraphParameters implements Serializable {
    private static final long serialVersionUID = 1L;

    public final long edgeHalfLifeMs;
    public final double pruneThreshold;
    public final int maxEdgesPerUser;
    public final int maxInterests;
    public final double interestJoinThreshold;
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

    public GraphParameters(ReadableConfig config) {
        edgeHalfLifeMs = config.get(EDGE_HALF_LIFE).toMillis();
        pruneThreshold = config.get(PRUNE_THRESHOLD);
        maxEdgesPerUser = config.get(MAX_EDGES_PER_USER);
        maxInterests = config.get(MAX_INTERESTS);
        interestJoinThreshold = config.get(INTEREST_JOIN_THRESHOLD);
        interestTopItems = config.get(INTEREST_TOP_ITEMS);
        longTermHalfLifeMs = config.get(PROFILE_LONG_HALF_LIFE).toMillis();
        shortTermHalfLifeMs = config.get(PROFILE_SHORT_HALF_LIFE).toMillis();
        flushIntervalMs = config.get(EMIT_INTERVAL).toMillis();
        vectorMinAngle = Math.acos(1 - config.get(DELTA_VECTOR_MIN_DISTANCE));
        vectorMaxAgeMs = config.get(DELTA_VECTOR_MAX_AGE).toMillis();
        vectorEncoding = config.get(DELTA_VECTOR_ENCODING) == DeltaVectorEncoding.FLOAT16
                ? VectorEncoding.FLOAT16 : VectorEncoding.INT8;
        sweepIntervalMs = config.get(SWEEP_INTERVAL).toMillis();
        dedupWindowMs = config.get(DEDUP_WINDOW).toMillis();
        dedupMaxIds = config.get(DEDUP_MAX_IDS);
        idleTtlMs = config.get(IDLE_TTL).toMillis();
        actionWeights = new EnumMap<>(Map.of(
                Action.VIEW, config.get(WEIGHT_VIEW),
                Action.CLICK, config.get(WEIGHT_CLICK),
                Action.CART, config.get(WEIGHT_CART),
                Action.PURCHASE, config.get(WEIGHT_PURCHASE),
                Action.COMMENT, config.get(WEIGHT_COMMENT),
                Action.SHARE, config.get(WEIGHT_SHARE),
                Action.DISLIKE, config.get(WEIGHT_DISLIKE)));
    }

    public static GraphParameters defaults() {
        return new GraphParameters(new Configuration());
    }

    /** The weight an action adds to its edge: RATE maps 0..5 stars to -1..+1. */
    public double actionWeight(Action action, double value) {
        if (action == Action.RATE) {
            return (value - 2.5) / 2.5;
        }
        Double weight = actionWeights.get(action);
        return weight == null ? 0.0 : weight;
    }
}
