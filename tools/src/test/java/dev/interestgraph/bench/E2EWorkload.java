package dev.interestgraph.bench;

import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.proto.v1.Action;
import dev.interestgraph.proto.v1.ItemEvent;
import dev.interestgraph.proto.v1.UserEvent;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The end-to-end benchmarks' input, generated compactly and fast: a small item catalogue (8
 * topics × {@code itemsPerTopic} items with topic words in their titles, the topic as tag) and a
 * stream of protobuf {@link UserEvent}s, event {@code i} at event time
 * {@code startMs + i·1000/eventsPerSecond}, for a user drawn uniformly from {@code users}. Each
 * user acts mostly on a primary topic, drifts to another topic half-way through the stream, and
 * 10 % of actions are noise; the action mix is {@link BenchData}'s (VIEW 35 %, CLICK 25 %,
 * CART 15 %, PURCHASE 15 %, RATE 10 % with 3.5–5 stars; 3 % DISLIKE, 2 % SHARE, 2 % COMMENT).
 * Event {@code i} depends only on the seed and {@code i}, so every run replays the same events,
 * and the event-time position of a delta says how many events the job has consumed.
 */
final class E2EWorkload {
    /** The generated data set's vocabularies: the same topics as the demo's. */
    static final String[][] TOPICS = SyntheticDataset.topicWords();
    static final long START_MS = 1_700_000_000_000L;

    final int users;
    final int itemsPerTopic;
    final long events;
    final int eventsPerSecond;
    final long seed;

    E2EWorkload(int users, int itemsPerTopic, long events, int eventsPerSecond, long seed) {
        this.users = users;
        this.itemsPerTopic = itemsPerTopic;
        this.events = events;
        this.eventsPerSecond = eventsPerSecond;
        this.seed = seed;
    }

    int items() {
        return TOPICS.length * itemsPerTopic;
    }

    long eventTimeMs(long i) {
        return START_MS + i * 1000 / eventsPerSecond;
    }

    /** How many events have an event time at or before {@code timeMs}. */
    long eventsUpTo(long timeMs) {
        if (timeMs < START_MS) {
            return 0;
        }
        return Math.min(events, ((timeMs - START_MS + 1) * eventsPerSecond + 999) / 1000);
    }

    static String itemId(int topic, int item) {
        return TOPICS[topic][0] + "-" + item;
    }

    static String userId(int user) {
        return "user-" + user;
    }

    /** The catalogue, valid from a day before the first event. */
    ItemEvent item(int topic, int i) {
        SplittableRandom random = new SplittableRandom(seed * 1_000_003L + topic * 10_007L + i);
        String[] words = TOPICS[topic];
        int a = 1 + random.nextInt(words.length - 1);
        int b = 1 + (a + random.nextInt(words.length - 2)) % (words.length - 1);
        return ItemEvent.newBuilder()
                .setItemId(itemId(topic, i))
                .setTitle(Character.toUpperCase(words[a].charAt(0)) + words[a].substring(1) + " "
                        + words[b] + " " + (i + 1))
                .setDescription("A " + words[0] + " item about " + words[a] + " and " + words[b])
                .addTags(words[0])
                .setUpdatedMs(START_MS - 86_400_000L)
                .build();
    }

    int primaryTopic(int user) {
        return (int) Math.floorMod(user * 31L + seed, TOPICS.length);
    }

    int driftTopic(int user) {
        return (primaryTopic(user) + 1 + Math.floorMod(user * 7L + seed, TOPICS.length - 1))
                % TOPICS.length;
    }

    /** Event {@code i}, with the given event time (the generated one, or a wall-clock time). */
    UserEvent event(long i, long eventTimeMs, long drift) {
        SplittableRandom random = new SplittableRandom(seed ^ (i * 0x9E3779B97F4A7C15L));
        int user = random.nextInt(users);
        int topic = i < drift ? primaryTopic(user) : driftTopic(user);
        if (random.nextDouble() < 0.1) {
            topic = random.nextInt(TOPICS.length);
        }
        int item = random.nextInt(itemsPerTopic);
        double r = random.nextDouble();
        Action action;
        double value = 0;
        if (r < 0.35) {
            action = Action.VIEW;
        } else if (r < 0.6) {
            action = Action.CLICK;
        } else if (r < 0.75) {
            action = Action.CART;
        } else if (r < 0.9) {
            action = Action.PURCHASE;
        } else {
            action = Action.RATE;
            value = 3.5 + random.nextInt(4) * 0.5;
        }
        double mix = random.nextDouble();
        if (mix < 0.03) {
            action = Action.DISLIKE;
            value = 0;
        } else if (mix < 0.05) {
            action = Action.SHARE;
            value = 0;
        } else if (mix < 0.07) {
            action = Action.COMMENT;
            value = 0;
        }
        return UserEvent.newBuilder()
                .setEventId("e" + i)
                .setUserId(userId(user))
                .setItemId(itemId(topic, item))
                .setAction(action)
                .setEventTimeMs(eventTimeMs)
                .setValue(value)
                .build();
    }

    UserEvent event(long i) {
        return event(i, eventTimeMs(i), events / 2);
    }

    /** A producer for bulk loading: large batches, leader acks only. */
    static KafkaProducer<byte[], byte[]> bulkProducer(String bootstrap) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "1");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 128L * 1024 * 1024);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** A producer for paced sends: no linger, so that latency starts at the send. */
    static KafkaProducer<byte[], byte[]> pacedProducer(String bootstrap) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "1");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Writes the catalogue to the topic. */
    void produceItems(KafkaProducer<byte[], byte[]> producer, String topic) {
        for (int t = 0; t < TOPICS.length; t++) {
            for (int i = 0; i < itemsPerTopic; i++) {
                ItemEvent item = item(t, i);
                producer.send(new ProducerRecord<>(topic, bytes(item.getItemId()),
                        item.toByteArray()));
            }
        }
        producer.flush();
    }

    /** Writes events [from, to) to the topic, keyed by user. */
    void produceEvents(KafkaProducer<byte[], byte[]> producer, String topic, long from, long to) {
        Map<String, byte[]> keys = new HashMap<>();
        for (long i = from; i < to; i++) {
            UserEvent event = event(i);
            byte[] key = keys.computeIfAbsent(event.getUserId(), E2EWorkload::bytes);
            producer.send(new ProducerRecord<>(topic, key, event.toByteArray()));
        }
        producer.flush();
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
