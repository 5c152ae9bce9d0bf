package dev.interestgraph.internal;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.state.MapState;

/**
 * Records waiting in keyed state for the watermark, bucketed by the time of their timer: the
 * buffer of the temporal join (by event time) and of the user-graph flushes (by flush tick).
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

    /**
     * Removes and returns one bucket (empty when there is none): a point read and a point delete,
     * never a scan, so that RocksDB does not wade through the deletes of earlier buckets. Each
     * bucket has its own timer at its time, so the timer of bucket t takes bucket t.
     */
    public static <T> List<T> take(MapState<Long, List<T>> buckets, long timeMs)
            throws Exception {
        List<T> bucket = buckets.get(timeMs);
        if (bucket == null) {
            return List.of();
        }
        buckets.remove(timeMs); // the heap backend drops the map when its last key goes
        return bucket;
    }
}
