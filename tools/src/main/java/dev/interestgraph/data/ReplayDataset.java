package dev.interestgraph.data;

import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.util.List;
import java.util.Optional;

/**
 * What the demo replays: a catalogue and the user events, in the order they are to be produced.
 * Items come first and are valid (by {@code updated_ms}) before the first event, so that the
 * job's temporal join finds them.
 */
public interface ReplayDataset {

    /** A one-line description for the terminal. */
    String describe();

    /** Catalogue items, produced before any event. */
    List<ItemVersion> items();

    /** Events in replay order: event time, then a stable tie-break. */
    List<UserAction> events();

    /** What was planted for this user (generated data only), for the summary. */
    default Optional<String> plantedFor(String userId) {
        return Optional.empty();
    }

    /** The generated dataset: planted interests and a planted drift half-way. */
    static ReplayDataset of(SyntheticDataset data) {
        return new ReplayDataset() {
            @Override
            public String describe() {
                return String.format("generated: %,d users, planted interests with a drift "
                        + "half-way", data.users());
            }

            @Override
            public List<ItemVersion> items() {
                return data.items();
            }

            @Override
            public List<UserAction> events() {
                return data.events();
            }

            @Override
            public Optional<String> plantedFor(String userId) {
                if (!userId.startsWith("user-")) {
                    return Optional.empty();
                }
                return Optional.of("planted: " + data.topicBefore(userId) + ", drifted to "
                        + data.topicAfter(userId));
            }
        };
    }
}
