package dev.interestgraph.cli;

import dev.interestgraph.local.LocalDemo;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * The {@code interest-graph} command line: {@code deltas} (follow the delta topic and show the
 * users' graphs), {@code recommendations} (users' latest top items) and {@code demo} (the local stack; its options are {@code --key value} like the
 * job's, so they pass through unparsed).
 */
@Command(name = "interest-graph", mixinStandardHelpOptions = true,
        subcommands = {DeltasCommand.class, RecommendationsCommand.class,
                InterestGraphCli.Demo.class},
        description = "Streaming user-interest graphs: the local demo and a delta consumer.")
public final class InterestGraphCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests). */
    public static int run(String... args) {
        return new CommandLine(new InterestGraphCli())
                // a message, not a stack trace: these are mostly "no broker there" or bad options
                .setExecutionExceptionHandler((e, commandLine, parsed) -> {
                    commandLine.getErr().println("interest-graph: " + e.getMessage());
                    return 1;
                })
                .execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "demo", description = "Kafka in-process, embedded inference and the job on "
            + "a local cluster with the dashboard; see docs/demo.md for the --demo.* options.")
    static final class Demo implements Callable<Integer> {
        /** {@code --key value} pairs, parsed by the demo itself like the job's options. */
        @Unmatched
        List<String> args = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            return LocalDemo.run(args.toArray(new String[0]));
        }
    }
}
