package dev.interestgraph.inference;

import static dev.interestgraph.inference.InferenceContract.BYTES;
import static dev.interestgraph.inference.InferenceContract.FP32;
import static dev.interestgraph.inference.InferenceContract.INPUT_TEXT;
import static dev.interestgraph.inference.InferenceContract.OUTPUT_EMBEDDING;

import dev.interestgraph.embed.EmbeddingBatch;
import dev.interestgraph.embed.EmbeddingClient;
import dev.interestgraph.inference.v2.GRPCInferenceServiceGrpc;
import dev.interestgraph.inference.v2.ModelInferRequest;
import dev.interestgraph.inference.v2.ModelInferResponse;
import dev.interestgraph.inference.v2.ModelMetadataRequest;
import dev.interestgraph.inference.v2.ModelMetadataResponse;
import dev.interestgraph.inference.v2.ModelReadyRequest;
import dev.interestgraph.inference.v2.ServerLiveRequest;
import dev.interestgraph.inference.v2.ServerReadyRequest;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.File;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * {@link EmbeddingClient} for Triton Inference Server, or anything else that speaks the Open
 * Inference Protocol over gRPC (such as {@link EmbeddedInferenceServer}).
 *
 * <p>Sends the texts as one BYTES tensor {@value InferenceContract#INPUT_TEXT} in
 * {@code raw_input_contents}, shaped as the model's metadata declares it: {@code [n]} for an
 * input of shape {@code [-1]}, {@code [n, 1]} for {@code [-1, 1]} (a Triton model with
 * {@code max_batch_size > 0} and {@code dims: [1]}). The metadata is read by {@link #checkReady()},
 * or before the first request when that was not called. It reads {@value InferenceContract#OUTPUT_EMBEDDING} from
 * {@code raw_output_contents} or, failing that, from the typed {@code fp32_contents}. Calls are
 * asynchronous with a per-call deadline; futures complete on gRPC's threads. Failures are {@link
 * InferenceException}s whose messages name the endpoint and the model, and which say whether a
 * retry may help.
 *
 * <p>Each request may pin a model version ({@link #embed(List, String)}); without one it asks for
 * the configured {@code triton.model-version}, and when that is blank too, for the server's default
 * (Triton: the latest loaded). The answer carries the version the server reports.
 */
public final class TritonEmbeddingClient implements EmbeddingClient {
    private final TritonClientConfig config;
    private final ManagedChannel channel;
    private final GRPCInferenceServiceGrpc.GRPCInferenceServiceStub asyncStub;
    private final GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub blockingStub;
    private final AtomicLong requestIds = new AtomicLong();
    /**
     * The rank of {@value InferenceContract#INPUT_TEXT} that the model declares: 1 ([-1], the
     * contract; also what the embedded server reports) or 2 ([-1, 1], what Triton reports for a
     * model with {@code max_batch_size > 0}). 0 until ModelMetadata has been read.
     */
    private volatile int textRank;

    /** Opens a channel; connecting happens lazily, on the first call. */
    public TritonEmbeddingClient(TritonClientConfig config) {
        this.config = config;
        this.channel = openChannel(config);
        this.asyncStub = GRPCInferenceServiceGrpc.newStub(channel);
        this.blockingStub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
    }

    /**
     * A channel to {@code config}'s endpoint: plaintext, or TLS trusting {@code
     * triton.tls.trust-cert}; connecting happens lazily. Shared with the tuner's client, so both
     * reach Triton the same way.
     */
    public static ManagedChannel openChannel(TritonClientConfig config) {
        return NettyChannelBuilder.forAddress(config.host(), config.port(), credentials(config))
                .maxInboundMessageSize(EmbeddedInferenceServer.MAX_MESSAGE_BYTES)
                .build();
    }

    private static ChannelCredentials credentials(TritonClientConfig config) {
        if (config.tlsTrustCertPath().isEmpty()) {
            return InsecureChannelCredentials.create();
        }
        File trusted = new File(config.tlsTrustCertPath().get());
        try {
            return TlsChannelCredentials.newBuilder().trustManager(trusted).build();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("triton.tls.trust-cert: cannot read PEM certificates from '"
                    + trusted + "' for Triton at " + config.endpoint() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Checks, in order: the server is live, it is ready, the model is ready, and the model's
     * metadata has input TEXT (BYTES) and output EMBEDDING (FP32) of the expected dimension.
     *
     * @throws InferenceException naming the endpoint, the model and what was wrong
     */
    @Override
    public void checkReady() {
        if (!call("ServerLive", () -> stub().serverLive(ServerLiveRequest.getDefaultInstance()).getLive())) {
            throw new InferenceException(where() + " is not live", true);
        }
        if (!call("ServerReady", () -> stub().serverReady(ServerReadyRequest.getDefaultInstance()).getReady())) {
            throw new InferenceException(where() + " is live but not ready (still loading models?)", true);
        }
        ModelReadyRequest readyRequest = ModelReadyRequest.newBuilder()
                .setName(config.modelName()).setVersion(config.modelVersion()).build();
        if (!call("ModelReady", () -> stub().modelReady(readyRequest).getReady())) {
            throw new InferenceException(where() + ": " + model() + " is not ready"
                    + " (is it in the model repository, and did it load?)", false);
        }
        ModelMetadataRequest metadataRequest = ModelMetadataRequest.newBuilder()
                .setName(config.modelName()).setVersion(config.modelVersion()).build();
        checkMetadata(call("ModelMetadata", () -> stub().modelMetadata(metadataRequest)));
    }

    private void checkMetadata(ModelMetadataResponse metadata) {
        ModelMetadataResponse.TensorMetadata input = metadata.getInputsList().stream()
                .filter(t -> t.getName().equals(INPUT_TEXT)).findFirst()
                .orElseThrow(() -> new InferenceException(where() + ": " + model() + " has no input '"
                        + INPUT_TEXT + "' (inputs: " + names(metadata.getInputsList()) + ")", false));
        if (!input.getDatatype().equals(BYTES)) {
            throw new InferenceException(where() + ": " + model() + " input '" + INPUT_TEXT + "' is "
                    + input.getDatatype() + ", expected " + BYTES, false);
        }
        int rank = InferenceContract.textRank(input.getShapeList());
        if (rank == 0) {
            throw new InferenceException(where() + ": " + model() + " input '" + INPUT_TEXT + "' has shape "
                    + input.getShapeList() + ", expected [-1] or [-1, 1]", false);
        }
        ModelMetadataResponse.TensorMetadata output = metadata.getOutputsList().stream()
                .filter(t -> t.getName().equals(OUTPUT_EMBEDDING)).findFirst()
                .orElseThrow(() -> new InferenceException(where() + ": " + model() + " has no output '"
                        + OUTPUT_EMBEDDING + "' (outputs: " + names(metadata.getOutputsList()) + ")", false));
        if (!output.getDatatype().equals(FP32)) {
            throw new InferenceException(where() + ": " + model() + " output '" + OUTPUT_EMBEDDING + "' is "
                    + output.getDatatype() + ", expected " + FP32, false);
        }
        List<Long> shape = output.getShapeList();
        if (shape.isEmpty() || shape.get(shape.size() - 1) != config.expectedDimension()) {
            throw new InferenceException(where() + ": " + model() + " output '" + OUTPUT_EMBEDDING
                    + "' has shape " + shape + ", expected last dimension " + config.expectedDimension(), false);
        }
        textRank = rank;
    }

    @Override
    public int dimension() {
        return config.expectedDimension();
    }

    @Override
    public CompletableFuture<EmbeddingBatch> embed(List<String> texts) {
        return embed(texts, "");
    }

    /**
     * Embeds the texts with {@code model_version} set to the given version on the request; a blank
     * (or null) version means the configured one. The batch's version is the one the server
     * answered with, else the requested one, else "1".
     */
    @Override
    public CompletableFuture<EmbeddingBatch> embed(List<String> texts, String modelVersion) {
        String version = modelVersion == null || modelVersion.isBlank() ? config.modelVersion() : modelVersion;
        if (texts.isEmpty()) {
            return CompletableFuture.completedFuture(new EmbeddingBatch(List.of(), fallbackVersion(version)));
        }
        int rank = textRank;
        if (rank != 0) {
            return infer(texts, version, rank);
        }
        // Completed by hand rather than with thenCompose, so that failures stay unwrapped
        // InferenceExceptions (not CompletionExceptions) for whenComplete callers.
        CompletableFuture<EmbeddingBatch> result = new CompletableFuture<>();
        fetchTextRank().whenComplete((known, error) -> {
            if (error != null) {
                result.completeExceptionally(error);
            } else {
                infer(texts, version, known).whenComplete((batch, inferError) -> {
                    if (inferError != null) {
                        result.completeExceptionally(inferError);
                    } else {
                        result.complete(batch);
                    }
                });
            }
        });
        return result;
    }

    /**
     * Reads the rank of TEXT from ModelMetadata, once (concurrent first calls may each ask). A
     * server without ModelMetadata gets the contract's {@code [n]}.
     */
    private CompletableFuture<Integer> fetchTextRank() {
        ModelMetadataRequest request = ModelMetadataRequest.newBuilder()
                .setName(config.modelName()).setVersion(config.modelVersion()).build();
        CompletableFuture<Integer> result = new CompletableFuture<>();
        asyncStub.withDeadlineAfter(config.requestTimeout().toNanos(), TimeUnit.NANOSECONDS)
                .modelMetadata(request, new StreamObserver<>() {
                    @Override
                    public void onNext(ModelMetadataResponse metadata) {
                        int rank = metadata.getInputsList().stream()
                                .filter(t -> t.getName().equals(INPUT_TEXT)).findFirst()
                                .map(t -> InferenceContract.textRank(t.getShapeList()))
                                .orElse(0);
                        // Unusual metadata: send the contract's shape and let the server judge.
                        textRank = rank == 0 ? 1 : rank;
                        result.complete(textRank);
                    }

                    @Override
                    public void onError(Throwable error) {
                        if (Status.fromThrowable(error).getCode() == Status.Code.UNIMPLEMENTED) {
                            textRank = 1;
                            result.complete(1);
                        } else {
                            result.completeExceptionally(failure("ModelMetadata", error));
                        }
                    }

                    @Override
                    public void onCompleted() {
                        // unary call: onNext already completed the future
                    }
                });
        return result;
    }

    private CompletableFuture<EmbeddingBatch> infer(List<String> texts, String version, int rank) {
        ModelInferRequest.InferInputTensor.Builder input = ModelInferRequest.InferInputTensor.newBuilder()
                .setName(INPUT_TEXT).setDatatype(BYTES).addShape(texts.size());
        if (rank == 2) {
            input.addShape(1);
        }
        ModelInferRequest request = ModelInferRequest.newBuilder()
                .setModelName(config.modelName())
                .setModelVersion(version)
                .setId(Long.toString(requestIds.incrementAndGet()))
                .addInputs(input)
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(OUTPUT_EMBEDDING))
                .addRawInputContents(InferenceContract.encodeBytesTensor(texts))
                .build();
        int count = texts.size();
        CompletableFuture<EmbeddingBatch> result = new CompletableFuture<>();
        asyncStub.withDeadlineAfter(config.requestTimeout().toNanos(), TimeUnit.NANOSECONDS)
                .modelInfer(request, new StreamObserver<>() {
                    @Override
                    public void onNext(ModelInferResponse response) {
                        try {
                            result.complete(toBatch(response, count, version));
                        } catch (InferenceException e) {
                            result.completeExceptionally(e);
                        }
                    }

                    @Override
                    public void onError(Throwable error) {
                        result.completeExceptionally(failure("ModelInfer", version, error));
                    }

                    @Override
                    public void onCompleted() {
                        // unary call: onNext already completed the future
                    }
                });
        return result;
    }

    private EmbeddingBatch toBatch(ModelInferResponse response, int count, String requestedVersion) {
        int index = -1;
        for (int i = 0; i < response.getOutputsCount(); i++) {
            if (response.getOutputs(i).getName().equals(OUTPUT_EMBEDDING)) {
                index = i;
                break;
            }
        }
        if (index < 0) {
            throw badResponse("has no output '" + OUTPUT_EMBEDDING + "' (outputs: "
                    + response.getOutputsList().stream().map(ModelInferResponse.InferOutputTensor::getName).toList() + ")");
        }
        ModelInferResponse.InferOutputTensor output = response.getOutputs(index);
        int dimension = config.expectedDimension();
        if (!output.getDatatype().equals(FP32)) {
            throw badResponse("returned '" + OUTPUT_EMBEDDING + "' as " + output.getDatatype() + ", expected " + FP32);
        }
        if (!output.getShapeList().equals(List.of((long) count, (long) dimension))) {
            throw badResponse("returned '" + OUTPUT_EMBEDDING + "' with shape " + output.getShapeList()
                    + ", expected [" + count + ", " + dimension + "]");
        }
        float[][] vectors;
        if (response.getRawOutputContentsCount() > 0) {
            if (index >= response.getRawOutputContentsCount()) {
                throw badResponse("has " + response.getRawOutputContentsCount()
                        + " raw_output_contents entries, none for output '" + OUTPUT_EMBEDDING + "'");
            }
            try {
                vectors = InferenceContract.decodeFp32Tensor(response.getRawOutputContents(index), count, dimension);
            } catch (IllegalArgumentException e) {
                throw badResponse("returned malformed '" + OUTPUT_EMBEDDING + "': " + e.getMessage());
            }
        } else {
            List<Float> floats = output.getContents().getFp32ContentsList();
            if (floats.size() != count * dimension) {
                throw badResponse("returned " + floats.size() + " fp32_contents for '" + OUTPUT_EMBEDDING
                        + "', expected " + count * dimension);
            }
            vectors = new float[count][dimension];
            for (int i = 0; i < floats.size(); i++) {
                vectors[i / dimension][i % dimension] = floats.get(i);
            }
        }
        String version = response.getModelVersion().isEmpty()
                ? fallbackVersion(requestedVersion) : response.getModelVersion();
        return new EmbeddingBatch(Arrays.asList(vectors), version);
    }

    /** The version to report when the server does not say: the requested one, else "1". */
    private static String fallbackVersion(String requestedVersion) {
        return requestedVersion.isEmpty() ? "1" : requestedVersion;
    }

    @Override
    public void close() {
        closeChannel(channel);
    }

    /** Shuts a channel down, waiting up to 5 s for calls in flight before cutting them off. */
    public static void closeChannel(ManagedChannel channel) {
        channel.shutdown();
        try {
            if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
                channel.shutdownNow();
            }
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub() {
        return blockingStub.withDeadlineAfter(config.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    private <T> T call(String rpc, Supplier<T> call) {
        try {
            return call.get();
        } catch (StatusRuntimeException e) {
            throw failure(rpc, e);
        }
    }

    private InferenceException failure(String rpc, Throwable error) {
        return failure(rpc, config.modelVersion(), error);
    }

    private InferenceException failure(String rpc, String version, Throwable error) {
        Status status = Status.fromThrowable(error);
        boolean retryable = InferenceException.isTransient(status.getCode());
        String detail = status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription());
        if (status.getCode() == Status.Code.UNAVAILABLE) {
            // gRPC waits longer and longer (up to 2 minutes) before it reconnects; the caller's
            // own retry policy decides the pace, so the next call tries to connect at once.
            channel.resetConnectBackoff();
            return new InferenceException("cannot reach Triton at " + config.endpoint() + " (" + model(version)
                    + "): " + detail, true, error);
        }
        return new InferenceException(where() + ": " + rpc + " for " + model(version) + " failed: " + detail,
                retryable, error);
    }

    private InferenceException badResponse(String problem) {
        return new InferenceException(where() + ": " + model() + " " + problem, false);
    }

    private String where() {
        return "Triton at " + config.endpoint();
    }

    private String model() {
        return model(config.modelVersion());
    }

    private String model(String version) {
        return "model '" + config.modelName() + "'" + (version.isEmpty() ? "" : " version " + version);
    }

    private static List<String> names(List<ModelMetadataResponse.TensorMetadata> tensors) {
        return tensors.stream().map(ModelMetadataResponse.TensorMetadata::getName).toList();
    }
}
