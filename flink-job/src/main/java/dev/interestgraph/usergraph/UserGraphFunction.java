package dev.interestgraph.usergraph;

import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.graph.GraphUpdater;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.internal.TimeBuckets;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v1.GraphDelta;
import dev.interestgraph.training.TrainingExample;
import java.util.List;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The {@code user-graph} operator, keyed by user id. Buffers each user's enriched actions until
 * the watermark passes them, then applies them in event-time order (so a replay, or any arrival
 * order within the watermark bound, gives the same deltas) and emits one {@link GraphDelta} per
 * user per flush.
 *
 * <p>Timers, all in event time:
 * <ul>
 *   <li>flush ticks: events are grouped into {@code graph.flush-interval} slots; the tick at the
 *       end of a slot applies them together, touching the user's graph state once;
 *   <li>one maintenance timer per user: the decay sweep every {@code graph.sweep-interval}, and
 *       idle expiry {@code graph.idle-ttl} after the user's last event, which clears all state.
 * </ul>
 */
public class UserGraphFunction extends KeyedProcessFunction<String, EnrichedAction, DeltaRecord> {
    private static final long serialVersionUID = 1L;

    /** Fine-tuning: training examples, the texts of users' positive items (docs/fine-tuning.md). */
    public static final OutputTag<TrainingExample> TRAINING_EXAMPLES =
            new OutputTag<>("training-examples", TypeInformation.of(TrainingExample.class));

    private final GraphParameters params;
    /** Null without fine-tuning. */
    private final FineTuningSupport.Settings fineTuning;
    private transient FineTuningSupport fineTuningSupport;

    private transient GraphUpdater updater;
    private transient ValueState<UserGraph> graphState;
    /**
     * Flush tick → the actions it will apply. Keyed by tick so that a flush is a point read and a
     * point delete: no range scans (RocksDB would wade through the deletes of earlier flushes).
     */
    private transient MapState<Long, List<EnrichedAction>> pending;

    private transient Counter deltasOut;
    private transient Counter edgesPruned;
    private transient Counter edgesCapped;
    private transient Counter interestsOpened;
    private transient Counter interestsMerged;
    private transient Counter lateEvents;
    private transient Counter duplicateEvents;
    private transient Counter usersErased;
    private transient Counter usersExpired;
    private transient Counter graphRebases;

    public UserGraphFunction(GraphParameters params) {
        this(params, null);
    }

    /**
     * With fine-tuning settings the operator also re-bases a user's graph on a new encoder version
     * at the user's first event of it, and emits {@link #TRAINING_EXAMPLES}.
     */
    public UserGraphFunction(GraphParameters params, FineTuningSupport.Settings fineTuning) {
        this.params = params;
        this.fineTuning = fineTuning;
    }

    /** The per-user graph state; public so that tests and state tools can read it. */
    public static ValueStateDescriptor<UserGraph> graphStateDescriptor() {
        return new ValueStateDescriptor<>("user-graph", UserGraphSerializer.INSTANCE);
    }

    @Override
    public void open(Configuration parameters) throws Exception {
        updater = new GraphUpdater(params);
        graphState = getRuntimeContext().getState(graphStateDescriptor());
        pending = getRuntimeContext().getMapState(new MapStateDescriptor<>("pending-actions",
                Types.LONG, Types.LIST(Types.POJO(EnrichedAction.class))));

        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        deltasOut = metrics.counter("deltasOut");
        edgesPruned = metrics.counter("edgesPruned");
        edgesCapped = metrics.counter("edgesCapped");
        interestsOpened = metrics.counter("interestsOpened");
        interestsMerged = metrics.counter("interestsMerged");
        lateEvents = metrics.counter("lateEvents");
        duplicateEvents = metrics.counter("duplicateEvents");
        usersErased = metrics.counter("usersErased");
        usersExpired = metrics.counter("usersExpired");
        graphRebases = metrics.counter("graphRebases");
        if (fineTuning != null) {
            fineTuningSupport = new FineTuningSupport(fineTuning, params, getRuntimeContext());
        }
    }

