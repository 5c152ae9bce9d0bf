package dev.interestgraph.enrich;

import dev.interestgraph.join.ItemJoin;
import dev.interestgraph.internal.TimeBuckets;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * {@code item-enrich}, keyed by item id: an event-time temporal join of user actions with the
 * item version valid at each action's time. Actions wait until the watermark passes them (by then
 * every version valid at their time has arrived), then meet the newest version with
 * {@code updated_ms <= event_time_ms} ({@link ItemJoin}, the join's semantics). New item versions also leave on {@link #ITEM_EMBEDDINGS}
 * for the compacted item-embeddings topic.
 *
 * <p>State per item: the versions that can still be needed (the newest one at or before the
 * watermark and any later ones) and the actions waiting for the watermark.
 *
 * <p>Arrival order ({@code graph.ordering arrival}): an action whose item has a known version
 * with {@code updated_ms <= event_time_ms} leaves at once, joined with the newest such version
 * (a lookup join on what is known now: a version that arrives later with an
 * {@code updated_ms} between the two is not used). Only an action with no such version waits
 * for the watermark as above, since its version may still arrive.
 */
public class ItemEnrichFunction
        extends KeyedCoProcessFunction<String, UserAction, ItemVersion, EnrichedAction> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<ItemVersion> ITEM_EMBEDDINGS =
            new OutputTag<>("item-embeddings", TypeInformation.of(ItemVersion.class));

    /**
     * The item's versions that can still be needed, oldest first: usually one or two, so one value
     * read per timer instead of a scan.
     */
    private transient ValueState<List<ItemVersion>> versions;
    private transient MapState<Long, List<UserAction>> waiting;
    private transient Counter actionsWithoutItem;
    /** Arrival order: join on the versions known now when one fits (see the class comment). */
    private final boolean arrival;

    /** The event-time temporal join. */
    public ItemEnrichFunction() {
        this(false);
    }

    /** With {@code arrival}, the lookup join of arrival order (see the class comment). */
    public ItemEnrichFunction(boolean arrival) {
        this.arrival = arrival;
    }

    @Override
    public void open(Configuration parameters) {
        versions = getRuntimeContext().getState(new ValueStateDescriptor<>("item-versions",
                Types.LIST(Types.POJO(ItemVersion.class))));
        waiting = getRuntimeContext().getMapState(new MapStateDescriptor<>("waiting-actions",
                Types.LONG, Types.LIST(Types.POJO(UserAction.class))));
        actionsWithoutItem = getRuntimeContext().getMetricGroup().counter("actionsWithoutItem");
    }

    @Override
    public void processElement1(UserAction action, Context ctx, Collector<EnrichedAction> out)
            throws Exception {
        if (action.action == Action.FORGET_USER) {
            out.collect(ItemJoin.enrich(action, null)); // erasure concerns no item: on at once
            return;
        }
        if (arrival) {
            ItemVersion version = ItemJoin.versionAt(versions.value(), action.eventTimeMs);
            if (version != null) {
                out.collect(ItemJoin.enrich(action, version));
                return;
            }
        }
        TimeBuckets.add(waiting, action.eventTimeMs, action);
        // A late action's timer is already in the past: it fires with the next watermark.
        ctx.timerService().registerEventTimeTimer(action.eventTimeMs);
    }

    @Override
    public void processElement2(ItemVersion item, Context ctx, Collector<EnrichedAction> out)
            throws Exception {
        List<ItemVersion> known = versions.value();
        List<ItemVersion> updated = new ArrayList<>(known == null ? List.of() : known);
        updated.removeIf(v -> v.updatedMs == item.updatedMs); // a re-sent version replaces itself
        updated.add(item);
        updated.sort(Comparator.comparingLong(v -> v.updatedMs));
        versions.update(ItemJoin.withoutStale(updated, ctx.timerService().currentWatermark()));
        if (item.embedding != null) {
            ctx.output(ITEM_EMBEDDINGS, item);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<EnrichedAction> out)
            throws Exception {
        List<ItemVersion> known = versions.value();
        for (UserAction action : TimeBuckets.take(waiting, timestamp)) {
            ItemVersion version = ItemJoin.versionAt(known, action.eventTimeMs);
            if (version == null) {
                actionsWithoutItem.inc();
            }
            out.collect(ItemJoin.enrich(action, version));
        }
        if (known != null && known.size() > 1) {
            List<ItemVersion> pruned =
                    ItemJoin.withoutStale(known, ctx.timerService().currentWatermark());
            if (pruned.size() < known.size()) {
                versions.update(pruned);
            }
        }
    }
}
