package dev.interestgraph.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * A real standalone Flink session cluster for tests: a JobManager process
 * ({@code StandaloneSessionClusterEntrypoint}, dashboard + REST API) and a TaskManager process
 * ({@code TaskManagerRunner}), separate JVMs on the jars of {@code deploy/local-cluster} (the
 * lib/ of a Flink distribution, from Maven Central). JVM flags and memory settings come from
 * Flink's {@code BashJavaUtils}, as in {@code bin/taskmanager.sh}. Ports are free ones; the
 * processes are killed by {@link #close()}.
 *
 * <p>{@code deploy/local-cluster/flink-cluster.sh} does the same for {@code make cluster-up}.
 */
final class StandaloneFlinkCluster implements AutoCloseable {

    /** What Flink 1.20's default config.yaml puts in env.java.opts.all for Java 17. */
    private static final List<String> JAVA_17_OPTS = List.of(
            "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
            "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED",
            "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    static final ObjectMapper JSON = new ObjectMapper();

    private final Path flinkHome;
    private final Path dir;
    private final int slots;
    private final int restPort;
    private final int rpcPort;
    private final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final Map<String, String> configOverrides;
    private Process jobManager;
    /** Task manager processes by name ("taskmanager", "taskmanager-2", ...), live or killed. */
    private final Map<String, Process> taskManagers = new java.util.LinkedHashMap<>();
    private final java.util.Set<String> killed = new java.util.HashSet<>();

    private StandaloneFlinkCluster(Path flinkHome, Path dir, int slots,
            Map<String, String> configOverrides) throws IOException {
        this.flinkHome = flinkHome;
        this.dir = dir;
        this.slots = slots;
        this.configOverrides = configOverrides;
        this.restPort = freePort();
        this.rpcPort = freePort();
    }

    /** Starts JM and TM and waits (polling /overview) until the TM's slots are registered. */
    static StandaloneFlinkCluster start(Path flinkHome, Path dir, int slots, Duration timeout)
            throws Exception {
        return start(flinkHome, dir, slots, timeout, Map.of());
    }

    /** As above, with entries of config.yaml replaced or added. */
    static StandaloneFlinkCluster start(Path flinkHome, Path dir, int slots, Duration timeout,
            Map<String, String> configOverrides) throws Exception {
        StandaloneFlinkCluster cluster = new StandaloneFlinkCluster(flinkHome, dir, slots,
                configOverrides);
        try {
            cluster.writeConfig();
            cluster.jobManager = cluster.launch("jobmanager",
                    "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
                    "GET_JM_RESOURCE_PARAMS");
            cluster.startTaskManager(timeout);
            return cluster;
        } catch (Exception | Error e) {
            cluster.close();
            throw e;
        }
    }

    /**
     * Starts one more TaskManager process and waits until its slots are registered (the
     * cluster's registered slots grow by {@code slots}). Returns its name.
     */
    String startTaskManager(Duration timeout) throws Exception {
        // a killed TaskManager stays listed until its heartbeat times out: wait for a new id
        java.util.Set<String> before = registeredTaskManagers();
        String name = taskManagers.isEmpty() ? "taskmanager"
                : "taskmanager-" + (taskManagers.size() + 1);
        taskManagers.put(name, launch(name,
                "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
                "GET_TM_RESOURCE_PARAMS"));
        await(name + " slots registered", timeout, () -> {
            java.util.Set<String> now = registeredTaskManagers();
            now.removeAll(before);
            return !now.isEmpty();
        });
        return name;
    }

    /** Ids of the TaskManagers registered with their slots (GET /taskmanagers). */
    private java.util.Set<String> registeredTaskManagers() {
        java.util.Set<String> ids = new java.util.HashSet<>();
        JsonNode list = tryGet("/taskmanagers");
        if (list != null) {
            for (JsonNode tm : list.path("taskmanagers")) {
                if (tm.path("slotsNumber").asInt() >= slots) {
                    ids.add(tm.path("id").asText());
                }
            }
        }
        return ids;
    }

    /**
     * {@code kill -9} of a TaskManager process: no shutdown hook, no goodbye to the JobManager;
     * its tasks, Kafka producers and open transactions die mid-flight.
     */
    void killTaskManager(String name) throws Exception {
        Process process = taskManagers.get(name);
        killed.add(name);
        Process kill = new ProcessBuilder("kill", "-9", String.valueOf(process.pid()))
                .redirectErrorStream(true).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IllegalStateException("kill -9 " + process.pid() + " failed: "
                    + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " survived kill -9");
        }
        // 128 + SIGKILL
        if (process.exitValue() != 137) {
            throw new IllegalStateException(name + " exited with " + process.exitValue()
                    + ", not by SIGKILL");
        }
    }

    String restUrl() {
        return "http://127.0.0.1:" + restPort;
    }

    Path dir() {
        return dir;
    }

    Path log(String process) {
        return dir.resolve("log").resolve(process + ".log");
    }

    private void writeConfig() throws IOException {
        for (String sub : List.of("conf", "log", "tmp", "web-upload", "checkpoints",
                "savepoints", "djl-cache")) {
            Files.createDirectories(dir.resolve(sub));
        }
        List<String> lines = List.of(
                "jobmanager.rpc.address: localhost",
                "jobmanager.rpc.port: " + rpcPort,
                "jobmanager.bind-host: 127.0.0.1",
                "jobmanager.memory.process.size: 1g",
                "taskmanager.host: localhost",
                "taskmanager.bind-host: 127.0.0.1",
                "taskmanager.numberOfTaskSlots: " + slots,
                "taskmanager.memory.process.size: 3g",
                "taskmanager.memory.managed.fraction: 0.25",
                "taskmanager.memory.jvm-metaspace.size: 512m",
                "parallelism.default: 1",
                "rest.address: localhost",
                "rest.bind-address: 127.0.0.1",
                "rest.port: " + restPort,
                "web.submit.enable: true",
                "web.upload.dir: " + dir.resolve("web-upload"),
                "io.tmp.dirs: " + dir.resolve("tmp"),
                "execution.checkpointing.dir: " + dir.resolve("checkpoints").toUri(),
                "execution.checkpointing.savepoint-dir: " + dir.resolve("savepoints").toUri(),
                // the dashboard's metrics every second (default 10 s)
                "metrics.fetcher.update-interval: 1000",
                // a job that fails fails the test, rather than restarting until its deadline
                "restart-strategy.type: none",
                // the Prometheus reporter of deploy/ (plugins/metrics-prometheus), free port
                "metrics.reporter.prom.factory.class: "
                        + "org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
                "metrics.reporter.prom.port: 9250-9399");
        Map<String, String> entries = new java.util.LinkedHashMap<>();
        for (String line : lines) {
            int colon = line.indexOf(": ");
            entries.put(line.substring(0, colon), line.substring(colon + 2));
        }
        entries.putAll(configOverrides);
        StringBuilder config = new StringBuilder();
        entries.forEach((k, v) -> config.append(k).append(": ").append(v).append('\n'));
        Files.writeString(dir.resolve("conf/config.yaml"), config.toString());
        Files.writeString(dir.resolve("conf/log4j.properties"), String.join("\n",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.file.ref = MainAppender",
                "logger.kafka.name = org.apache.kafka",
                "logger.kafka.level = WARN",
                "appender.main.name = MainAppender",
                "appender.main.type = File",
                "appender.main.append = true",
                "appender.main.fileName = ${sys:log.file}",
                "appender.main.layout.type = PatternLayout",
                "appender.main.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
                ""));
    }

    private Process launch(String name, String mainClass, String resourceParams)
            throws Exception {
        String classpath = flinkHome.resolve("lib") + "/*";
        List<String> params = bashJavaUtils(classpath, resourceParams);
        List<String> command = new ArrayList<>();
        command.add(javaBinary());
        command.addAll(Arrays.asList(params.get(0).trim().split("\\s+")));
        command.addAll(JAVA_17_OPTS);
        command.add("-Dlog.file=" + log(name));
        command.add("-Dlog4j.configurationFile=" + dir.resolve("conf/log4j.properties").toUri());
        command.addAll(List.of("-cp", classpath, mainClass, "--configDir",
                dir.resolve("conf").toString()));
        command.addAll(Arrays.asList(params.get(1).trim().split("\\s+")));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("log").resolve(name + ".out").toFile());
        Map<String, String> env = builder.environment();
        env.put("FLINK_CONF_DIR", dir.resolve("conf").toString());
        env.put("FLINK_PLUGINS_DIR", flinkHome.resolve("plugins").toString());
        env.put("FLINK_LIB_DIR", flinkHome.resolve("lib").toString());
        // the tokenizer's native library is unpacked here (from the job JAR, never downloaded)
        env.put("DJL_CACHE_DIR", dir.resolve("djl-cache").toString());
        return builder.start();
    }

    /** The two result lines of BashJavaUtils: JVM flags, then -D memory settings. */
    private List<String> bashJavaUtils(String classpath, String command) throws Exception {
        Process process = new ProcessBuilder(javaBinary(), "-cp", classpath,
                "org.apache.flink.runtime.util.bash.BashJavaUtils", command,
                "--configDir", dir.resolve("conf").toString())
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(),
                StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException("BashJavaUtils " + command + " failed:\n" + output);
        }
        List<String> results = output.lines()
                .filter(l -> l.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:"))
                .map(l -> l.substring("BASH_JAVA_UTILS_EXEC_RESULT:".length()))
                .collect(Collectors.toList());
        if (results.size() != 2) {
            throw new IllegalStateException("unexpected BashJavaUtils output:\n" + output);
        }
        return results;
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The port the process's Prometheus reporter bound (from its log), or -1. */
    int prometheusPort(String process) {
        try {
            java.util.regex.Matcher m = java.util.regex.Pattern
                    .compile("Started PrometheusReporter HTTP server on port (\\d+)")
                    .matcher(Files.readString(log(process)));
            return m.find() ? Integer.parseInt(m.group(1)) : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /** GET of a plain-text URL (a Prometheus scrape). */
    String getText(String url) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).GET()
                .build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("GET " + url + " -> " + response.statusCode());
        }
        return response.body();
    }

    // ------------------------------------------------------------------ REST

    JsonNode get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(restUrl() + path)).GET());
    }

    /** GET that answers null while the endpoint is not up or answers an error. */
    JsonNode tryGet(String path) {
        try {
            return get(path);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    JsonNode post(String path, Object body) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(restUrl() + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
    }

    JsonNode patch(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(restUrl() + path))
                .method("PATCH", HttpRequest.BodyPublishers.noBody()));
    }

    /** POST /jars/upload as the dashboard does (multipart/form-data, field "jarfile"). */
    JsonNode uploadJar(Path jar) throws IOException, InterruptedException {
        String boundary = "----interest-graph-" + UUID.randomUUID();
        byte[] head = ("--" + boundary + "\r\n"
                + "Content-Disposition: form-data; name=\"jarfile\"; filename=\""
                + jar.getFileName() + "\"\r\n"
                + "Content-Type: application/x-java-archive\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        return send(HttpRequest.newBuilder(URI.create(restUrl() + "/jars/upload"))
                .timeout(Duration.ofMinutes(2))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.concat(
                        HttpRequest.BodyPublishers.ofByteArray(head),
                        HttpRequest.BodyPublishers.ofFile(jar),
                        HttpRequest.BodyPublishers.ofByteArray(tail))));
    }

    private JsonNode send(HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request.build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 300) {
            throw new IOException(response.request().method() + " " + response.request().uri()
                    + " -> " + response.statusCode() + ": " + response.body());
        }
        return response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
    }

    // ------------------------------------------------------------------ waiting

    /** Polls until the condition holds; fails at the deadline, or when a process died. */
    void await(String what, Duration timeout, Supplier<Boolean> condition)
            throws InterruptedException {
        await(() -> what, timeout, condition);
    }

    /** As above, with the description computed at the deadline (it may say what was seen). */
    void await(Supplier<String> what, Duration timeout, Supplier<Boolean> condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            checkAlive();
            if (condition.get()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: "
                        + what.get()
                        + " (logs in " + dir.resolve("log") + ")");
            }
            Thread.sleep(250); // poll interval; the loop ends on the condition or the deadline
        }
    }

    private void checkAlive() {
        Map<String, Process> processes = new java.util.LinkedHashMap<>(taskManagers);
        killed.forEach(processes::remove);
        if (jobManager != null) {
            processes.put("jobmanager", jobManager);
        }
        for (Map.Entry<String, Process> p : processes.entrySet()) {
            if (p.getValue() != null && !p.getValue().isAlive()) {
                throw new AssertionError(p.getKey() + " exited with " + p.getValue().exitValue()
                        + ": " + tail(dir.resolve("log").resolve(p.getKey() + ".out"))
                        + tail(log(p.getKey())));
            }
        }
    }

    static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return "\n--- " + file + "\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 40),
                            lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "\n--- " + file + ": " + e;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    /** Kills the TaskManagers, then the JobManager (SIGTERM, SIGKILL after 20 s). */
    @Override
    public void close() {
        List<Process> processes = new ArrayList<>(taskManagers.values());
        processes.add(jobManager);
        for (Process process : processes) {
            if (process == null) {
                continue;
            }
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