    @Override
    public void close() {
        if (fineTuningSupport != null) {
            fineTuningSupport.close();
        }
    }

    @Override
    public void processElement(EnrichedAction action, Context ctx, Collector<DeltaRecord> out)
            throws Exception {
        long watermark = ctx.timerService().currentWatermark();
        long tick = updater.flushTick(action.eventTimeMs);
        if (tick <= watermark) {
            // Late: its slot has been flushed. Still applied (nothing is lost), in the next slot.
            lateEvents.inc();
            tick = watermark == Long.MAX_VALUE ? watermark : updater.flushTick(watermark + 1);
        }
        TimeBuckets.add(pending, tick, action);
        ctx.timerService().registerEventTimeTimer(tick);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<DeltaRecord> out)
            throws Exception {
        String userId = ctx.getCurrentKey();
        List<EnrichedAction> due = TimeBuckets.take(pending, timestamp);
        UserGraph graph = graphState.value();
        long timerBefore = graph == null ? Long.MIN_VALUE : graph.maintenanceTimerMs;

        if (!due.isEmpty()) {
            GraphUpdater.Result result;
            if (fineTuningSupport != null) {
                fineTuningSupport.beforeFlush(due, example -> ctx.output(TRAINING_EXAMPLES, example));
                result = updater.flush(graph, userId, due, fineTuningSupport.itemVectors());
                fineTuningSupport.afterUpdate(result, due);
            } else {
                result = updater.flush(graph, userId, due);
            }
            graph = store(result, timerBefore, timestamp, ctx, out);
            timerBefore = graph == null ? Long.MIN_VALUE : graph.maintenanceTimerMs;
        }
        // The end of a bounded input moves the watermark to +∞: that is not time passing, so the
        // graph stays as the last event left it instead of decaying and expiring.
        boolean endOfInput = ctx.timerService().currentWatermark() == Long.MAX_VALUE;
        if (graph != null && graph.maintenanceTimerMs == timestamp && !endOfInput) {
            GraphUpdater.Result result = updater.maintain(graph, userId, timestamp);
            if (result.graph == null) {
                usersExpired.inc();
            }
            graph.maintenanceTimerMs = Long.MIN_VALUE; // this timer has fired
            if (fineTuningSupport != null) {
                fineTuningSupport.afterUpdate(result, List.of());
            }
            store(result, Long.MIN_VALUE, timestamp, ctx, out);
        }
    }

    /**
     * Emits the result's deltas, stores (or clears) the graph and moves the maintenance timer.
     * Returns the graph as stored.
     */
    private UserGraph store(GraphUpdater.Result result, long timerBefore, long nowMs,
            Context ctx, Collector<DeltaRecord> out) throws Exception {
        for (GraphDelta delta : result.deltas) {
            out.collect(DeltaRecord.of(delta));
            deltasOut.inc();
            if (delta.getOpsCount() == 1 && delta.getOps(0).hasUserErased()) {
                usersErased.inc();
            }
        }
        edgesPruned.inc(result.edgesPruned);
        edgesCapped.inc(result.edgesCapped);
        interestsOpened.inc(result.interestsOpened);
        interestsMerged.inc(result.interestsMerged);
        duplicateEvents.inc(result.duplicatesDropped);
        graphRebases.inc(result.rebases);

        UserGraph graph = result.graph;
        long timerAfter =
                graph == null ? Long.MIN_VALUE : updater.nextMaintenance(graph, nowMs);
        if (timerBefore != Long.MIN_VALUE && timerBefore != timerAfter
                && !pending.contains(timerBefore)) {
            // Timers are unique per (user, time): one that is also a pending flush tick stays,
            // and fires as a flush only.
            ctx.timerService().deleteEventTimeTimer(timerBefore);
        }
        if (graph == null) {
            graphState.clear();
            return null;
        }
        if (timerAfter != timerBefore) {
            ctx.timerService().registerEventTimeTimer(timerAfter);
        }
        graph.maintenanceTimerMs = timerAfter;
        graphState.update(graph);
        return graph;
    }
}
