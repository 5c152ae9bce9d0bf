package dev.interestgraph.local;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.MovieLensDataset;
import dev.interestgraph.data.ReplayDataset;
import dev.interestgraph.data.SyntheticDataset;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.IllegalConfigurationException;

/**
 * The demo's own options, all under {@code demo.} so that the job's unknown-key check never sees
 * them; every other {@code --key value} is a job (or Flink) option and passes through.
 * {@code --kafka.bootstrap} and {@code --triton.endpoint} are job options that also switch the
 * demo to external services.
 */
public final class DemoOptions {
    /** {@code generated} or a MovieLens directory (any layout MovieLensDataset reads). */
    public String data = "generated";
    public int users = 200;
    public int eventsPerUser = 60;
    public long seed = 42;
    /** 0: as fast as possible; N: N times event time. */
    public double speed = 0;
    /** With a speed, longer gaps in event time are shortened to this much wall time. */
    public Duration maxGap = Duration.ofSeconds(2);
    /** 0: the whole dataset. */
    public long maxEvents = 0;
    /** No refreshing line: a progress line every few seconds, for logs and scripts. */
    public boolean headless = false;
    /** Dashboard port; 0: a free one. */
    public int port = 8081;
    /** Port of the in-process broker; 0: a free one (also taken when this one is busy). */
    public int kafkaPort = 9092;
    public int parallelism = 2;
    public int sampleUsers = 3;
    /** Keep the broker up after the summary until Ctrl-C, for {@code interest-graph deltas}. */
    public boolean linger = false;
    /** Give up when the whole run takes longer; zero: no limit. */
    public Duration timeout = Duration.ZERO;
    /** Everything that is not a demo option: the job's configuration. */
    public Configuration job = new Configuration();
    /**
     * The fine-tuning loop ({@code --fine-tune}): the Python tuner under PyTriton trains on the
     * job's examples, publishes item_encoder versions that the embedded server serves, and the
     * job switches to them. Needs {@code make triton-venv models}.
     */
    public boolean fineTune = false;
    /** With fine-tuning: a new encoder version every this many training steps. */
    public int fineTuneSteps = 30;

    public boolean generated() {
        return "generated".equals(data);
    }

    public Path dataDir() {
        return Path.of(data);
    }

    public boolean externalKafka() {
        String bootstrap = job.get(InterestGraphOptions.KAFKA_BOOTSTRAP);
        return bootstrap != null && !bootstrap.isBlank();
    }

    /** Parses {@code --key value} arguments; rejects unknown {@code demo.} keys. */
    public static DemoOptions fromArgs(String... args) {
        return from(InterestGraphOptions.fromArgs(args));
    }

    /** Reads parsed options; rejects unknown {@code demo.} keys. */
    public static DemoOptions from(Configuration all) {
        DemoOptions o = new DemoOptions();
        for (Map.Entry<String, String> e : all.toMap().entrySet()) {
            String key = e.getKey();
            String value = e.getValue();
            if (key.equals("fine-tune")) { // the short form: make demo ARGS="--fine-tune"
                o.fineTune = Boolean.parseBoolean(value);
                continue;
            }
            if (!key.startsWith("demo.")) {
                o.job.setString(key, value);
                continue;
            }
            try {
                switch (key.substring("demo.".length())) {
                    case "data" -> o.data = value;
                    case "users" -> o.users = positive(key, Integer.parseInt(value));
                    case "events-per-user" -> o.eventsPerUser = positive(key,
                            Integer.parseInt(value));
                    case "seed" -> o.seed = Long.parseLong(value);
                    case "speed" -> o.speed = Double.parseDouble(value);
                    case "max-gap" -> o.maxGap = duration(value);
                    case "max-events" -> o.maxEvents = Long.parseLong(value);
                    case "headless" -> o.headless = Boolean.parseBoolean(value);
                    case "port" -> o.port = Integer.parseInt(value);
                    case "kafka-port" -> o.kafkaPort = Integer.parseInt(value);
                    case "parallelism" -> o.parallelism = positive(key, Integer.parseInt(value));
                    case "sample-users" -> o.sampleUsers = Integer.parseInt(value);
                    case "linger" -> o.linger = Boolean.parseBoolean(value);
                    case "timeout" -> o.timeout = duration(value);
                    case "fine-tune" -> o.fineTune = Boolean.parseBoolean(value);
                    case "fine-tune-steps" -> o.fineTuneSteps = positive(key,
                            Integer.parseInt(value));
                    default -> throw new IllegalConfigurationException("unknown option '" + key
                            + "'; demo options: demo.data, demo.users, demo.events-per-user, "
                            + "demo.seed, demo.speed, demo.max-gap, demo.max-events, "
                            + "demo.headless, demo.port, demo.kafka-port, demo.parallelism, "
                            + "demo.sample-users, demo.linger, demo.timeout, demo.fine-tune, "
                            + "demo.fine-tune-steps");
                }
            } catch (NumberFormatException ex) {
                throw new IllegalConfigurationException(key + ": not a number: '" + value + "'");
            }
        }
        if (o.speed < 0 || o.port < 0 || o.kafkaPort < 0 || o.maxEvents < 0) {
            throw new IllegalConfigurationException("demo.speed, demo.port, demo.kafka-port and "
                    + "demo.max-events must not be negative");
        }
        return o;
    }

    /** The dataset these options name: generated (the default) or MovieLens. */
    public ReplayDataset dataset() {
        if (generated()) {
            int perUser = eventsPerUser;
            if (maxEvents > 0) { // bound the generated events by generating fewer per user
                perUser = (int) Math.max(2, Math.min(perUser, maxEvents / users));
            }
            return ReplayDataset.of(SyntheticDataset.builder().users(users)
                    .eventsPerUser(perUser).seed(seed).spanMs(60L * 24 * 3600 * 1000)
                    .build());
        }
        return MovieLensDataset.load(dataDir(), maxEvents);
    }

    private static int positive(String key, int value) {
        if (value < 1) {
            throw new IllegalConfigurationException(key + " must be >= 1, got " + value);
        }
        return value;
    }

    private static Duration duration(String value) {
        return org.apache.flink.util.TimeUtils.parseDuration(value);
    }
}
