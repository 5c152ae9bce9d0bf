package dev.interestgraph.local;

import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.delta.DeltaRecord;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.streaming.api.functions.sink.SinkFunction;

/**
 * A second sink on the user-graph operator's output that materialises the deltas as the job
 * emitted them, before Kafka. The demo compares it with what a consumer of the delta topic
 * materialised: equal graphs mean every committed delta arrived and nothing else did.
 *
 * <p>Works only where the job runs in this JVM (the demo's local cluster): the graphs live in a
 * static registry keyed by the run's id.
 */
final class DeltaTap implements SinkFunction<DeltaRecord> {
    private static final long serialVersionUID = 1L;
    private static final Map<String, DeltaMaterializer> RUNS = new ConcurrentHashMap<>();

    private final String runId;

    DeltaTap(String runId) {
        this.runId = runId;
    }

    /** The materializer of a run; callers synchronize on it while reading. */
    static DeltaMaterializer graphs(String runId) {
        return RUNS.computeIfAbsent(runId, id -> new DeltaMaterializer());
    }

    static void forget(String runId) {
        RUNS.remove(runId);
    }

    @Override
    public void invoke(DeltaRecord record, Context context) {
        DeltaMaterializer graphs = graphs(runId);
        synchronized (graphs) { // one per parallel sink instance, one materializer
            graphs.apply(record.delta());
        }
    }
}
