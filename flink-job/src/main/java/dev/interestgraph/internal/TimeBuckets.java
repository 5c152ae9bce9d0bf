package dev.interestgraph.internal;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.MapState;

/**
 * Records waiting in keyed state for the watermark, bucketed by event time: the buffer of the
 * temporal join and of the user-graph flushes.
 */
public final class TimeBuckets {
    private TimeBuckets() {}

    /** Adds a record to its event-time bucket. */
    public static <T> void add(MapState<Long, List<T>> buckets, long timeMs, T record)
            throws Exception {
        List<T> bucket = buckets.get(timeMs);
        if (bucket == null) {
            bucket = new ArrayList<>(1);
        }
        bucket.add(record);
        buckets.put(timeMs, bucket);
    }

    /** Removes and returns the records of every bucket at or before {@code upToMs}. */
    public static <T> List<T> takeUpTo(MapState<Long, List<T>> buckets, long upToMs)
            throws Exception {
        List<T> due = new ArrayList<>();
        Iterator<Map.Entry<Long, List<T>>> entries = buckets.iterator();
        while (entries.hasNext()) {
            Map.Entry<Long, List<T>> entry = entries.next();
            if (entry.getKey() <= upToMs) {
                due.addAll(entry.getValue());
                entries.remove();
            }
        }
        if (!due.isEmpty() && buckets.isEmpty()) {
            buckets.clear(); // an empty map still counts as a state entry on the heap backend
        }
        return due;
    }

    /** Whether any bucket is at or before {@code timeMs}. */
    public static <T> boolean anyUpTo(MapState<Long, List<T>> buckets, long timeMs)
            throws Exception {
        for (Long bucket : buckets.keys()) {
            if (bucket <= timeMs) {
                return true;
            }
        }
        return false;
    }
}
