package dev.interestgraph.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Asks the Flink dashboard's REST API what it shows ({@code /overview}, {@code /jobs},
 * {@code /jobs/overview}, {@code /jobs/<id>}) and remembers what it answered, so that the demo's
 * summary (and its test) can say that the dashboard was up and listed the job and its operators.
 */
public final class DashboardProbe {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final String base;
    private final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(2)).build();

    private volatile boolean overviewAnswered;
    private volatile boolean jobsAnswered;
    private volatile String flinkVersion = "";
    private volatile String jobName = "";
    private volatile String jobState = "";
    private volatile List<String> vertexNames = List.of();

    public DashboardProbe(String base) {
        this.base = base;
    }

    /** One round of requests; failures (not up yet, shutting down) are just not recorded. */
    public void probe(String jobId) {
        JsonNode overview = get("/overview");
        if (overview != null && overview.has("flink-version")) {
            overviewAnswered = true;
            flinkVersion = overview.get("flink-version").asText();
        }
        JsonNode jobs = get("/jobs");
        if (jobs != null && jobs.has("jobs")) {
            for (JsonNode job : jobs.get("jobs")) {
                if (job.path("id").asText().equals(jobId)) {
                    jobsAnswered = true;
                }
            }
        }
        JsonNode detail = get("/jobs/" + jobId);
        if (detail != null && detail.has("vertices")) {
            jobName = detail.path("name").asText();
            jobState = detail.path("state").asText();
            List<String> names = new ArrayList<>();
            detail.get("vertices").forEach(v -> names.add(v.path("name").asText()));
            vertexNames = List.copyOf(names);
        }
    }

    private JsonNode get(String path) {
        return getJson(http, base + path);
    }

    /**
     * One GET of the Flink REST API as JSON (3 s timeout); null when it fails or answers other
     * than 200: the probes keep asking. Shared with {@link JobProgressProbe}.
     */
    static JsonNode getJson(HttpClient http, String url) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(3)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? MAPPER.readTree(response.body()) : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            return null;
        }
    }

    public String base() {
        return base;
    }

    public boolean overviewAnswered() {
        return overviewAnswered;
    }

    /** Whether {@code /jobs} listed the job. */
    public boolean jobsListedJob() {
        return jobsAnswered;
    }

    public String flinkVersion() {
        return flinkVersion;
    }

    public String jobName() {
        return jobName;
    }

    public String jobState() {
        return jobState;
    }

    /** The job graph's vertices as the dashboard names them (chained operator names). */
    public List<String> vertexNames() {
        return vertexNames;
    }
}
