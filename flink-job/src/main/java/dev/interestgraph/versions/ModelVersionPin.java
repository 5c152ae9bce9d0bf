package dev.interestgraph.versions;

import dev.interestgraph.vector.CosineCalibration;
import dev.interestgraph.internal.TimeBuckets;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.TreeSet;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pins each record to the encoder version valid at its event time, so that the embedding request
 * made for it asks for that version and a replay of the same topics asks for the same versions.
 *
 * <p>The announcements arrive as a broadcast stream whose timestamps are their
 * {@code applies_from_ms}. A record waits in keyed state until the operator's watermark (the
 * minimum of the records' and the announcements' watermarks) passes its time: by then every
 * announcement that applies at or before it has arrived, whatever the arrival order of the two
 * inputs. The version of a record at time t is the newest announcement with applies-from at or
 * before t, else the base version. An announcement that arrives after the watermark passed its
 * applies-from (a tuner that did not announce ahead, or an idle announcements stream) is counted
 * in {@code lateModelVersions}: records released before it keep the old version, so that live run
 * and a replay can differ around that switch; versions are never mixed either way.
 */
public abstract class ModelVersionPin<T> extends KeyedBroadcastProcessFunction<String, T,
        ModelVersionAnnouncement, T> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ModelVersionPin.class);

    /**
     * Switches kept; the newest one pruned stays as the floor (key {@link Long#MIN_VALUE}), so a
     * record older than every kept switch still gets the version valid before them, never the base.
     */
    static final int KEPT_VERSIONS = 64;

    /** applies_from_ms → version; the same in every parallel instance. */
    public static final MapStateDescriptor<Long, String> VERSIONS =
            new MapStateDescriptor<>("model-versions", Types.LONG, Types.STRING);

    /**
     * version → the cosine statistics announced with it (issue 19), for the versions in
     * {@link #VERSIONS} announced with them; the same in every parallel instance.
     */
    public static final MapStateDescriptor<String, CosineCalibration> CALIBRATIONS =
            new MapStateDescriptor<>("model-version-calibrations", Types.STRING,
                    Types.POJO(CosineCalibration.class));

    private final String baseVersion;
    private final TypeInformation<T> recordType;
    private transient MapState<Long, List<T>> waiting;
    private transient Counter lateAnnouncements;

    protected ModelVersionPin(String baseVersion, TypeInformation<T> recordType) {
        this.baseVersion = baseVersion;
        this.recordType = recordType;
    }

    protected abstract long eventTimeOf(T record);

    /**
     * Pins the record to {@code modelVersion}; {@code calibration} is that version's announced
     * cosine statistics, or null (version 1, or announced without them).
     */
    protected abstract void pin(T record, String modelVersion, CosineCalibration calibration);

    @Override
    public void open(Configuration parameters) {
        waiting = getRuntimeContext().getMapState(new MapStateDescriptor<>("waiting-for-version",
                Types.LONG, Types.LIST(recordType)));
        lateAnnouncements = getRuntimeContext().getMetricGroup().counter("lateModelVersions");
    }

    @Override
    public void processElement(T record, ReadOnlyContext ctx, Collector<T> out)
            throws Exception {
        long time = eventTimeOf(record);
        long watermark = ctx.timerService().currentWatermark();
        if (time <= watermark) {
            // late: records of its key up to the watermark have been released with the version
            // valid at the watermark at most; pinning it to an older one would take its user's
            // graph back a version (and re-base it twice)
            String version = versionAt(ctx.getBroadcastState(VERSIONS).immutableEntries(),
                    watermark);
            pin(record, version, ctx.getBroadcastState(CALIBRATIONS).get(version));
            out.collect(record);
            return;
        }
        TimeBuckets.add(waiting, time, record);
        ctx.timerService().registerEventTimeTimer(time);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<T> out) throws Exception {
        String version = versionAt(ctx.getBroadcastState(VERSIONS).immutableEntries(), timestamp);
        CosineCalibration calibration = ctx.getBroadcastState(CALIBRATIONS).get(version);
        for (T record : TimeBuckets.take(waiting, timestamp)) {
            pin(record, version, calibration);
            out.collect(record);
        }
    }

    @Override
    public void processBroadcastElement(ModelVersionAnnouncement announcement, Context ctx,
            Collector<T> out) throws Exception {
        BroadcastState<Long, String> versions = ctx.getBroadcastState(VERSIONS);
        if (announcement.appliesFromMs <= ctx.currentWatermark()) {
            lateAnnouncements.inc();
            LOG.warn("{} arrived after the watermark ({}) passed its applies_from_ms: records "
                    + "already released keep the version before it. Announce versions ahead of "
                    + "the job's event time (the tuner's --applies-from-lead-ms).", announcement,
                    ctx.currentWatermark());
        }
        versions.put(announcement.appliesFromMs, announcement.version);
        BroadcastState<String, CosineCalibration> calibrations = ctx.getBroadcastState(CALIBRATIONS);
        if (announcement.cosineCalibration != null) {
            calibrations.put(announcement.version, announcement.cosineCalibration);
        }
        // deterministic in every instance: drop the oldest switches beyond the kept number,
        // the newest dropped one becoming the floor
        TreeSet<Long> times = new TreeSet<>();
        for (Map.Entry<Long, String> entry : versions.entries()) {
            if (entry.getKey() != Long.MIN_VALUE) {
                times.add(entry.getKey());
            }
        }
        while (times.size() > KEPT_VERSIONS) {
            long oldest = times.pollFirst();
            versions.put(Long.MIN_VALUE, versions.get(oldest));
            versions.remove(oldest);
        }
        // the statistics of versions no longer pinned to anything go with them
        Set<String> kept = new HashSet<>();
        for (Map.Entry<Long, String> entry : versions.entries()) {
            kept.add(entry.getValue());
        }
        List<String> dropped = new ArrayList<>();
        for (Map.Entry<String, CosineCalibration> entry : calibrations.entries()) {
            if (!kept.contains(entry.getKey())) {
                dropped.add(entry.getKey());
            }
        }
        for (String version : dropped) {
            calibrations.remove(version);
        }
    }

    /** The newest version applying at or before {@code timeMs}, else the base version. */
    String versionAt(Iterable<Map.Entry<Long, String>> versions, long timeMs) {
        Long newest = null;
        String version = baseVersion;
        for (Map.Entry<Long, String> entry : versions) {
            if (entry.getKey() <= timeMs && (newest == null || entry.getKey() > newest)) {
                newest = entry.getKey();
                version = entry.getValue();
            }
        }
        return version;
    }

    /** User events, keyed by user: their own text is embedded with the pinned version. */
    public static ModelVersionPin<UserAction> forActions(String baseVersion) {
        return new ModelVersionPin<>(baseVersion, Types.POJO(UserAction.class)) {
            private static final long serialVersionUID = 1L;

            @Override
            protected long eventTimeOf(UserAction action) {
                return action.eventTimeMs;
            }

            @Override
            protected void pin(UserAction action, String modelVersion,
                    CosineCalibration calibration) {
                action.pinnedModelVersion = modelVersion;
                // the user-graph maps its thresholds by it; items need only the version
                action.pinnedCosineCalibration = calibration;
            }
        };
    }

    /** Item versions, keyed by item: embedded with the version valid at their update time. */
    public static ModelVersionPin<ItemVersion> forItems(String baseVersion) {
        return new ModelVersionPin<>(baseVersion, Types.POJO(ItemVersion.class)) {
            private static final long serialVersionUID = 1L;

            @Override
            protected long eventTimeOf(ItemVersion item) {
                return item.updatedMs;
            }

            @Override
            protected void pin(ItemVersion item, String modelVersion,
                    CosineCalibration calibration) {
                item.pinnedModelVersion = modelVersion;
            }
        };
    }
}
