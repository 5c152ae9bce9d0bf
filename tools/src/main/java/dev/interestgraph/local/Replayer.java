package dev.interestgraph.local;

import dev.interestgraph.data.EventJson;
import dev.interestgraph.data.ReplayDataset;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Produces a dataset into the input topics: the whole catalogue first (keyed by item id), then
 * the events in their order (keyed by user id), as fast as possible or paced by event time.
 *
 * <p>Paced replay: {@code speed} N plays N seconds of event time per wall second, and a gap in
 * event time longer than {@code maxGap} of wall time is shortened to {@code maxGap}, so a replay
 * of years of data with quiet months still ends in bounded time.
 *
 * <p>While a paced replay runs, the catalogue would be quiet, and a quiet partition holds the
 * temporal join's watermark back until the source marks it idle; but an idle input also ignores
 * the end-of-event-time watermark with which the demo drains the job, so the last flushes would
 * never happen. So every {@link #HEARTBEAT} of wall time the replay re-announces one catalogue
 * item per partition of the catalogue topic, unchanged, valid from the current event time: the
 * catalogue's watermark follows the events and no input needs to go idle.
 *
 * <p>The same holds after the replay, until the demo has drained the job: the job may need far
 * longer than {@code watermark.idleness} to read and checkpoint the last events (a loaded
 * machine, a slow model), and by then the events' partitions are idle. If the catalogue were
 * idle too, the end-of-event-time watermark of the drain would reach no operator (FLINK-40499,
 * open in Flink 1.20) and every user's last flush would stay in the savepoint. So
 * {@link #keepCatalogueActive} goes on re-announcing: the temporal join then takes its
 * watermark from the catalogue alone, and the drain's reaches the user graph through it.
 */
public final class Replayer {
    private final KafkaProducer<byte[], byte[]> producer;
    private final String itemsTopic;
    private final String eventsTopic;
    private final double speed;
    private final long maxGapNanos;
    private final AtomicLong itemsSent = new AtomicLong();
    private final AtomicLong eventsSent = new AtomicLong();
    private final AtomicBoolean done = new AtomicBoolean();
    private final AtomicLong heartbeats = new AtomicLong();
    /** Event time of the last event sent, where the heartbeats after the replay stay. */
    private final AtomicLong lastEventMs = new AtomicLong(Long.MIN_VALUE);
    static final long HEARTBEAT = TimeUnit.SECONDS.toNanos(1);

    public Replayer(KafkaProducer<byte[], byte[]> producer, String itemsTopic, String eventsTopic,
            double speed, Duration maxGap) {
        this.producer = producer;
        this.itemsTopic = itemsTopic;
        this.eventsTopic = eventsTopic;
        this.speed = speed;
        this.maxGapNanos = maxGap.toNanos();
    }

    /** Replays until the end or until {@code stop} is set; flushes before it returns. */
    public void replay(ReplayDataset data, AtomicBoolean stop) {
        try {
            for (ItemVersion item : data.items()) {
                producer.send(new ProducerRecord<>(itemsTopic, bytes(item.itemId),
                        EventJson.toJson(item)));
                itemsSent.incrementAndGet();
            }
            producer.flush(); // the catalogue is in before the first event
            List<UserAction> events = data.events();
            int itemPartitions = speed > 0 && !data.items().isEmpty()
                    ? producer.partitionsFor(itemsTopic).size() : 0;
            long due = System.nanoTime();
            long nextHeartbeat = due + HEARTBEAT;
            for (int i = 0; i < events.size() && !stop.get(); i++) {
                UserAction event = events.get(i);
                if (speed > 0 && i > 0) {
                    due += pause(events.get(i - 1).eventTimeMs, event.eventTimeMs);
                    waitUntil(due, stop);
                }
                if (itemPartitions > 0 && System.nanoTime() >= nextHeartbeat) {
                    heartbeat(data.items(), itemPartitions, event.eventTimeMs - 1000);
                    nextHeartbeat = System.nanoTime() + HEARTBEAT;
                }
                producer.send(new ProducerRecord<>(eventsTopic, bytes(event.userId),
                        EventJson.toJson(event)));
                eventsSent.incrementAndGet();
                lastEventMs.set(event.eventTimeMs);
            }
            producer.flush();
        } finally {
            done.set(true);
        }
    }

    /**
     * After a paced {@link #replay}: re-announces the catalogue every {@link #HEARTBEAT}, valid
     * from just before the last event sent (never later: the catalogue's watermark must not carry
     * event time past the events'), until {@code until} is set; see the class comment. Returns at
     * once for a replay that was not paced or sent no event.
     */
    public void keepCatalogueActive(ReplayDataset data, AtomicBoolean until) {
        if (speed <= 0 || data.items().isEmpty() || lastEventMs.get() == Long.MIN_VALUE) {
            return;
        }
        int partitions = producer.partitionsFor(itemsTopic).size();
        long validFromMs = lastEventMs.get() - 1000;
        while (!until.get()) {
            heartbeat(data.items(), partitions, validFromMs);
            producer.flush();
            long due = System.nanoTime() + HEARTBEAT;
            waitUntil(due, until); // pacing: one heartbeat a second, not a wait for a condition
        }
    }

    /** One unchanged catalogue item per partition, valid from {@code validFromMs}. */
    private void heartbeat(List<ItemVersion> items, int partitions, long validFromMs) {
        for (int p = 0; p < partitions; p++) {
            ItemVersion item = items.get(p % items.size());
            ItemVersion again = new ItemVersion(item.itemId, item.title, item.description,
                    item.tags, Math.max(item.updatedMs, validFromMs));
            producer.send(new ProducerRecord<>(itemsTopic, p, bytes(again.itemId),
                    EventJson.toJson(again)));
        }
        heartbeats.incrementAndGet();
    }

    /** Wall time between two events at this speed, gaps capped. */
    long pause(long previousMs, long nextMs) {
        long nanos = (long) (TimeUnit.MILLISECONDS.toNanos(Math.max(0, nextMs - previousMs))
                / speed);
        return Math.min(nanos, maxGapNanos);
    }

    private static void waitUntil(long due, AtomicBoolean stop) {
        // pacing, not synchronisation: the replay is meant to take this long
        for (long left = due - System.nanoTime(); left > 0 && !stop.get();
                left = due - System.nanoTime()) {
            LockSupport.parkNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
        }
    }

    public long itemsSent() {
        return itemsSent.get();
    }

    public long eventsSent() {
        return eventsSent.get();
    }

    /** Catalogue re-announcements sent (paced replay). */
    public long heartbeats() {
        return heartbeats.get();
    }

    public boolean done() {
        return done.get();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
