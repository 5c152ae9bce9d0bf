package dev.interestgraph.usergraph;

import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.graph.GraphUpdater;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.training.TrainingExample;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The {@code user-graph} operator, keyed by user id. Buffers each user's enriched actions until
 * the watermark passes them, then applies them in event-time order (so a replay, or any arrival
 * order within the watermark bound, gives the same deltas) and emits at most one
 * {@link GraphDelta} (delta contract v2) per user per {@code graph.emit-interval}.
 *
 * <p>Per event the operator does a constant amount of work on small state: the duplicate check
 * (a point read and write of the event id, kept {@code graph.dedup-window}), an append to the
 * pending buffer and a read of the next flush tick. No timer per event, no rewrite of a list:
 * the graph (its summary and the edges the flush touches, {@link UserGraphState}) is read and
 * written once per flush, not per event.
 *
 * <p>Timers, all in event time:
 * <ul>
 *   <li>flush ticks: events are grouped into {@code graph.emit-interval} slots; the tick at the
 *       end of the earliest pending slot applies them together (later slots' events wait for
 *       their own tick, registered then);
 *   <li>one lazy maintenance timer per user, registered when the user's graph starts and again
 *       each time it fires, never moved by a flush: the decay sweep every
 *       {@code graph.sweep-interval}, and idle expiry {@code graph.idle-ttl} after the user's last
 *       event, which clears all state. A sweep due at a flush tick leaves in the flush's delta.
 *       One that fires at the end of input (watermark +∞), or in a bounded run whenever no flush
 *       of the user's own events reaches its tick, runs before the user's next flush instead, at
 *       its own tick — or never, after the user's last event — so that a bounded replay's deltas
 *       do not depend on how far the watermark got before the input ended.
 * </ul>
 *
 * <p>Arrival order ({@code graph.ordering arrival}, {@link #arrivalOrder}): no wait for the
 * watermark. After the duplicate check an action joins the user's pending actions; with an emit
 * interval of 0 it is applied and emitted at once, otherwise the first pending action registers
 * a processing-time timer an interval later, which applies all of them (in event-time order
 * within the batch) as one flush, one delta. The flush's time is the batch's newest event time,
 * never earlier than the graph's newest applied time. Maintenance stays on the event-time timer.
 * In a bounded run the pending actions also flush at the end of input (an event-time timer at
 * {@link #END_OF_INPUT_FLUSH}): Flink drops the processing-time timers still registered then.
 */
public class UserGraphFunction extends KeyedProcessFunction<String, EnrichedAction, DeltaRecord>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    /** Fine-tuning: training examples, the texts of users' positive items (docs/fine-tuning.md). */
    public static final OutputTag<TrainingExample> TRAINING_EXAMPLES =
            new OutputTag<>("training-examples", TypeInformation.of(TrainingExample.class));

    /**
     * Arrival order in a bounded run: the event-time timer that flushes the pending actions when
     * the input ends (the watermark jumps to +∞; processing-time timers do not fire after it).
     * Never a maintenance tick: those are flush ticks below Long.MAX_VALUE − emit interval, or
     * Long.MAX_VALUE itself.
     */
    static final long END_OF_INPUT_FLUSH = Long.MAX_VALUE - 1;

    /** {@link #arrivalIntervalMs} of event-time order. */
    private static final long EVENT_TIME_ORDER = -1;

    /** How often a flush held for re-embedded vectors looks whether they have arrived. */
    static final long REBASE_POLL_MS = 10;

    private final GraphParameters params;
    /** A bounded input: maintenance only between a user's own events (constructor). */
    private final boolean boundedInput;
    /** Null without fine-tuning. */
    private final FineTuningSupport.Settings fineTuning;
    private transient FineTuningSupport fineTuningSupport;
    /**
     * Arrival order: how long (processing time) a user's actions are coalesced, 0 for a delta per
     * action; {@link #EVENT_TIME_ORDER} (negative) in event-time order.
     */
    private final long arrivalIntervalMs;

    private transient GraphUpdater updater;
    /**
     * Whether this subtask started from a checkpoint or savepoint: only then can a user's graph
     * still be in the layout before issue 16's ({@link UserGraphState}), so a subtask that
     * started empty never reads the old value for a new user.
     */
    private transient boolean restored;
    /** The graph: a summary value plus one map entry per edge (issue 16; UserGraphState). */
    private transient UserGraphState graphs;
    /** Actions waiting for their flush tick: appended per event (a merge on RocksDB). */
    private transient ListState<EnrichedAction> pending;
    /**
     * The serializer of the actions waiting for a flush: {@link PendingActionSerializer}; a test
     * sets Flink's POJO serializer (the one before it) to write a snapshot of that layout, which
     * restores through state migration.
     */
    static volatile TypeSerializer<EnrichedAction> pendingSerializer =
            PendingActionSerializer.INSTANCE;
    /** The earliest registered flush tick with pending actions; null when none is pending. */
    private transient ValueState<Long> nextFlush;
    /**
     * Arrival order: the processing time of the registered flush timer of the user's batch; null
     * when none is pending. A state of its own, so that either order finds what the other left
     * pending when a savepoint of one restores into the other ({@link #onTimer}).
     */
    private transient ValueState<Long> arrivalFlushAt;
    /**
     * Event ids applied (or pending) recently, each with its arrival number: a redelivered copy is
     * dropped. TTL'd (graph.dedup-window) and capped (graph.dedup-max-ids) through
     * {@link #seenRing}, so that a hot user's map stays small (on heap, Flink's incremental TTL
     * cleanup walks a user's whole map).
     */
    private transient MapState<String, Long> seenEventIds;
    /** Arrival number modulo graph.dedup-max-ids → the id that arrived then: the oldest goes. */
    private transient MapState<Integer, String> seenRing;
    /** How many ids the user's ring has taken. */
    private transient ValueState<Long> seenCount;

    /*
     * A flush held while the vectors of a re-base are fetched (fine-tuning only): its tick, its
     * actions, the processing time it started waiting, and the event-time timers of the user
     * that fired meanwhile, replayed in order once it has run. Empty for every user not waiting.
     */
    private transient ValueState<Long> heldTick;
    private transient ListState<EnrichedAction> heldDue;
    private transient ValueState<Long> heldSince;
    private transient ListState<Long> heldTimers;

    private transient Counter deltasOut;
    private transient Counter edgesPruned;
    private transient Counter edgesCapped;
    private transient Counter interestsOpened;
    private transient Counter interestsMerged;
    private transient Counter interestsEvicted;
    private transient Counter lateEvents;
    private transient Counter duplicateEvents;
    private transient Counter usersErased;
    private transient Counter usersExpired;
    private transient Counter graphRebases;
    private transient Counter rebaseWaits;

    public UserGraphFunction(GraphParameters params) {
        this(params, null);
    }

    /**
     * With fine-tuning settings the operator also re-bases a user's graph on a new encoder version
     * at the user's first event of it, and emits {@link #TRAINING_EXAMPLES}.
     */
    public UserGraphFunction(GraphParameters params, FineTuningSupport.Settings fineTuning) {
        this(params, fineTuning, false);
    }

    /**
     * With {@code boundedInput} (a replay of a bounded input, {@code kafka.bounded}) a user's
     * maintenance — decay sweep, idle expiry — runs only as far as the user's own events carry
     * event time: a maintenance timer that fires with no flush of the user at its tick waits for
     * the user's next flush, and after the user's last event none runs. How far the watermark
     * climbs before a bounded input ends depends on the machine (periodic watermarks, which
     * source finishes last, how long the catalogue takes to embed), so without this the deltas
     * after a user's last event — and the count of deltas — would too. Unbounded, maintenance
     * runs when the watermark passes its tick, as time really passes.
     */
    public UserGraphFunction(GraphParameters params, FineTuningSupport.Settings fineTuning,
            boolean boundedInput) {
        this(params, fineTuning, boundedInput, EVENT_TIME_ORDER);
    }

    private UserGraphFunction(GraphParameters params, FineTuningSupport.Settings fineTuning,
            boolean boundedInput, long arrivalIntervalMs) {
        this.params = params;
        this.fineTuning = fineTuning;
        this.boundedInput = boundedInput;
        this.arrivalIntervalMs = arrivalIntervalMs;
    }

    /**
     * The operator in arrival order ({@code graph.ordering arrival}): actions are applied as
     * they arrive, coalesced for {@code emitIntervalMs} of processing time (0: a delta per
     * action). Without fine-tuning: its re-base hold runs on processing-time timers too, and
     * the options reject the combination.
     */
    public static UserGraphFunction arrivalOrder(GraphParameters params, long emitIntervalMs,
            boolean boundedInput) {
        if (emitIntervalMs < 0) {
            throw new IllegalArgumentException("emit interval " + emitIntervalMs + " ms < 0");
        }
        return new UserGraphFunction(params, null, boundedInput, emitIntervalMs);
    }

    private boolean arrival() {
        return arrivalIntervalMs >= 0;
    }

    /**
     * The current key's whole graph (edges in memory) as the operator's state holds it, or null;
     * read-only, for tests and state tools (the layout: {@link UserGraphState}).
     */
    public static UserGraph graphOf(KeyedStateBackend<?> backend) throws Exception {
        return UserGraphState.readWhole(backend);
    }

    /** Called before {@link #open}: notes whether the subtask restored state. */
    @Override
    public void initializeState(FunctionInitializationContext context) {
        restored = context.isRestored();
    }

    /** Nothing: the operator's state is all keyed state, snapshotted by the backend. */
    @Override
    public void snapshotState(FunctionSnapshotContext context) {}

    @Override
    public void open(Configuration parameters) throws Exception {
        updater = new GraphUpdater(params);
        graphs = new UserGraphState(getRuntimeContext(), restored);
        pending = getRuntimeContext().getListState(new ListStateDescriptor<>("pending-events",
                pendingSerializer));
        nextFlush = getRuntimeContext().getState(
                new ValueStateDescriptor<>("next-flush", Types.LONG));
        arrivalFlushAt = getRuntimeContext().getState(
                new ValueStateDescriptor<>("arrival-flush-at", Types.LONG));
        // processing time: Flink's state TTL knows no other; expired ids are never read back.
        // Cleaned in snapshots and by RocksDB's compaction; not incrementally on heap (that walks
        // whole maps on every state access): there the ring's cap and expiry bound the ids.
        StateTtlConfig ttl = StateTtlConfig.newBuilder(Duration.ofMillis(params.dedupWindowMs))
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                .disableCleanupInBackground() // no heap default of incremental cleanup
                .cleanupFullSnapshot()
                .cleanupInRocksdbCompactFilter(1000)
                .build();
        MapStateDescriptor<String, Long> seen =
                new MapStateDescriptor<>("seen-event-ids", Types.STRING, Types.LONG);
        seen.enableTimeToLive(ttl);
        seenEventIds = getRuntimeContext().getMapState(seen);
        MapStateDescriptor<Integer, String> ring =
                new MapStateDescriptor<>("seen-event-ring", Types.INT, Types.STRING);
        ring.enableTimeToLive(ttl);
        seenRing = getRuntimeContext().getMapState(ring);
        ValueStateDescriptor<Long> count = new ValueStateDescriptor<>("seen-event-count", Types.LONG);
        count.enableTimeToLive(ttl);
        seenCount = getRuntimeContext().getState(count);

        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        deltasOut = metrics.counter("deltasOut");
        edgesPruned = metrics.counter("edgesPruned");
        edgesCapped = metrics.counter("edgesCapped");
        interestsOpened = metrics.counter("interestsOpened");
        interestsMerged = metrics.counter("interestsMerged");
        interestsEvicted = metrics.counter("interestsEvicted");
        lateEvents = metrics.counter("lateEvents");
        duplicateEvents = metrics.counter("duplicateEvents");
        usersErased = metrics.counter("usersErased");
        usersExpired = metrics.counter("usersExpired");
        graphRebases = metrics.counter("graphRebases");
        rebaseWaits = metrics.counter("rebaseWaits");
        if (fineTuning != null) {
            fineTuningSupport = new FineTuningSupport(fineTuning, params, getRuntimeContext());
            heldTick = getRuntimeContext().getState(
                    new ValueStateDescriptor<>("held-flush-tick", Types.LONG));
            heldDue = getRuntimeContext().getListState(new ListStateDescriptor<>(
                    "held-flush-events", pendingSerializer));
            heldSince = getRuntimeContext().getState(
                    new ValueStateDescriptor<>("held-flush-since", Types.LONG));
            heldTimers = getRuntimeContext().getListState(
                    new ListStateDescriptor<>("held-flush-later-timers", Types.LONG));
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
        if (action.eventId != null && action.action != Action.FORGET_USER) {
            if (seenEventIds.contains(action.eventId)) {
                duplicateEvents.inc(); // a redelivered copy, whatever slot it would land in
                return;
            }
            remember(action.eventId);
        }
        if (arrival()) {
            arrive(action, ctx, out);
            return;
        }
        long watermark = ctx.timerService().currentWatermark();
        long tick = updater.flushTick(action.eventTimeMs);
        if (tick <= watermark) {
            // Late: its slot has been flushed. Still applied (nothing is lost), in the next slot.
            lateEvents.inc();
            tick = watermark == Long.MAX_VALUE ? watermark : updater.flushTick(watermark + 1);
        }
        pending.add(action);
        Long registered = nextFlush.value();
        if (registered == null || tick < registered) {
            // later slots' ticks are registered when the earlier flush finds their events
            ctx.timerService().registerEventTimeTimer(tick);
            nextFlush.update(tick);
        }
    }

    /**
     * Arrival order: applies the action now (interval 0) or adds it to the user's batch, whose
     * first action registers the processing-time timer that flushes it.
     */
    private void arrive(EnrichedAction action, Context ctx, Collector<DeltaRecord> out)
            throws Exception {
        if (arrivalIntervalMs == 0) {
            fireArrived(List.of(action), ctx, out); // nothing pending: no state write for it
            return;
        }
        pending.add(action);
        if (arrivalFlushAt.value() == null) {
            long at = ctx.timerService().currentProcessingTime() + arrivalIntervalMs;
            ctx.timerService().registerProcessingTimeTimer(at);
            arrivalFlushAt.update(at);
            if (boundedInput) {
                ctx.timerService().registerEventTimeTimer(END_OF_INPUT_FLUSH);
            }
        }
    }

    /** Arrival order: flushes every pending action of the user (none: nothing happens). */
    private void flushArrived(Context ctx, Collector<DeltaRecord> out) throws Exception {
        List<EnrichedAction> due = new ArrayList<>();
        Iterable<EnrichedAction> waiting = pending.get();
        if (waiting != null) {
            waiting.forEach(due::add);
        }
        pending.clear();
        nextFlush.clear(); // (set only when event-time order left actions pending)
        arrivalFlushAt.clear();
        if (!due.isEmpty()) {
            fireArrived(due, ctx, out);
        }
    }

    /**
     * Event-time order restored from a savepoint of arrival order, with a batch still pending
     * (its processing-time timer fired here): the actions join event-time order's schedule —
     * the earliest of their slots not yet passed by the watermark gets the flush timer, and each
     * flush takes every pending action of its slot or before, so none is left behind.
     */
    private void adoptArrivalBatch(Context ctx) throws Exception {
        arrivalFlushAt.clear();
        long tick = Long.MAX_VALUE;
        Iterable<EnrichedAction> waiting = pending.get();
        for (EnrichedAction action : waiting == null ? List.<EnrichedAction>of() : waiting) {
            tick = Math.min(tick, updater.flushTick(action.eventTimeMs));
        }
        if (tick == Long.MAX_VALUE) {
            return; // nothing pending
        }
        long watermark = ctx.timerService().currentWatermark();
        if (tick <= watermark) {
            tick = watermark == Long.MAX_VALUE ? watermark : updater.flushTick(watermark + 1);
        }
        Long registered = nextFlush.value();
        if (registered == null || tick < registered) {
            ctx.timerService().registerEventTimeTimer(tick);
            nextFlush.update(tick);
        }
    }

    /**
     * Arrival order: one flush of {@code due} through {@link #fire}, at the batch's newest event
     * time ({@link #fire} keeps it from stepping back behind the graph's).
     */
    private void fireArrived(List<EnrichedAction> due, Context ctx, Collector<DeltaRecord> out)
            throws Exception {
        long newest = Long.MIN_VALUE;
        for (EnrichedAction action : due) {
            newest = Math.max(newest, action.eventTimeMs);
        }
        fire(newest, due, ctx, out);
    }

    /** Remembers an event id, forgetting the user's oldest when graph.dedup-max-ids are held. */
    private void remember(String eventId) throws Exception {
        Long taken = seenCount.value();
        long n = taken == null ? 0 : taken;
        int slot = (int) (n % params.dedupMaxIds);
        if (n >= params.dedupMaxIds) {
            String oldest = seenRing.get(slot);
            Long arrived = oldest == null ? null : seenEventIds.get(oldest);
            if (arrived != null && arrived == n - params.dedupMaxIds) {
                seenEventIds.remove(oldest); // (not when it expired and came again since)
            }
        }
        seenRing.put(slot, eventId);
        seenEventIds.put(eventId, n);
        seenCount.update(n + 1);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<DeltaRecord> out)
            throws Exception {
        if (arrival()) {
            if (ctx.timeDomain() == TimeDomain.PROCESSING_TIME) {
                Long flushAt = arrivalFlushAt.value();
                if (flushAt != null && flushAt == timestamp) {
                    flushArrived(ctx, out); // (an older timer: its batch left at the end of input)
                }
                return;
            }
            // actions that event-time order left pending (a restore after switching: their
            // slot's timer fired), or the end of input, before the maintenance it brings
            if (nextFlush.value() != null || (arrivalFlushAt.value() != null
                    && ctx.timerService().currentWatermark() == Long.MAX_VALUE)) {
                flushArrived(ctx, out);
            }
            if (timestamp != END_OF_INPUT_FLUSH) {
                fire(timestamp, List.of(), ctx, out); // maintenance only: no event waits for it
            }
        } else if (ctx.timeDomain() == TimeDomain.PROCESSING_TIME) {
            if (arrivalFlushAt.value() != null) {
                adoptArrivalBatch(ctx); // a batch that arrival order left pending
            }
            if (fineTuningSupport != null) {
                retryHeldFlush(ctx, out, false);
            }
        } else if (fineTuningSupport != null && heldTick.value() != null) {
            heldTimers.add(timestamp); // runs, in order, after the held flush
            if (ctx.timerService().currentWatermark() == Long.MAX_VALUE) {
                // the end of a bounded input: no processing-time timer fires after it, so the
                // held flush finishes now (every user with a graph has a timer that fires here)
                retryHeldFlush(ctx, out, true);
            }
        } else {
            fire(timestamp, null, ctx, out);
        }
    }

    /**
     * What an event-time timer at {@code timestamp} does: the flush of the slot it ends (of
     * {@code given} when a held flush resumes, or of an arrival-order batch) and, when it is the
     * user's maintenance timer, the sweep or idle expiry. Returns false, changing nothing but the
     * pending actions (moved to the hold), when the flush has to wait for re-embedded vectors
     * first.
     */
    private boolean fire(long timestamp, List<EnrichedAction> given, Context ctx,
            Collector<DeltaRecord> out) throws Exception {
        String userId = ctx.getCurrentKey();
        List<EnrichedAction> due = given != null ? given : takeDue(timestamp, ctx);
        UserGraph graph = graphs.load();
        // arrival order: a batch of only older events than the graph's flushes at the graph's
        // time (decay never runs backwards, deltas never step back)
        long notBefore = Long.MIN_VALUE;
        if (arrival() && !due.isEmpty()) {
            if (graph != null) {
                timestamp = Math.max(timestamp, graph.lastEventMs);
            }
            notBefore = timestamp;
        }
        if (fineTuningSupport != null && !due.isEmpty()) {
            if (ctx.timerService().currentWatermark() == Long.MAX_VALUE) {
                fineTuningSupport.awaitVectors(userId, graph, due); // end of input: see onTimer
            } else if (!fineTuningSupport.vectorsReady(userId, graph, due)) {
                hold(timestamp, due, ctx); // before anything below touches the graph
                return false;
            }
        }
        if (!due.isEmpty()) {
            // maintenance passed over before this flush (at the end of input, or deferred in a
            // bounded run) runs first, at its own ticks: the user's events at this tick prove
            // that event time passed them, and the deltas are those of a watermark that did
            graph = catchUpMaintenance(graph, userId, timestamp, ctx, out);
        }
        long timerBefore = graph == null ? Long.MIN_VALUE : graph.maintenanceTimerMs;
        // The end of a bounded input moves the watermark to +∞: that is not time passing, so a
        // maintenance timer that fires then (or, in a bounded run, whenever no flush of the
        // user's own events proves its time) leaves the graph as the last event left it. It
        // stays due (graph.maintenanceTimerMs) and runs before the user's next flush, if any.
        boolean endOfInput = ctx.timerService().currentWatermark() == Long.MAX_VALUE;
        boolean maintenance = graph != null && graph.maintenanceTimerMs == timestamp
                && (!due.isEmpty() || (!endOfInput && !boundedInput));
        if (maintenance) {
            graph.maintenanceTimerMs = Long.MIN_VALUE; // this timer has fired
        }
        if (maintenance && due.isEmpty() && updater.isIdle(graph, timestamp)) {
            GraphUpdater.Result result = updater.expire(graph, userId, timestamp);
            usersExpired.inc();
            if (fineTuningSupport != null) {
                fineTuningSupport.afterUpdate(result, List.of());
            }
            store(result, Long.MIN_VALUE, timestamp, ctx, out);
            return true;
        }
        if (due.isEmpty() && !maintenance) {
            return true; // a timer whose events an earlier flush took, or a stale maintenance timer
        }
        long sweepAt = maintenance ? timestamp : Long.MIN_VALUE;
        GraphUpdater.Result result;
        if (fineTuningSupport != null) {
            if (!due.isEmpty()) {
                fineTuningSupport.beforeFlush(due, example -> ctx.output(TRAINING_EXAMPLES, example));
            }
            result = updater.flush(graph, userId, due, fineTuningSupport.itemVectors(userId),
                    sweepAt);
            fineTuningSupport.flushed(userId);
            fineTuningSupport.afterUpdate(result, due);
        } else {
            result = updater.flush(graph, userId, due, null, sweepAt, notBefore);
        }
        store(result, maintenance ? Long.MIN_VALUE : timerBefore, timestamp, ctx, out);
        return true;
    }

    /**
     * Holds a flush whose re-base needs vectors that are not here yet: the requests are out
     * (asynchronous, batched), and a processing-time timer looks again. The task stays free
     * meanwhile — other users' flushes, checkpoint barriers and watermarks go on — and a
     * checkpoint keeps the hold, whose vectors are asked for again after a restore.
     */
    private void hold(long tick, List<EnrichedAction> due, Context ctx) throws Exception {
        long now = ctx.timerService().currentProcessingTime();
        heldTick.update(tick);
        heldDue.update(due);
        heldSince.update(now);
        ctx.timerService().registerProcessingTimeTimer(now + REBASE_POLL_MS);
        rebaseWaits.inc();
    }

    /**
     * Runs the held flush once its vectors are here, then the event-time timers that fired
     * meanwhile, in time order, as they would have run — so the deltas are those of a run that
     * never waited. Fails the task (it restarts from its checkpoint) when the vectors take longer
     * than embedding.timeout, as a failed embedding does elsewhere.
     */
    private void retryHeldFlush(OnTimerContext ctx, Collector<DeltaRecord> out, boolean await)
            throws Exception {
        Long tick = heldTick.value();
        if (fineTuningSupport == null || tick == null) {
            return; // the hold this timer was for has been released
        }
        String userId = ctx.getCurrentKey();
        List<EnrichedAction> due = new ArrayList<>();
        heldDue.get().forEach(due::add);
        long now = ctx.timerService().currentProcessingTime();
        if (await) {
            fineTuningSupport.awaitVectors(userId, graphs.load(), due);
        } else if (!fineTuningSupport.vectorsReady(userId, graphs.load(), due)) {
            long waited = now - heldSince.value();
            if (waited > fineTuning.timeout.toMillis()) {
                throw new IllegalStateException("the graph of a user has waited " + waited
                        + " ms for the vectors of a version switch, longer than embedding.timeout ("
                        + fineTuning.timeout.toMillis() + " ms): is the encoder serving the new "
                        + "version?");
            }
            ctx.timerService().registerProcessingTimeTimer(now + REBASE_POLL_MS);
            return;
        }
        List<Long> later = new ArrayList<>();
        heldTimers.get().forEach(later::add);
        later.sort(null);
        heldTick.clear();
        heldDue.clear();
        heldSince.clear();
        heldTimers.clear();
        fire(tick, due, ctx, out);
        for (int i = 0; i < later.size(); i++) {
            if (!fire(later.get(i), null, ctx, out)) {
                // another version switch: held again; the rest waits behind it
                heldTimers.update(new ArrayList<>(later.subList(i + 1, later.size())));
                return;
            }
        }
    }

    /**
     * Runs the user's maintenance timers due before {@code tickMs} that did not run when they
     * fired (see {@link #fire}), in order, as the operator runs them when the watermark passes
     * each: a decay sweep (its own delta) or idle expiry, each registering the next. Returns the
     * graph after them (null when the user expired: the flush then starts a new epoch), with the
     * Flink timer of its next maintenance registered when that lies after {@code tickMs}.
     */
    private UserGraph catchUpMaintenance(UserGraph graph, String userId, long tickMs, Context ctx,
            Collector<DeltaRecord> out) throws Exception {
        boolean caughtUp = false;
        while (graph != null && graph.maintenanceTimerMs != Long.MIN_VALUE
                && graph.maintenanceTimerMs < tickMs) {
            long timer = graph.maintenanceTimerMs; // its Flink timer fired (timers run in order)
            graph.maintenanceTimerMs = Long.MIN_VALUE;
            boolean expire = updater.isIdle(graph, timer);
            GraphUpdater.Result result = expire ? updater.expire(graph, userId, timer)
                    : updater.flush(graph, userId, List.of(), null, timer);
            if (expire) {
                usersExpired.inc();
            }
            if (fineTuningSupport != null) {
                fineTuningSupport.afterUpdate(result, List.of());
            }
            emit(result, out);
            graph = result.graph;
            if (graph == null) {
                graphs.store(null);
                forgetSeenIds(); // expired: nothing of the user stays, as when the timer runs
            } else {
                graph.maintenanceTimerMs = updater.nextMaintenance(graph, timer);
            }
            caughtUp = true;
        }
        if (caughtUp && graph != null && graph.maintenanceTimerMs > tickMs) {
            ctx.timerService().registerEventTimeTimer(graph.maintenanceTimerMs);
        }
        return graph;
    }

    private void forgetSeenIds() {
        seenEventIds.clear();
        seenRing.clear();
        seenCount.clear();
    }

    /**
     * Removes and returns the pending actions whose slot ends at or before {@code tick}; the
     * others stay, and the earliest of their ticks gets the next timer. Each action is read
     * here at most once per flush of its user until it is due: amortised O(1) per event.
     */
    private List<EnrichedAction> takeDue(long tick, Context ctx) throws Exception {
        Long registered = nextFlush.value();
        if (registered == null || registered > tick) {
            return List.of();
        }
        List<EnrichedAction> due = new ArrayList<>();
        List<EnrichedAction> later = null;
        long nextTick = Long.MAX_VALUE;
        for (EnrichedAction action : pending.get()) {
            long actionTick = updater.flushTick(action.eventTimeMs);
            if (actionTick <= tick) {
                due.add(action);
            } else {
                if (later == null) {
                    later = new ArrayList<>();
                }
                later.add(action);
                nextTick = Math.min(nextTick, actionTick);
            }
        }
        if (later == null) {
            pending.clear();
            nextFlush.clear();
        } else {
            pending.update(later);
            ctx.timerService().registerEventTimeTimer(nextTick);
            nextFlush.update(nextTick);
        }
        return due;
    }

    /** Emits the result's deltas and counts what it did. */
    private void emit(GraphUpdater.Result result, Collector<DeltaRecord> out) throws Exception {
        for (GraphDelta delta : result.deltas) {
            out.collect(DeltaRecord.of(delta));
            deltasOut.inc();
            if (delta.getUserErased()) {
                usersErased.inc();
                // every trace of the user goes, the ids of their events too
                forgetSeenIds();
            }
        }
        edgesPruned.inc(result.edgesPruned);
        edgesCapped.inc(result.edgesCapped);
        interestsOpened.inc(result.interestsOpened);
        interestsMerged.inc(result.interestsMerged);
        interestsEvicted.inc(result.interestsEvicted);
        duplicateEvents.inc(result.duplicatesDropped);
        graphRebases.inc(result.rebases);
    }

    /**
     * Emits the result's deltas, stores (or clears) the graph and, for a graph without one,
     * registers its maintenance timer (never moved afterwards: it re-registers when it fires).
     * {@code timerBefore}: the maintenance timer still registered for the graph the result
     * started from (Long.MIN_VALUE when none), deleted when the graph ends.
     */
    private void store(GraphUpdater.Result result, long timerBefore, long nowMs, Context ctx,
            Collector<DeltaRecord> out) throws Exception {
        emit(result, out);

        UserGraph graph = result.graph;
        boolean sameGraph = graph != null && graph.maintenanceTimerMs == timerBefore;
        if (timerBefore != Long.MIN_VALUE && !sameGraph) {
            // the graph ended (erased, expired): its timer goes with it, unless it is also a
            // pending flush tick (timers are unique per user and time)
            Long flushTick = nextFlush.value();
            if (flushTick == null || flushTick != timerBefore) {
                ctx.timerService().deleteEventTimeTimer(timerBefore);
            }
        }
        if (graph == null) {
            graphs.store(null);
            forgetSeenIds(); // expired or erased: nothing of the user stays
            return;
        }
        if (graph.maintenanceTimerMs == Long.MIN_VALUE) {
            graph.maintenanceTimerMs = updater.nextMaintenance(graph, nowMs);
            ctx.timerService().registerEventTimeTimer(graph.maintenanceTimerMs);
        }
        graphs.store(graph);
    }
}
