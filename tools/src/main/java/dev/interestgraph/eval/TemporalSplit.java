package dev.interestgraph.eval;

import dev.interestgraph.model.Action;
import dev.interestgraph.model.UserAction;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Per-user temporal cuts inside a global-time replay (docs/evaluation.md): for each user with events
 * sorted by time (stable tie-break), {@code a = ⌊0.6·n⌋}, {@code b = ⌊0.8·n⌋}. The graph after
 * {@code events[:a]} is "before the update", after {@code events[:b]} "after the update"; the
 * target is {@code events[b:]}, relevant when positive (rating ≥ 3.5 for RATE).
 */
public final class TemporalSplit {
    public static final double RELEVANT_RATING = 3.5;

    private final List<UserAction> replay;
    private final Map<String, Integer> cutA = new HashMap<>();
    private final Map<String, Integer> cutB = new HashMap<>();
    private final Map<String, List<UserAction>> byUser = new TreeMap<>();

    /** @param replay all events in replay order (time, then a stable tie-break) */
    public TemporalSplit(List<UserAction> replay, double fractionA, double fractionB) {
        this.replay = replay;
        for (UserAction event : replay) {
            byUser.computeIfAbsent(event.userId, u -> new ArrayList<>()).add(event);
        }
        byUser.forEach((user, events) -> {
            cutA.put(user, (int) Math.floor(fractionA * events.size()));
            cutB.put(user, (int) Math.floor(fractionB * events.size()));
        });
    }

    public static TemporalSplit standard(List<UserAction> replay) {
        return new TemporalSplit(replay, 0.6, 0.8);
    }

    /** Every user's first {@code a} events, in replay order. */
    public List<UserAction> beforeUpdate() {
        return prefix(cutA);
    }

    /** Every user's first {@code b} events, in replay order. */
    public List<UserAction> afterUpdate() {
        return prefix(cutB);
    }

    private List<UserAction> prefix(Map<String, Integer> cut) {
        Map<String, Integer> taken = new HashMap<>();
        List<UserAction> prefix = new ArrayList<>();
        for (UserAction event : replay) {
            int seen = taken.merge(event.userId, 1, Integer::sum);
            if (seen <= cut.get(event.userId)) {
                prefix.add(event);
            }
        }
        return prefix;
    }

    /** User → the distinct items of their target window that count as relevant (non-empty only). */
    public Map<String, Set<String>> relevantTargets() {
        Map<String, Set<String>> relevant = new TreeMap<>();
        byUser.forEach((user, events) -> {
            Set<String> items = new LinkedHashSet<>();
            for (UserAction event : events.subList(cutB.get(user), events.size())) {
                if (isRelevant(event)) {
                    items.add(event.itemId);
                }
            }
            if (!items.isEmpty()) {
                relevant.put(user, items);
            }
        });
        return relevant;
    }

    /** The target window's events of every user, in replay order. */
    public List<UserAction> targetEvents() {
        Map<String, Integer> taken = new HashMap<>();
        List<UserAction> targets = new ArrayList<>();
        for (UserAction event : replay) {
            int seen = taken.merge(event.userId, 1, Integer::sum);
            if (seen > cutB.get(event.userId)) {
                targets.add(event);
            }
        }
        return targets;
    }

    /** Positive evidence: a rating of at least 3.5 stars, or any positive non-rating action. */
    public static boolean isRelevant(UserAction event) {
        if (event.action == Action.RATE) {
            return event.value >= RELEVANT_RATING;
        }
        return event.action != Action.DISLIKE && event.action != Action.FORGET_USER
                && event.action != Action.COMMENT;
    }
}
