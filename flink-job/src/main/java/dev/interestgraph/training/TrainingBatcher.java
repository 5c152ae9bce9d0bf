package dev.interestgraph.training;

import dev.interestgraph.internal.TimeBuckets;
import java.time.Duration;
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
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cuts training examples into {@link TrainingBatch}es that depend on event time only, so that a
 * replay (after a failure, or a second run over the same topics) sends the same batches with the
 * same ids and the tuner, idempotent by id, trains each once.
 *
 * <p>Examples are buffered in keyed state by event-time window ({@code fine-tune.batch-window},
 * by {@link TrainingExample#eventTimeMs}). When the watermark passes a window's end, that window's
 * examples are sorted by (event time, event id), so arrival order inside a window does not matter,
 * and appended to the remainder carried over from earlier windows; every full batch of {@code
 * fine-tune.batch-size} is emitted and the rest waits, in state, for the next window. At the end of
 * input (watermark {@code Long.MAX_VALUE}) a remainder of at least two examples is sent (a
 * contrastive step needs negatives) and a single one is dropped ({@code trainingExamplesDropped}).
 *
 * <p>Runs on one key (the tuner is a single writer): key the stream by a constant. An example
 * whose window has already been cut (it arrived behind the watermark) would change batches that
 * were sent already, so it is dropped and counted ({@code trainingExamplesLate}).
 */
public class TrainingBatcher extends KeyedProcessFunction<Integer, TrainingExample, TrainingBatch> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(TrainingBatcher.class);

    /** Orders a window's examples independently of their arrival. */
    static final Comparator<TrainingExample> EVENT_ORDER = Comparator
            .comparingLong((TrainingExample e) -> e.eventTimeMs)
            .thenComparing(e -> e.eventId, Comparator.nullsFirst(Comparator.naturalOrder()));

    private final int batchSize;
    private final long windowMs;

    /** Window end (exclusive) -> the examples of that window, in arrival order. */
    private transient MapState<Long, List<TrainingExample>> windows;
    /** Examples of cut windows that did not fill a batch, in event order. */
    private transient ValueState<List<TrainingExample>> remainder;
    private transient Counter late;
    private transient Counter dropped;

    public TrainingBatcher(int batchSize, Duration window) {
        if (batchSize < 2) {
            throw new IllegalArgumentException("fine-tune.batch-size must be at least 2, got " + batchSize);
        }
        if (window.toMillis() < 1) {
            throw new IllegalArgumentException("fine-tune.batch-window must be at least 1 ms, got " + window);
        }
        this.batchSize = batchSize;
        this.windowMs = window.toMillis();
    }

    @Override
    public void open(Configuration parameters) {
        TypeInformation<List<TrainingExample>> examples = Types.LIST(Types.POJO(TrainingExample.class));
        windows = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("training-windows", Types.LONG, examples));
        remainder = getRuntimeContext().getState(new ValueStateDescriptor<>("training-remainder", examples));
        late = getRuntimeContext().getMetricGroup().counter("trainingExamplesLate");
        dropped = getRuntimeContext().getMetricGroup().counter("trainingExamplesDropped");
    }

    @Override
    public void processElement(TrainingExample example, Context ctx, Collector<TrainingBatch> out)
            throws Exception {
        long end = windowEnd(example.eventTimeMs);
        if (end - 1 <= ctx.timerService().currentWatermark()) {
            late.inc();
            return;
        }
        TimeBuckets.add(windows, end, example);
        // fires once the watermark reaches end - 1; timers are unique per time
        ctx.timerService().registerEventTimeTimer(end - 1);
        ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE); // end of input
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<TrainingBatch> out) throws Exception {
        List<TrainingExample> pending = remainder.value() == null ? new ArrayList<>() : remainder.value();
        if (timestamp == Long.MAX_VALUE) {
            // every window's timer fired before this one; whatever is still buffered goes too
            for (List<TrainingExample> window : windows.values()) {
                pending.addAll(sorted(window));
            }
            windows.clear();
            emitFull(pending, out);
            if (pending.size() >= 2) {
                out.collect(TrainingBatch.of(pending));
            } else if (pending.size() == 1) {
                dropped.inc();
                LOG.info("end of input: 1 training example left over, not enough for a contrastive step");
            }
            remainder.clear();
            return;
        }
        List<TrainingExample> window = TimeBuckets.take(windows, timestamp + 1);
        if (window.isEmpty()) {
            return;
        }
        pending.addAll(sorted(window));
        emitFull(pending, out);
        remainder.update(pending);
    }

    /** Emits full batches from the head of {@code pending} and leaves the rest in it. */
    private void emitFull(List<TrainingExample> pending, Collector<TrainingBatch> out) {
        int full = pending.size() / batchSize * batchSize;
        for (int from = 0; from < full; from += batchSize) {
            out.collect(TrainingBatch.of(pending.subList(from, from + batchSize)));
        }
        pending.subList(0, full).clear();
    }

    private static List<TrainingExample> sorted(List<TrainingExample> window) {
        List<TrainingExample> copy = new ArrayList<>(window);
        copy.sort(EVENT_ORDER);
        return copy;
    }

    /** The exclusive end of the window holding {@code eventTimeMs}, saturated at Long.MAX_VALUE. */
    long windowEnd(long eventTimeMs) {
        long start = Math.floorDiv(eventTimeMs, windowMs) * windowMs;
        return start > Long.MAX_VALUE - windowMs ? Long.MAX_VALUE : start + windowMs;
    }
}
