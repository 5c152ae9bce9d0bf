package dev.interestgraph.recommend;

import dev.interestgraph.analytics.ItemGraph;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.interestgraph.analytics.AnalyticsOutput;
import dev.interestgraph.delta.DeltaMaterializer.UserView;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.proto.v1.AnalyticsRecord;
import dev.interestgraph.proto.v1.Community;
import dev.interestgraph.proto.v1.ItemNeighbors;
import dev.interestgraph.proto.v1.Recommendations;
import dev.interestgraph.proto.v1.RecommendedItem;
import dev.interestgraph.proto.v2.EdgeRemove;
import dev.interestgraph.proto.v2.EdgeUpsert;
import dev.interestgraph.proto.v2.GraphDelta;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.BasicTypeInfo;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves recommendations from the graph analytics, keyed by user: the {@code item-neighbors}
 * topic arrives as broadcast state (item neighbours, communities, run markers), each user's graph
 * deltas keep a copy of their edges in keyed state, and the {@link Recommender} ranks candidates —
 * the neighbours of the user's items and, for cold-start users, their communities' popular items.
 *
 * <p>A user's list is recomputed after each delta that changes their edges, and for every user
 * when an analytics run completes (its marker arrives), so the topic follows both the user and
 * the analytics. Nothing is emitted before the first analytics data arrives. Erasure or expiry
 * emits a tombstone. Records of runs older than the latest marker are left-overs and ignored.
 */
