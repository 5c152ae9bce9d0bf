package dev.interestgraph.training;

import static dev.interestgraph.config.InterestGraphOptions.EMBED_RETRY_INITIAL_BACKOFF;
import static dev.interestgraph.config.InterestGraphOptions.EMBED_RETRY_MAX_BACKOFF;
import static dev.interestgraph.config.InterestGraphOptions.FINE_TUNE_BATCH_SIZE;
import static dev.interestgraph.config.InterestGraphOptions.FINE_TUNE_BATCH_WINDOW;
import static dev.interestgraph.config.InterestGraphOptions.FINE_TUNE_TUNER_ENDPOINT;
import static dev.interestgraph.config.InterestGraphOptions.FINE_TUNE_TUNER_MODEL;
import static dev.interestgraph.config.InterestGraphOptions.TRITON_ENDPOINT;
import static dev.interestgraph.config.InterestGraphOptions.TRITON_REQUEST_TIMEOUT;
import static dev.interestgraph.config.InterestGraphOptions.TRITON_TLS_TRUST_CERT;

import dev.interestgraph.inference.TritonClientConfig;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * The training side of the job: training examples (with event timestamps and watermarks) →
 * deterministic batches ({@link TrainingBatcher}) → one training step each on the tuner ({@link
 * AsyncTrainFunction}) → a discarding sink. The tuner announces the versions it publishes itself
 * (Kafka {@code model-versions}); the job only follows them.
 */
public final class TrainingBranch {
    public static final String BATCHER_UID = "training-batches";
    public static final String TRAIN_UID = "train-encoder";
    public static final String SINK_UID = "sink-training-results";

    private TrainingBranch() {}

    /**
     * Wires the branch behind {@code examples} and returns the tuner's answers (already drained
     * into a discarding sink; tests and monitoring may read them too). Batching and training run
     * with parallelism 1: the tuner is a single writer and trains steps in the order it gets them,
     * so one request at a time keeps that order the batches' order.
     */
    public static SingleOutputStreamOperator<TrainingResult> attach(DataStream<TrainingExample> examples,
            ReadableConfig config) {
        TritonClientConfig tuner = tunerConfig(config);
        SingleOutputStreamOperator<TrainingBatch> batches = examples
                .keyBy(new SingleKey())
                .process(new TrainingBatcher(config.get(FINE_TUNE_BATCH_SIZE), config.get(FINE_TUNE_BATCH_WINDOW)))
                .uid(BATCHER_UID).name("training batches (event time)")
                .setParallelism(1).setMaxParallelism(1);
        // No async timeout (0): a step is retried until the tuner takes it; each call has its own
        // gRPC deadline (triton.request-timeout). Capacity 1: one step in flight, in batch order.
        SingleOutputStreamOperator<TrainingResult> results = AsyncDataStream.orderedWait(batches,
                        new AsyncTrainFunction(tuner, config.get(EMBED_RETRY_INITIAL_BACKOFF),
                                config.get(EMBED_RETRY_MAX_BACKOFF)),
                        0, TimeUnit.MILLISECONDS, 1)
                .uid(TRAIN_UID).name("train item_encoder (tuner)")
                .setParallelism(1);
        results.sinkTo(new DiscardingSink<>()).uid(SINK_UID).name("training results (discarded)")
                .setParallelism(1);
        return results;
    }

    /**
     * The tuner's client configuration: {@code fine-tune.tuner.endpoint}, else {@code
     * triton.endpoint}; model {@code fine-tune.tuner.model}; TLS and deadline of {@code triton.*}.
     *
     * @throws IllegalConfigurationException when neither endpoint is set, or a value is invalid
     */
    public static TritonClientConfig tunerConfig(ReadableConfig config) {
        String endpoint = config.getOptional(FINE_TUNE_TUNER_ENDPOINT).filter(e -> !e.isBlank())
                .or(() -> config.getOptional(TRITON_ENDPOINT).filter(e -> !e.isBlank()))
                .orElseThrow(() -> new IllegalConfigurationException(FINE_TUNE_TUNER_ENDPOINT.key()
                        + " is not set and neither is " + TRITON_ENDPOINT.key() + ": set --"
                        + FINE_TUNE_TUNER_ENDPOINT.key() + " host:port to the gRPC port of the Triton that"
                        + " serves " + config.get(FINE_TUNE_TUNER_MODEL) + " (the embedded inference server"
                        + " does not train)"));
        try {
            TritonClientConfig.Builder builder = TritonClientConfig.builder()
                    .endpoint(endpoint)
                    .modelName(config.get(FINE_TUNE_TUNER_MODEL))
                    .requestTimeout(config.get(TRITON_REQUEST_TIMEOUT));
            config.getOptional(TRITON_TLS_TRUST_CERT).ifPresent(builder::tlsTrustCertPath);
            return builder.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalConfigurationException("Invalid tuner configuration ("
                    + FINE_TUNE_TUNER_ENDPOINT.key() + " / " + FINE_TUNE_TUNER_MODEL.key() + "): "
                    + e.getMessage(), e);
        }
    }

    /** Every example on one key: the batcher's state is one sequence. */
    private static final class SingleKey implements KeySelector<TrainingExample, Integer> {
        private static final long serialVersionUID = 1L;

        @Override
        public Integer getKey(TrainingExample example) {
            return 0;
        }
    }
}
