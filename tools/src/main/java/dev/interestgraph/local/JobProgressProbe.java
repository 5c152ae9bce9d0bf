package dev.interestgraph.local;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the running job has done so far, as Flink's REST API (the dashboard's metrics tab) reports
 * it, before anything is committed: events the sources read and parsed ({@code eventsIn}),
 * actions that reached the user-graph ({@code numRecordsIn} of the {@code user-graph} operator)
 * and deltas it emitted ({@code deltasOut}, into a Kafka transaction that commits at the next
 * checkpoint). Committed offsets and read_committed deltas only move at checkpoints; these move
 * as records flow.
 *
 * <p>The values are as fresh as the web monitor's metric fetcher
 * ({@code metrics.fetcher.update-interval}, 10 s by default; the demo sets 1 s).
 */
public final class JobProgressProbe {
    static final String EVENTS_IN = ".eventsIn";
    static final String GRAPH_IN = "user-graph.numRecordsIn";
    static final String DELTAS_OUT = ".deltasOut";

    /** Counts summed over subtasks; -1 where the job has not reported the metric yet. */
    public record Progress(long consumed, long processed, long deltasEmitted) {
        static final Progress NONE = new Progress(-1, -1, -1);
    }

    private final String base;
    private final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(2)).build();
    /** Vertex id → the metric ids of interest there (the list is fixed once the job runs). */
    private final Map<String, List<String>> metricIds = new LinkedHashMap<>();
    private volatile Progress last = Progress.NONE;

    public JobProgressProbe(String base) {
        this.base = base;
    }

    /** Asks the REST API now; on failure (not up yet, shutting down) the last answer. */
    public Progress read(String jobId) {
        try {
            if (metricIds.isEmpty()) {
                discover(jobId);
            }
            long consumed = -1;
            long processed = -1;
            long emitted = -1;
            for (Map.Entry<String, List<String>> vertex : metricIds.entrySet()) {
                if (vertex.getValue().isEmpty()) {
                    continue;
                }
                JsonNode values = get("/jobs/" + jobId + "/vertices/" + vertex.getKey()
                        + "/subtasks/metrics?agg=sum&get=" + URLEncoder.encode(
                                String.join(",", vertex.getValue()), StandardCharsets.UTF_8));
                if (values == null) {
                    return last;
                }
                for (JsonNode value : values) {
                    String id = value.path("id").asText();
                    long sum = (long) value.path("sum").asDouble();
                    if (id.endsWith(EVENTS_IN)) {
                        consumed = Math.max(0, consumed) + sum;
                    } else if (id.equals(GRAPH_IN)) {
                        processed = Math.max(0, processed) + sum;
                    } else if (id.endsWith(DELTAS_OUT)) {
                        emitted = Math.max(0, emitted) + sum;
                    }
                }
            }
            // a metric that has not been fetched yet keeps its last value
            last = new Progress(consumed < 0 ? last.consumed() : consumed,
                    processed < 0 ? last.processed() : processed,
                    emitted < 0 ? last.deltasEmitted() : emitted);
            return last;
        } catch (RuntimeException e) {
            return last;
        }
    }

    /** The last answer, without asking. */
    public Progress last() {
        return last;
    }

    private void discover(String jobId) {
        JsonNode job = get("/jobs/" + jobId);
        if (job == null || !job.has("vertices")) {
            return;
        }
        Map<String, List<String>> found = new LinkedHashMap<>();
        List<String> all = new ArrayList<>();
        for (JsonNode vertex : job.get("vertices")) {
            String id = vertex.path("id").asText();
            JsonNode metrics = get("/jobs/" + jobId + "/vertices/" + id + "/subtasks/metrics");
            if (metrics == null) {
                return;
            }
            List<String> ids = new ArrayList<>();
            for (JsonNode metric : metrics) {
                String name = metric.path("id").asText();
                if (name.endsWith(EVENTS_IN) || name.equals(GRAPH_IN)
                        || name.endsWith(DELTAS_OUT)) {
                    ids.add(name);
                }
            }
            all.addAll(ids);
            found.put(id, ids);
        }
        // the metrics are listed once the tasks run and the fetcher has seen them: keep asking
        // until every one of the three is there
        if (all.stream().anyMatch(m -> m.endsWith(EVENTS_IN)) && all.contains(GRAPH_IN)
                && all.stream().anyMatch(m -> m.endsWith(DELTAS_OUT))) {
            metricIds.putAll(found);
        }
    }

    private JsonNode get(String path) {
        return DashboardProbe.getJson(http, base + path);
    }
}