public class RecommendFunction extends KeyedBroadcastProcessFunction<String, DeltaRecord,
        AnalyticsUpdate, RecommendationRecord> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(RecommendFunction.class);

    /** key → AnalyticsRecord bytes; the run marker under {@link AnalyticsOutput#RUN_KEY}. */
    public static final MapStateDescriptor<String, byte[]> ANALYTICS = new MapStateDescriptor<>(
            "item-analytics", BasicTypeInfo.STRING_TYPE_INFO,
            PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);

    static final ValueStateDescriptor<UserEdges> EDGES =
            new ValueStateDescriptor<>("user-edges", UserEdges.class);

    private final int topK;
    private final Recommender.Weights weights;

    private transient ValueState<UserEdges> edges;
    private transient Counter malformed;
    private transient Counter emitted;
    /** Parsed broadcast records; the broadcast state is the truth, this only saves parsing. */
    private transient Map<String, AnalyticsRecord> parsed;

    /** The default weights (the fitted blend) with these cold-start and half-life settings. */
    public RecommendFunction(int topK, int coldStartEdges, long halfLifeMs) {
        this(topK, withStructure(new Recommender.Weights(), coldStartEdges, halfLifeMs));
    }

    /**
     * @param weights the recommender's weights: the job passes the recommend.weight.* options,
     *     whose defaults are the blend the evaluation fitted — the same recommender, the same
     *     weights as the evaluation's rows
     */
    public RecommendFunction(int topK, Recommender.Weights weights) {
        this.topK = topK;
        this.weights = weights;
    }

    private static Recommender.Weights withStructure(Recommender.Weights weights,
            int coldStartEdges, long halfLifeMs) {
        weights.coldStartEdges = coldStartEdges;
        weights.halfLifeMs = halfLifeMs;
        return weights;
    }

    @Override
    public void open(Configuration parameters) {
        edges = getRuntimeContext().getState(EDGES);
        malformed = getRuntimeContext().getMetricGroup().counter("malformedAnalyticsRecords");
        emitted = getRuntimeContext().getMetricGroup().counter("recommendationsEmitted");
        parsed = new HashMap<>();
    }

    @Override
    public void processElement(DeltaRecord record, ReadOnlyContext ctx,
            Collector<RecommendationRecord> out) throws Exception {
        GraphDelta delta = record.delta();
        UserEdges user = edges.value();
        if (user == null || delta.getEpoch() > user.epoch) {
            user = new UserEdges();
            user.epoch = delta.getEpoch();
        } else if (delta.getEpoch() < user.epoch) {
            return; // a delta of an ended epoch: nothing of it is current
        }
        if (delta.getUserErased()) {
            edges.clear();
            out.collect(new RecommendationRecord(record.userId, record.eventTimeMs, null));
            return;
        }
        // only the edges matter here: their fields are read straight from contract v2
        boolean edgesChanged = false;
        for (EdgeUpsert upsert : delta.getEdgeUpsertsList()) {
            user.upsert(upsert.getItemId(), upsert.getWeight(),
                    delta.getEventTimeMs() - upsert.getLastMsBefore());
            edgesChanged = true;
        }
        for (EdgeRemove remove : delta.getEdgeRemovesList()) {
            user.remove(remove.getItemId());
            edgesChanged = true;
        }
        user.eventTimeMs = Math.max(user.eventTimeMs, delta.getEventTimeMs());
        if (user.size() == 0) {
            edges.clear(); // expired: every edge went
            if (edgesChanged) {
                out.collect(new RecommendationRecord(record.userId, record.eventTimeMs, null));
            }
            return;
        }
        edges.update(user);
        BroadcastItemGraph graph = new BroadcastItemGraph(ctx.getBroadcastState(ANALYTICS));
        if (edgesChanged && graph.hasData()) {
            out.collect(recommend(record.userId, user, graph));
        }
    }

    @Override
    public void processBroadcastElement(AnalyticsUpdate update, Context ctx,
            Collector<RecommendationRecord> out) throws Exception {
        BroadcastState<String, byte[]> state = ctx.getBroadcastState(ANALYTICS);
        parsed.clear();
        if (update.value == null) {
            state.remove(update.key);
            return;
        }
        AnalyticsRecord record;
        try {
            record = AnalyticsRecord.parseFrom(update.value);
        } catch (InvalidProtocolBufferException e) {
            malformed.inc();
            LOG.warn("Skipped a record of the item-neighbors topic that is no AnalyticsRecord "
                    + "({} bytes): {}", update.value.length, e.getMessage());
            return;
        }
        state.put(update.key, update.value);
        if (record.hasRun()) {
            long run = record.getRun().getRunId();
            forgetRunsBefore(state, run);
            BroadcastItemGraph graph = new BroadcastItemGraph(state);
            // the run is complete: every user's list follows the new neighbours
            ctx.applyToKeyedState(EDGES, (userId, userState) -> {
                UserEdges user = userState.value();
                if (user != null && user.size() > 0) {
                    out.collect(recommend(userId, user, graph));
                }
            });
        }
    }

    /** Removes records of runs older than {@code run}: left-overs of items no longer analysed. */
    private void forgetRunsBefore(BroadcastState<String, byte[]> state, long run)
            throws Exception {
        List<String> stale = new ArrayList<>();
        for (Map.Entry<String, byte[]> entry : state.entries()) {
            AnalyticsRecord record = AnalyticsRecord.parseFrom(entry.getValue());
            if (record.hasItemNeighbors() && record.getItemNeighbors().getRunId() < run
                    || record.hasCommunity() && record.getCommunity().getRunId() < run) {
                stale.add(entry.getKey());
            }
        }
        for (String key : stale) {
            state.remove(key);
        }
        parsed.clear();
    }

    private RecommendationRecord recommend(String userId, UserEdges user,
            BroadcastItemGraph graph) {
        UserView view = UserView.ofEdges(userId, user.eventTimeMs, user.asEdges());
        Recommender recommender = new Recommender(Map.of(), graph, Map.of(), weights);
        Recommendations.Builder list = Recommendations.newBuilder()
                .setUserId(userId)
                .setEventTimeMs(user.eventTimeMs)
                .setAnalyticsRunId(graph.runId());
        for (Recommender.Recommendation r : recommender.recommend(view, Set.of(), topK)) {
            RecommendedItem.Builder item = RecommendedItem.newBuilder()
                    .setItemId(r.itemId)
                    .setScore((float) r.score)
                    .setSource(source(r.source))
                    .setCommunityId(r.communityId);
            if (r.becauseOf != null) {
                item.setBecauseOf(r.becauseOf);
            }
            list.addItems(item);
        }
        emitted.inc();
        return new RecommendationRecord(userId, user.eventTimeMs, list.build().toByteArray());
    }

    private static RecommendedItem.Source source(Recommender.Source source) {
        switch (source) {
            case NEIGHBORS:
                return RecommendedItem.Source.NEIGHBORS;
            case COMMUNITY:
                return RecommendedItem.Source.COMMUNITY;
            default:
                return RecommendedItem.Source.POPULAR;
        }
    }

    /** The broadcast state read as an {@link ItemGraph}. */
    private final class BroadcastItemGraph implements ItemGraph {
        private final ReadOnlyBroadcastState<String, byte[]> state;
        private final long run;

        BroadcastItemGraph(ReadOnlyBroadcastState<String, byte[]> state) throws Exception {
            this.state = state;
            AnalyticsRecord marker = record(AnalyticsOutput.RUN_KEY);
            this.run = marker == null ? 0 : marker.getRun().getRunId();
        }

        long runId() {
            return run;
        }

        boolean hasData() throws Exception {
            return run > 0 || state.immutableEntries().iterator().hasNext();
        }

        private AnalyticsRecord record(String key) {
            AnalyticsRecord record = parsed.get(key);
            if (record == null && !parsed.containsKey(key)) {
                try {
                    byte[] bytes = state.get(key);
                    record = bytes == null ? null : AnalyticsRecord.parseFrom(bytes);
                } catch (Exception e) {
                    throw new IllegalStateException("broadcast state holds a bad record", e);
                }
                parsed.put(key, record);
            }
            return record;
        }

        private ItemNeighbors item(String itemId) {
            AnalyticsRecord record = record(AnalyticsOutput.itemKey(itemId));
            return record == null || record.getItemNeighbors().getRunId() < run ? null
                    : record.getItemNeighbors();
        }

        private Community community(long communityId) {
            AnalyticsRecord record = record(AnalyticsOutput.communityKey(communityId));
            return record == null || record.getCommunity().getRunId() < run ? null
                    : record.getCommunity();
        }

        @Override
        public Map<String, Float> neighbours(String itemId) {
            ItemNeighbors item = item(itemId);
            return item == null ? Map.of() : AnalyticsOutput.scores(item);
        }

        @Override
        public long communityOf(String itemId) {
            ItemNeighbors item = item(itemId);
            return item == null ? -1 : item.getCommunityId();
        }

        @Override
        public List<Popular> popularIn(long communityId) {
            Community community = community(communityId);
            return community == null ? List.of() : AnalyticsOutput.popular(community);
        }

        @Override
        public Collection<Long> communities() {
            return List.of(); // users here always have edges: no global fallback needed
        }
    }
}
