package dev.interestgraph.eval;

import dev.interestgraph.join.ItemJoin;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.graph.GraphUpdater;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v2.GraphDelta;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The user-graph operator's event-time behaviour replayed in-process for input that is already
 * in event-time order: the same {@link GraphUpdater} calls, in the same flush slots, with the
 * same maintenance schedule, as the operator makes once the watermark passes each tick — so it
 * yields the job's deltas (a test checks that) in a fraction of the time. The evaluation's
 * parameter sweep uses it; the reported results come from the real job.
 */
public final class GraphReplay {
    /**
     * The final watermark of a bounded input for {@link #replay}: no maintenance after a user's
     * last event (UserGraphFunction with {@code boundedInput}).
     */
    public static final long BOUNDED_INPUT = Long.MIN_VALUE;

    private final GraphUpdater updater;

    public GraphReplay(GraphParameters params) {
        this.updater = new GraphUpdater(params);
    }

    /**
     * A graph source for {@link Evaluation}: replays the events against the catalogue as the
     * job's bounded replay ({@code kafka.bounded}, {@link JobReplay}) does — maintenance only
     * between a user's own events, none after the user's last event — so that it yields that
     * replay's deltas ({@code JobReplayReproducibilityIT} checks it). The watermark bound plays
     * no part: no event is late in an in-order replay, and maintenance does not wait for the
     * watermark.
     */
    public static Evaluation.GraphSource source(GraphParameters params,
            Map<String, ItemVersion> catalogue) {
        GraphReplay replay = new GraphReplay(params);
        return events -> replay.replay(enrich(events, catalogue), BOUNDED_INPUT);
    }

    /** Joins actions with their items' current version (a catalogue of one version per item). */
    public static List<EnrichedAction> enrich(List<UserAction> actions,
            Map<String, ItemVersion> items) {
        List<EnrichedAction> enriched = new ArrayList<>(actions.size());
        for (UserAction action : actions) {
            enriched.add(ItemJoin.enrich(action, items.get(action.itemId)));
        }
        return enriched;
    }

    /**
     * Every user's deltas, in order per user, for actions given in event-time order. {@code
     * finalWatermarkMs} is the last watermark before the input ended: maintenance timers up to it
     * fire for every user (in a live job, other users' events keep moving event time), later ones
     * do not (the end of input is not time passing); {@link #BOUNDED_INPUT} for the job's
     * bounded replays, which run none after a user's last event.
     */
    public List<GraphDelta> replay(List<EnrichedAction> actions, long finalWatermarkMs) {
        Map<String, List<EnrichedAction>> byUser = new LinkedHashMap<>();
        for (EnrichedAction action : actions) {
            byUser.computeIfAbsent(action.userId, u -> new ArrayList<>()).add(action);
        }
        List<GraphDelta> deltas = new ArrayList<>();
        byUser.forEach((user, events) -> replayUser(user, events, finalWatermarkMs, deltas));
        return deltas;
    }

    private void replayUser(String userId, List<EnrichedAction> events, long finalWatermarkMs,
            List<GraphDelta> out) {
        TreeMap<Long, List<EnrichedAction>> slots = new TreeMap<>();
        for (EnrichedAction event : events) {
            slots.computeIfAbsent(updater.flushTick(event.eventTimeMs), t -> new ArrayList<>())
                    .add(event);
        }
        // the operator's duplicate check (its processing-time window taken as the whole run)
        Set<String> seen = new HashSet<>();
        UserGraph graph = null;
        for (Map.Entry<Long, List<EnrichedAction>> slot : slots.entrySet()) {
            long tick = slot.getKey();
            List<EnrichedAction> due = new ArrayList<>();
            for (EnrichedAction event : slot.getValue()) {
                if (event.eventId == null || event.action == Action.FORGET_USER
                        || seen.add(event.eventId)) {
                    due.add(event);
                }
            }
            graph = maintainUntil(userId, graph, tick - 1, out);
            boolean sweep = graph != null && graph.maintenanceTimerMs == tick;
            if (sweep) {
                graph.maintenanceTimerMs = Long.MIN_VALUE;
            }
            GraphUpdater.Result result =
                    updater.flush(graph, userId, due, null, sweep ? tick : Long.MIN_VALUE);
            out.addAll(result.deltas);
            if (result.deltas.stream().anyMatch(GraphDelta::getUserErased)) {
                seen.clear();
            }
            graph = result.graph;
            if (graph != null && graph.maintenanceTimerMs == Long.MIN_VALUE) {
                graph.maintenanceTimerMs = updater.nextMaintenance(graph, tick);
            }
        }
        maintainUntil(userId, graph, finalWatermarkMs, out);
    }

    /**
     * Fires the maintenance timers at or before {@code untilMs}, as the operator would: one lazy
     * timer per user, re-registered when it fires.
     */
    private UserGraph maintainUntil(String userId, UserGraph graph, long untilMs,
            List<GraphDelta> out) {
        while (graph != null && graph.maintenanceTimerMs != Long.MIN_VALUE
                && graph.maintenanceTimerMs <= untilMs) {
            long timer = graph.maintenanceTimerMs;
            graph.maintenanceTimerMs = Long.MIN_VALUE;
            GraphUpdater.Result result = updater.isIdle(graph, timer)
                    ? updater.expire(graph, userId, timer)
                    : updater.flush(graph, userId, List.of(), null, timer);
            out.addAll(result.deltas);
            graph = result.graph;
            if (graph != null) {
                graph.maintenanceTimerMs = updater.nextMaintenance(graph, timer);
            }
        }
        return graph;
    }
}
