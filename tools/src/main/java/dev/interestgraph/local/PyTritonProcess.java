package dev.interestgraph.local;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Triton started as a child process with {@code triton-models/serve_pytriton.py} (the
 * server binary bundled by the {@code nvidia-pytriton} wheel) on 127.0.0.1, free ports. Ready once
 * the script prints its {@code TRITON_READY} line (it does so after the server and its models are
 * ready); {@link #close()} stops it and waits. The script runs with {@code --exit-on-stdin-eof},
 * so a JVM that dies takes the server with it.
 *
 * <p>The Python interpreter is {@code -Dinterest-graph.triton.python}, else {@code
 * $INTEREST_GRAPH_TRITON_PYTHON}, else {@code triton-models/.venv/bin/python} (built by {@code make
 * triton-venv}); {@code triton-models/} is {@code -Dinterest-graph.triton.models-dir}, else found
 * above the working directory.
 */
public final class PyTritonProcess implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PyTritonProcess.class);
    private static final String READY_LINE = "TRITON_READY";
    private static final int TAIL_LINES = 40;

    private final String name;
    private final Process process;
    private final int grpcPort;
    private final int httpPort;
    private final Deque<String> tail = new ArrayDeque<>();
    private final CompletableFuture<Void> ready = new CompletableFuture<>();

    private PyTritonProcess(String name, Process process, int grpcPort, int httpPort) {
        this.name = name;
        this.process = process;
        this.grpcPort = grpcPort;
        this.httpPort = httpPort;
    }

    /**
     * Starts {@code serve_pytriton.py args...} with its ports and {@code --exit-on-stdin-eof}
     * added, and waits for readiness.
     *
     * @param log where the process's output goes (stdout and stderr), or null for nowhere
     * @throws IllegalStateException when there is no Python, or the server exits or is not ready
     *     within {@code readyTimeout} (with the last lines of its output)
     */
    public static PyTritonProcess start(String name, List<String> args, Path log, Duration readyTimeout)
            throws IOException, InterruptedException {
        int grpcPort = freePort();
        int httpPort = freePort();
        List<String> command = new ArrayList<>(List.of(python().toString(),
                tritonModelsDir().resolve("serve_pytriton.py").toString(),
                "--grpc-port", Integer.toString(grpcPort), "--http-port", Integer.toString(httpPort),
                "--exit-on-stdin-eof"));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("PYTHONUNBUFFERED", "1");
        // the tuner falls back to $KAFKA_BOOTSTRAP_SERVERS when given none: only the arguments count
        builder.environment().remove("KAFKA_BOOTSTRAP_SERVERS");
        long started = System.nanoTime();
        PyTritonProcess triton = new PyTritonProcess(name, builder.start(), grpcPort, httpPort);
        Writer logWriter = log == null ? Writer.nullWriter() : Files.newBufferedWriter(log, StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> triton.readOutput(logWriter), name + "-output");
        reader.setDaemon(true);
        reader.start();
        try {
            triton.ready.get(readyTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            triton.close();
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            triton.close();
            throw new IllegalStateException(name + " (serve_pytriton.py) not ready on " + triton.grpcEndpoint()
                    + " within " + readyTimeout + "; its last output:\n" + triton.outputTail(), e);
        } catch (InterruptedException e) {
            triton.close();
            throw e;
        }
        LOG.info("{} ready on {} after {} ms", name, triton.grpcEndpoint(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        return triton;
    }

    /** Copies output lines to the log and the tail; completes {@link #ready} on the ready line or at exit. */
    private void readOutput(Writer log) {
        try (Writer out = log;
                BufferedReader lines = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                synchronized (tail) {
                    tail.addLast(line);
                    if (tail.size() > TAIL_LINES) {
                        tail.removeFirst();
                    }
                }
                out.write(line);
                out.write('\n');
                out.flush();
                // anywhere in the line: the script and its tritonserver child share this pipe,
                // and the server's log can be cut mid-line by the script's ready line (seen in CI:
                // "…successfully l" / "oaded 'itTRITON_READY grpc=… em_encoder_tuner'")
                if (line.contains(READY_LINE + " grpc=")) {
                    ready.complete(null);
                }
            }
        } catch (IOException e) {
            // the stream closes when the process goes; whatever was read is in the tail
        }
        int exit;
        try {
            exit = process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exit = -1;
        }
        ready.completeExceptionally(new IllegalStateException(name + " (serve_pytriton.py) exited with " + exit
                + " before it was ready; its last output:\n" + outputTail()));
    }

    public String name() {
        return name;
    }

    /** {@code 127.0.0.1:<gRPC port>}. */
    public String grpcEndpoint() {
        return "127.0.0.1:" + grpcPort;
    }

    public int grpcPort() {
        return grpcPort;
    }

    public int httpPort() {
        return httpPort;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * CPU time (user + system) used so far by the process and its live descendants (tritonserver,
     * Python stubs); zero for a process whose figure the OS does not give.
     */
    public java.time.Duration cpuTime() {
        java.time.Duration total = process.toHandle().info().totalCpuDuration()
                .orElse(java.time.Duration.ZERO);
        for (ProcessHandle child : process.descendants().toList()) {
            total = total.plus(child.info().totalCpuDuration().orElse(java.time.Duration.ZERO));
        }
        return total;
    }

    /** The last lines the process printed. */
    public String outputTail() {
        synchronized (tail) {
            return String.join("\n", tail);
        }
    }

    /** Closes stdin and sends SIGTERM (graceful), then kills whatever is left after 60 s. */
    @Override
    public void close() {
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // already gone
        }
        List<ProcessHandle> descendants = process.descendants().toList();
        long stopping = System.nanoTime();
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        // tritonserver and its Python stubs, should serve_pytriton.py have died without them
        descendants.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        LOG.info("{} stopped in {} ms", name, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopping));
    }

    /** {@code triton-models/} of this checkout. */
    public static Path tritonModelsDir() {
        String configured = System.getProperty("interest-graph.triton.models-dir");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath();
        }
        Path here = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path dir = here; dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("triton-models");
            if (Files.isRegularFile(candidate.resolve("serve_pytriton.py"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("cannot find triton-models/serve_pytriton.py above " + here
                + "; run from the interest-graph checkout or set -Dinterest-graph.triton.models-dir");
    }

    /** The virtualenv's python: the system property, the environment variable, or the default venv. */
    public static Path python() {
        String configured = System.getProperty("interest-graph.triton.python");
        String origin = "-Dinterest-graph.triton.python";
        if (configured == null || configured.isBlank()) {
            configured = System.getenv("INTEREST_GRAPH_TRITON_PYTHON");
            origin = "$INTEREST_GRAPH_TRITON_PYTHON";
        }
        if (configured == null || configured.isBlank()) {
            configured = tritonModelsDir().resolve(".venv/bin/python").toString();
            origin = "the default virtualenv";
        }
        Path python = Path.of(configured).toAbsolutePath();
        if (!Files.isExecutable(python)) {
            throw new IllegalStateException("no Python for Triton at " + python + " (" + origin + "): run `make"
                    + " triton-venv models`, which builds triton-models/.venv with nvidia-pytriton and stages the"
                    + " model files, or point -Dinterest-graph.triton.python / INTEREST_GRAPH_TRITON_PYTHON at a"
                    + " Python that has triton-models/requirements.txt");
        }
        return python;
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
