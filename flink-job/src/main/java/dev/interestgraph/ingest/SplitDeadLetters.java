package dev.interestgraph.ingest;

import java.util.EnumMap;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Routes parsed records on and dead letters to {@link #DEAD_LETTERS}, counting both: metrics
 * {@code eventsIn} and {@code deadLetters.<REASON>} in the dashboard.
 */
public final class SplitDeadLetters<T> extends ProcessFunction<InputRecord, T>
        implements ResultTypeQueryable<T> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));

    private final boolean userEvents;
    private final Class<T> outputType;
    private transient Counter recordsIn;
    private transient Map<DeadLetterReason, Counter> deadLetters;

    private SplitDeadLetters(boolean userEvents, Class<T> outputType) {
        this.userEvents = userEvents;
        this.outputType = outputType;
    }

    @Override
    public TypeInformation<T> getProducedType() {
        return TypeInformation.of(outputType);
    }

    public static SplitDeadLetters<dev.interestgraph.model.UserAction> userEvents() {
        return new SplitDeadLetters<>(true, dev.interestgraph.model.UserAction.class);
    }

    public static SplitDeadLetters<dev.interestgraph.model.ItemVersion> items() {
        return new SplitDeadLetters<>(false, dev.interestgraph.model.ItemVersion.class);
    }

    @Override
    public void open(Configuration parameters) {
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        recordsIn = metrics.counter(userEvents ? "eventsIn" : "itemsIn");
        deadLetters = new EnumMap<>(DeadLetterReason.class);
        MetricGroup byReason = metrics.addGroup("deadLetters");
        for (DeadLetterReason reason : DeadLetterReason.values()) {
            deadLetters.put(reason, byReason.counter(reason.name()));
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public void processElement(InputRecord record, Context ctx, Collector<T> out) {
        if (record.deadLetter != null) {
            deadLetters.get(record.deadLetter.reason).inc();
            ctx.output(DEAD_LETTERS, record.deadLetter);
            return;
        }
        recordsIn.inc();
        out.collect((T) (userEvents ? record.userAction : record.item));
    }
}
