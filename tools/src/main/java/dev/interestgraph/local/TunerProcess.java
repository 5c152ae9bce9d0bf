package dev.interestgraph.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The encoder's tuner ({@code item_encoder_tuner}, next to {@code item_encoder} version 1) served
 * by a real Triton: {@code serve_pytriton.py --mode pytriton --tuner} as a child process (see
 * {@link PyTritonProcess} for how Python is found). It publishes {@code item_encoder} versions into
 * {@link Builder#repository} and announces them on Kafka ({@link Builder#kafkaBootstrapServers}),
 * or in a JSONL file in the repository's tuner state folder without Kafka.
 *
 * <pre>{@code
 * try (TunerProcess tuner = TunerProcess.builder().repository(dir).publishEverySteps(4)
 *         .kafkaBootstrapServers(kafka.bootstrapServers()).start()) {
 *     config.set(InterestGraphOptions.FINE_TUNE_TUNER_ENDPOINT, tuner.endpoint());
 * }
 * }</pre>
 */
public final class TunerProcess implements AutoCloseable {
    private final PyTritonProcess triton;
    private final Path repository;

    private TunerProcess(PyTritonProcess triton, Path repository) {
        this.triton = triton;
        this.repository = repository;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code 127.0.0.1:<gRPC port>}: the value for {@code fine-tune.tuner.endpoint}. */
    public String endpoint() {
        return triton.grpcEndpoint();
    }

    /** The model repository the versions are published into ({@code <repository>/item_encoder/<n>}). */
    public Path repository() {
        return repository;
    }

    public boolean isAlive() {
        return triton.isAlive();
    }

    /** CPU time used so far by the tuner's server and its child processes (see PyTritonProcess). */
    public java.time.Duration cpuTime() {
        return triton.cpuTime();
    }

    public String outputTail() {
        return triton.outputTail();
    }

    /** Stops the server (SIGTERM, then kill after 60 s); the repository and its state stay. */
    @Override
    public void close() {
        triton.close();
    }

    public static final class Builder {
        private Path repository;
        private int publishEverySteps = 50;
        private long appliesFromLeadMs;
        private String kafkaBootstrapServers;
        private Double weightDecay;
        private Double learningRate;
        private Double uniformityWeight;
        private Double temperature;
        private Integer warmupSteps;
        private int keepVersions;
        private String announceTopic;
        private Path modelDir;
        private Path log;
        private Duration readyTimeout = Duration.ofMinutes(3);

        private Builder() {}

        /**
         * The working model repository (required): staged on first use with item_encoder version 1
         * linking the model files; a later start on the same folder resumes the tuner's state.
         */
        public Builder repository(Path repository) {
            this.repository = repository.toAbsolutePath();
            return this;
        }

        /** A new item_encoder version every N training steps (default 50). */
        public Builder publishEverySteps(int steps) {
            if (steps < 1) {
                throw new IllegalArgumentException("publishEverySteps must be >= 1, got " + steps);
            }
            this.publishEverySteps = steps;
            return this;
        }

        /** {@code value}, checked finite and >= 0 (or > 0 where {@code zeroAllowed} is false). */
        private static double finite(String name, double value, boolean zeroAllowed) {
            if (!(zeroAllowed ? value >= 0 : value > 0) || Double.isInfinite(value)) {
                throw new IllegalArgumentException(name + " must be finite and "
                        + (zeroAllowed ? ">= 0" : "> 0") + ", got " + value);
            }
            return value;
        }

        /** applies_from_ms = 1 + the highest trained event time + this lead (default 0). */
        public Builder appliesFromLeadMs(long leadMs) {
            if (leadMs < 0) {
                throw new IllegalArgumentException("appliesFromLeadMs must be >= 0, got " + leadMs);
            }
            this.appliesFromLeadMs = leadMs;
            return this;
        }

        /**
         * AdamW's decoupled weight decay of the encoder's weights (w -= lr · decay · w per step);
         * unset: the tuner's default, 0.01.
         */
        public Builder weightDecay(double decay) {
            this.weightDecay = finite("weightDecay", decay, true);
            return this;
        }

        /** AdamW's learning rate; unset: the tuner's default, 5e-5. */
        public Builder learningRate(double rate) {
            this.learningRate = finite("learningRate", rate, false);
            return this;
        }

        /**
         * Weight of the uniformity term the tuner adds to InfoNCE; 0 trains plain in-batch
         * InfoNCE, issue 19's loss. Unset: the tuner's default (encoder/tuner.py).
         */
        public Builder uniformityWeight(double weight) {
            this.uniformityWeight = finite("uniformityWeight", weight, true);
            return this;
        }

        /** InfoNCE's temperature τ; unset: the tuner's default, 0.05. */
        public Builder temperature(double tau) {
            this.temperature = finite("temperature", tau, false);
            return this;
        }

        /** A linear learning-rate warm-up over the first N steps; unset: the tuner's default, 0. */
        public Builder warmupSteps(int steps) {
            if (steps < 0) {
                throw new IllegalArgumentException("warmupSteps must be >= 0, got " + steps);
            }
            this.warmupSteps = steps;
            return this;
        }

        /** How many item_encoder version folders the tuner keeps (unset: its default, 2). */
        public Builder keepVersions(int versions) {
            if (versions < 1) {
                throw new IllegalArgumentException("keepVersions must be >= 1, got " + versions);
            }
            this.keepVersions = versions;
            return this;
        }

        /** The Kafka topic of the announcements (unset: the tuner's default, model-versions). */
        public Builder announceTopic(String topic) {
            this.announceTopic = Objects.requireNonNull(topic);
            return this;
        }

        /** Announcements on the {@code model-versions} topic of this cluster; unset: a JSONL file. */
        public Builder kafkaBootstrapServers(String servers) {
            this.kafkaBootstrapServers = servers;
            return this;
        }

        /**
         * The folder with all-minilm-l6-v2.onnx and its tokenizer json (default {@code
         * triton-models/item_encoder/1}, filled by {@code make models}).
         */
        public Builder modelDir(Path modelDir) {
            this.modelDir = modelDir.toAbsolutePath();
            return this;
        }

        /** Where the server's output goes (default: only the last lines are kept, for errors). */
        public Builder log(Path log) {
            this.log = log;
            return this;
        }

        public Builder readyTimeout(Duration timeout) {
            this.readyTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        public TunerProcess start() throws IOException, InterruptedException {
            Objects.requireNonNull(repository, "repository");
            Path models = modelDir != null ? modelDir
                    : PyTritonProcess.tritonModelsDir().resolve("item_encoder").resolve("1");
            if (!Files.isRegularFile(models.resolve("all-minilm-l6-v2.onnx"))) {
                throw new IllegalStateException("no all-minilm-l6-v2.onnx in " + models + ": run `make models`"
                        + " (or give TunerProcess a modelDir)");
            }
            Files.createDirectories(repository);
            List<String> args = arguments(models);
            return new TunerProcess(PyTritonProcess.start("item_encoder_tuner", args, log, readyTimeout),
                    repository);
        }

        /** The command line of serve_pytriton.py for the frozen model files in {@code models}. */
        List<String> arguments(Path models) {
            List<String> args = new ArrayList<>(List.of("--mode", "pytriton", "--tuner",
                    "--model-dir", models.toString(),
                    "--tuner-repository", repository.toString(),
                    "--publish-every-steps", Integer.toString(publishEverySteps),
                    "--applies-from-lead-ms", Long.toString(appliesFromLeadMs)));
            if (weightDecay != null) {
                args.add("--weight-decay");
                args.add(Double.toString(weightDecay));
            }
            if (learningRate != null) {
                args.add("--learning-rate");
                args.add(Double.toString(learningRate));
            }
            if (uniformityWeight != null) {
                args.add("--uniformity-weight");
                args.add(Double.toString(uniformityWeight));
            }
            if (temperature != null) {
                args.add("--temperature");
                args.add(Double.toString(temperature));
            }
            if (warmupSteps != null) {
                args.add("--warmup-steps");
                args.add(Integer.toString(warmupSteps));
            }
            if (keepVersions > 0) {
                args.add("--keep-versions");
                args.add(Integer.toString(keepVersions));
            }
            if (announceTopic != null && !announceTopic.isBlank()) {
                args.add("--announce-topic");
                args.add(announceTopic);
            }
            // always passed, even empty (PyTritonProcess clears $KAFKA_BOOTSTRAP_SERVERS as well)
            args.add("--kafka-bootstrap-servers");
            args.add(kafkaBootstrapServers == null ? "" : kafkaBootstrapServers);
            return args;
        }
    }
}
