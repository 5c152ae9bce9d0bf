package dev.interestgraph.data;

import dev.interestgraph.model.Action;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * A generated dataset with planted interests and planted interest drift, so that a test (or the
 * demo) can check that the graph follows it. Deterministic for a given seed.
 *
 * <p>Items belong to topics; an item's title is made of its topic's words and its tag is the
 * topic's name. Each user starts with a primary topic (most of their positive actions) and, at the
 * drift time, moves to another topic. A share of actions is noise across all topics.
 */
public final class SyntheticDataset {

    /** Topic name → title vocabulary. */
    private static final String[][] TOPICS = {
        {"scifi", "galactic", "starship", "alien", "robot", "orbit", "nebula"},
        {"cooking", "recipe", "kitchen", "pasta", "spice", "oven", "baking"},
        {"football", "goal", "league", "striker", "stadium", "match", "coach"},
        {"jazz", "saxophone", "swing", "trumpet", "improvisation", "quartet", "blues"},
        {"gardening", "seeds", "compost", "roses", "greenhouse", "soil", "pruning"},
        {"finance", "stocks", "bonds", "dividend", "portfolio", "market", "savings"},
        {"travel", "beach", "passport", "island", "hostel", "backpack", "journey"},
        {"history", "empire", "medieval", "castle", "dynasty", "revolution", "archive"},
    };

    /** A copy of the topic vocabularies: the topic's name first, then its title words. */
    public static String[][] topicWords() {
        String[][] copy = new String[TOPICS.length][];
        for (int t = 0; t < TOPICS.length; t++) {
            copy[t] = TOPICS[t].clone();
        }
        return copy;
    }

    /** Builds a dataset. */
    public static final class Builder {
        private int users = 50;
        private int itemsPerTopic = 20;
        private int eventsPerUser = 40;
        private long startMs = 1_700_000_000_000L;
        private long spanMs = 20L * 24 * 3600 * 1000;
        private double noise = 0.1;
        private long seed = 42;

        public Builder users(int users) {
            this.users = users;
            return this;
        }

        public Builder itemsPerTopic(int itemsPerTopic) {
            this.itemsPerTopic = itemsPerTopic;
            return this;
        }

        public Builder eventsPerUser(int eventsPerUser) {
            this.eventsPerUser = eventsPerUser;
            return this;
        }

        public Builder startMs(long startMs) {
            this.startMs = startMs;
            return this;
        }

        public Builder spanMs(long spanMs) {
            this.spanMs = spanMs;
            return this;
        }

        public Builder noise(double noise) {
            this.noise = noise;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public SyntheticDataset build() {
            if (users < 1 || itemsPerTopic < 1 || eventsPerUser < 2 || spanMs < eventsPerUser) {
                throw new IllegalArgumentException("users, itemsPerTopic >= 1, eventsPerUser >= 2 "
                        + "and spanMs >= eventsPerUser are needed");
            }
            return new SyntheticDataset(this);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    private final List<ItemVersion> items = new ArrayList<>();
    private final List<UserAction> events = new ArrayList<>();
    private final String[] topicBefore;
    private final String[] topicAfter;
    private final long driftMs;
    private final int users;

    private SyntheticDataset(Builder b) {
        this.users = b.users;
        Random random = new Random(b.seed);
        for (int t = 0; t < TOPICS.length; t++) {
            for (int i = 0; i < b.itemsPerTopic; i++) {
                List<String> words = new ArrayList<>(List.of(TOPICS[t]).subList(1, TOPICS[t].length));
                Collections.shuffle(words, random);
                String title = capitalize(words.get(0)) + " " + words.get(1) + " " + words.get(2)
                        + " " + (i + 1);
                items.add(new ItemVersion(itemId(t, i), title, "", new String[] {TOPICS[t][0]},
                        b.startMs - 1000));
            }
        }
        topicBefore = new String[b.users];
        topicAfter = new String[b.users];
        driftMs = b.startMs + b.spanMs / 2;
        long step = b.spanMs / b.eventsPerUser;
        for (int u = 0; u < b.users; u++) {
            int before = random.nextInt(TOPICS.length);
            int after = (before + 1 + random.nextInt(TOPICS.length - 1)) % TOPICS.length;
            topicBefore[u] = TOPICS[before][0];
            topicAfter[u] = TOPICS[after][0];
            for (int e = 0; e < b.eventsPerUser; e++) {
                long time = b.startMs + e * step + random.nextInt((int) Math.min(step, 1000));
                int topic = time < driftMs ? before : after;
                if (random.nextDouble() < b.noise) {
                    topic = random.nextInt(TOPICS.length);
                }
                String item = itemId(topic, random.nextInt(b.itemsPerTopic));
                Action action = pickAction(random);
                double stars = action == Action.RATE ? 3.5 + random.nextInt(4) * 0.5 : 0.0;
                events.add(new UserAction("e-" + u + "-" + e, userId(u), item, action, time, stars,
                        null));
            }
        }
        // stable sort: equal times keep generation order, so every run replays the same order
        events.sort((x, y) -> Long.compare(x.eventTimeMs, y.eventTimeMs));
    }

    private static Action pickAction(Random random) {
        double r = random.nextDouble();
        if (r < 0.35) {
            return Action.VIEW;
        }
        if (r < 0.6) {
            return Action.CLICK;
        }
        if (r < 0.75) {
            return Action.CART;
        }
        if (r < 0.9) {
            return Action.PURCHASE;
        }
        return Action.RATE;
    }

    private static String capitalize(String word) {
        return Character.toUpperCase(word.charAt(0)) + word.substring(1);
    }

    public static String userId(int user) {
        return "user-" + user;
    }

    static String itemId(int topic, int item) {
        return TOPICS[topic][0] + "-" + item;
    }

    /** The catalogue: one version per item, valid from just before the first event. */
    public List<ItemVersion> items() {
        return items;
    }

    /** All users' events, sorted by event time. */
    public List<UserAction> events() {
        return events;
    }

    /** The topic (= tag, = label term) the user mostly acts on before the drift. */
    public String topicBefore(String userId) {
        return topicBefore[Integer.parseInt(userId.substring("user-".length()))];
    }

    /** The topic the user drifts to. */
    public String topicAfter(String userId) {
        return topicAfter[Integer.parseInt(userId.substring("user-".length()))];
    }

    /** How many users the dataset has. */
    public int users() {
        return users;
    }

    public long driftMs() {
        return driftMs;
    }

    /** The topic an item belongs to. */
    public static String topicOf(String itemId) {
        return itemId.substring(0, itemId.lastIndexOf('-'));
    }
}
