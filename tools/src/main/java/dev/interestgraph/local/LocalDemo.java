package dev.interestgraph.local;

import org.apache.flink.configuration.IllegalConfigurationException;

/**
 * {@code make demo}: the whole product on one machine. A real in-process KRaft Kafka broker, the
 * job on a local cluster with the Flink web dashboard (the job starts the embedded inference
 * server with the real MiniLM model), a replay of a dataset into the input topics while the job
 * runs, live progress, and a summary of the interest graphs a consumer of the delta topic
 * materialised. See {@link DemoOptions} and docs/demo.md for the options.
 */
public final class LocalDemo {
    private LocalDemo() {}

    public static void main(String[] args) throws Exception {
        try {
            System.exit(run(args));
        } catch (IllegalArgumentException | IllegalConfigurationException e) {
            // bad options or data: a message, not a stack trace
            System.err.println("demo: " + e.getMessage());
            System.exit(1);
        }
    }

    /** Runs the demo; returns the process exit code. */
    public static int run(String... args) throws Exception {
        // Kryo (state of the temporal join) reaches into java.util; without this every
        // checkpoint fails and the job restarts forever. Flink's launch scripts pass it.
        if (!Object.class.getModule().isOpen("java.util", LocalDemo.class.getModule())) {
            throw new IllegalArgumentException("run java with --add-opens "
                    + "java.base/java.util=ALL-UNNAMED --add-opens java.base/java.lang="
                    + "ALL-UNNAMED (make demo does)");
        }
        DemoOptions options = DemoOptions.fromArgs(args);
        DemoResult result = new DemoRunner(options, System.out).run();
        // a run whose graphs differ from the job's output is a failure worth an exit code
        return result.graphsEqualJob() || result.stoppedEarly() ? 0 : 2;
    }
}
