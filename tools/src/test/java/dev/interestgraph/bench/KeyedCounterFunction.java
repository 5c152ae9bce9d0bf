package dev.interestgraph.bench;

import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The Flink floor (docs/benchmarks.md): a bare keyed counter, one ValueState&lt;Long&gt;
 * read-modify-write per event, no timers and no output.
 */
public class KeyedCounterFunction<T> extends KeyedProcessFunction<String, T, Long> {
    private static final long serialVersionUID = 1L;

    private transient ValueState<Long> count;

    @Override
    public void open(Configuration parameters) {
        count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
    }

    @Override
    public void processElement(T element, Context ctx, Collector<Long> out)
            throws Exception {
        Long current = count.value();
        count.update(current == null ? 1L : current + 1);
    }
}
