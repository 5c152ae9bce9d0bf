package dev.interestgraph.training;

import static dev.interestgraph.inference.InferenceContract.BYTES;
import static dev.interestgraph.inference.InferenceContract.FP32;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.interestgraph.inference.InferenceContract;
import dev.interestgraph.inference.InferenceException;
import dev.interestgraph.inference.TritonClientConfig;
import dev.interestgraph.inference.TritonEmbeddingClient;
import dev.interestgraph.inference.v2.GRPCInferenceServiceGrpc;
import dev.interestgraph.inference.v2.ModelInferRequest;
import dev.interestgraph.inference.v2.ModelInferResponse;
import dev.interestgraph.inference.v2.ModelMetadataRequest;
import dev.interestgraph.inference.v2.ModelMetadataResponse;
import dev.interestgraph.inference.v2.ModelReadyRequest;
import dev.interestgraph.inference.v2.ServerLiveRequest;
import dev.interestgraph.inference.v2.ServerReadyRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Asynchronous gRPC client of the tuner model ({@code item_encoder_tuner}, contract in
 * triton-models/README.md): one {@link #train} call is one training step. Reaches Triton like
 * {@link TritonEmbeddingClient} (same channel, TLS and per-call deadline from a {@link
 * TritonClientConfig} whose model name is the tuner's). Failures are {@link InferenceException}s
 * naming endpoint and model, with {@link InferenceException#retryable()} telling a tuner outage
 * from a refused batch.
 */
public final class TunerClient implements AutoCloseable {
    public static final String BATCH_ID = "BATCH_ID";
    public static final String CONTEXT = "CONTEXT";
    public static final String POSITIVE = "POSITIVE";
    public static final String EVENT_TIME_MS = "EVENT_TIME_MS";
    public static final String LOSS = "LOSS";
    public static final String STEP = "STEP";
    public static final String APPLIED = "APPLIED";
    public static final String MODEL_VERSION = "MODEL_VERSION";
    static final String INT64 = "INT64";
    static final String BOOL = "BOOL";

    private static final Map<String, String> INPUTS =
            Map.of(BATCH_ID, BYTES, CONTEXT, BYTES, POSITIVE, BYTES, EVENT_TIME_MS, INT64);
    private static final Map<String, String> OUTPUTS =
            Map.of(LOSS, FP32, STEP, INT64, APPLIED, BOOL, MODEL_VERSION, BYTES);

    private final TritonClientConfig config;
    private final ManagedChannel channel;
    private final GRPCInferenceServiceGrpc.GRPCInferenceServiceStub asyncStub;
    private final GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub blockingStub;

    /** Opens a channel; connecting happens on the first call. */
    public TunerClient(TritonClientConfig config) {
        this.config = config;
        this.channel = TritonEmbeddingClient.openChannel(config);
        this.asyncStub = GRPCInferenceServiceGrpc.newStub(channel);
        this.blockingStub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
    }

    public TritonClientConfig config() {
        return config;
    }

    /**
     * Checks that the server is live and ready, the tuner model is ready and its metadata declares
     * the contract's tensors and datatypes.
     *
     * @throws InferenceException naming the endpoint, the model, what failed and what to do
     */
    public void checkReady() {
        if (!call("ServerLive", () -> stub().serverLive(ServerLiveRequest.getDefaultInstance()).getLive())) {
            throw new InferenceException(where() + " is not live", true);
        }
        if (!call("ServerReady", () -> stub().serverReady(ServerReadyRequest.getDefaultInstance()).getReady())) {
            throw new InferenceException(where() + " is live but not ready (still loading models?)", true);
        }
        ModelReadyRequest ready = ModelReadyRequest.newBuilder().setName(config.modelName()).build();
        if (!call("ModelReady", () -> stub().modelReady(ready).getReady())) {
            throw new InferenceException(where() + ": " + model() + " is not ready; load it on that"
                    + " Triton (tritonserver --load-model=" + config.modelName() + ", or serve_pytriton.py"
                    + " --tuner) or point fine-tune.tuner.endpoint / fine-tune.tuner.model at the one"
                    + " that serves it", false);
        }
        ModelMetadataRequest request = ModelMetadataRequest.newBuilder().setName(config.modelName()).build();
        ModelMetadataResponse metadata = call("ModelMetadata", () -> stub().modelMetadata(request));
        checkTensors("input", metadata.getInputsList(), INPUTS);
        checkTensors("output", metadata.getOutputsList(), OUTPUTS);
    }

    private void checkTensors(String kind, List<ModelMetadataResponse.TensorMetadata> declared,
            Map<String, String> expected) {
        expected.forEach((name, datatype) -> {
            ModelMetadataResponse.TensorMetadata tensor = declared.stream()
                    .filter(t -> t.getName().equals(name)).findFirst()
                    .orElseThrow(() -> new InferenceException(where() + ": " + model() + " has no " + kind
                            + " '" + name + "' (it has " + declared.stream()
                                    .map(ModelMetadataResponse.TensorMetadata::getName).toList()
                            + "): is fine-tune.tuner.model the tuner?", false));
            if (!tensor.getDatatype().equals(datatype)) {
                throw new InferenceException(where() + ": " + model() + " " + kind + " '" + name + "' is "
                        + tensor.getDatatype() + ", expected " + datatype, false);
            }
        });
    }

    /** Sends one training step; the future completes on a gRPC thread. */
    public CompletableFuture<TrainingResult> train(TrainingBatch batch) {
        int n = batch.examples.size();
        ModelInferRequest request = ModelInferRequest.newBuilder()
                .setModelName(config.modelName())
                .setId(batch.batchId)
                .addInputs(input(BATCH_ID, BYTES, 1))
                .addInputs(input(CONTEXT, BYTES, n))
                .addInputs(input(POSITIVE, BYTES, n))
                .addInputs(input(EVENT_TIME_MS, INT64, n))
                .addRawInputContents(InferenceContract.encodeBytesTensor(List.of(batch.batchId)))
                .addRawInputContents(InferenceContract.encodeBytesTensor(
                        batch.examples.stream().map(e -> e.context).toList()))
                .addRawInputContents(InferenceContract.encodeBytesTensor(
                        batch.examples.stream().map(e -> e.positive).toList()))
                .addRawInputContents(encodeInt64(batch.examples.stream().mapToLong(e -> e.eventTimeMs).toArray()))
                .build();
        CompletableFuture<TrainingResult> result = new CompletableFuture<>();
        asyncStub.withDeadlineAfter(config.requestTimeout().toNanos(), TimeUnit.NANOSECONDS)
                .modelInfer(request, new StreamObserver<>() {
                    @Override
                    public void onNext(ModelInferResponse response) {
                        try {
                            result.complete(toResult(batch, response));
                        } catch (RuntimeException e) {
                            result.completeExceptionally(e);
                        }
                    }

                    @Override
                    public void onError(Throwable error) {
                        result.completeExceptionally(failure("ModelInfer", error));
                    }

                    @Override
                    public void onCompleted() {
                        // unary call: onNext already completed the future
                    }
                });
        return result;
    }

    private static ModelInferRequest.InferInputTensor input(String name, String datatype, int n) {
        return ModelInferRequest.InferInputTensor.newBuilder().setName(name).setDatatype(datatype).addShape(n).build();
    }

    private static ByteString encodeInt64(long[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asLongBuffer().put(values);
        return UnsafeByteOperations.unsafeWrap(buffer);
    }

    private TrainingResult toResult(TrainingBatch batch, ModelInferResponse response) {
        float loss = output(response, LOSS, FP32, 4).getFloat();
        long step = output(response, STEP, INT64, 8).getLong();
        boolean applied = output(response, APPLIED, BOOL, 1).get() != 0;
        ByteBuffer version = output(response, MODEL_VERSION, BYTES, -1);
        List<String> versions = InferenceContract.decodeBytesTensor(ByteString.copyFrom(version));
        if (versions.size() != 1) {
            throw badResponse("returned " + versions.size() + " '" + MODEL_VERSION + "' elements, expected 1");
        }
        return new TrainingResult(batch.batchId, batch.examples.size(), batch.maxEventTimeMs(), loss, step,
                applied, versions.get(0));
    }

    /**
     * The raw bytes of one output (little-endian), from {@code raw_output_contents} or, failing
     * that, re-encoded from the typed contents. {@code width} is the expected byte count, -1 for BYTES.
     */
    private ByteBuffer output(ModelInferResponse response, String name, String datatype, int width) {
        int index = -1;
        for (int i = 0; i < response.getOutputsCount(); i++) {
            if (response.getOutputs(i).getName().equals(name)) {
                index = i;
            }
        }
        if (index < 0) {
            throw badResponse("has no output '" + name + "'");
        }
        ModelInferResponse.InferOutputTensor tensor = response.getOutputs(index);
        if (!tensor.getDatatype().equals(datatype)) {
            throw badResponse("returned '" + name + "' as " + tensor.getDatatype() + ", expected " + datatype);
        }
        ByteBuffer raw;
        if (response.getRawOutputContentsCount() > index) {
            raw = response.getRawOutputContents(index).asReadOnlyByteBuffer();
        } else {
            raw = typedContents(tensor);
        }
        raw.order(ByteOrder.LITTLE_ENDIAN);
        if (width > 0 && raw.remaining() != width) {
            throw badResponse("returned " + raw.remaining() + " bytes for '" + name + "', expected " + width);
        }
        return raw;
    }

    private static ByteBuffer typedContents(ModelInferResponse.InferOutputTensor tensor) {
        var contents = tensor.getContents();
        ByteBuffer out;
        switch (tensor.getDatatype()) {
            case FP32 -> {
                out = ByteBuffer.allocate(4 * contents.getFp32ContentsCount()).order(ByteOrder.LITTLE_ENDIAN);
                contents.getFp32ContentsList().forEach(out::putFloat);
            }
            case INT64 -> {
                out = ByteBuffer.allocate(8 * contents.getInt64ContentsCount()).order(ByteOrder.LITTLE_ENDIAN);
                contents.getInt64ContentsList().forEach(out::putLong);
            }
            case BOOL -> {
                out = ByteBuffer.allocate(contents.getBoolContentsCount());
                contents.getBoolContentsList().forEach(b -> out.put((byte) (b ? 1 : 0)));
            }
            default -> {
                return InferenceContract.encodeBytesTensor(contents.getBytesContentsList().stream()
                        .map(ByteString::toStringUtf8).toList()).asReadOnlyByteBuffer();
            }
        }
        return out.flip();
    }

    @Override
    public void close() {
        TritonEmbeddingClient.closeChannel(channel);
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
        Status status = Status.fromThrowable(error);
        String detail = status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription());
        if (status.getCode() == Status.Code.UNAVAILABLE) {
            // the retry policy (AsyncTrainFunction's backoff) sets the pace, not gRPC's reconnect backoff
            channel.resetConnectBackoff();
            return new InferenceException("cannot reach the tuner's Triton at " + config.endpoint() + " ("
                    + model() + "): " + detail + "; is it running? (fine-tune.tuner.endpoint)", true, error);
        }
        return new InferenceException(where() + ": " + rpc + " for " + model() + " failed: " + detail,
                InferenceException.isTransient(status.getCode()), error);
    }

    private InferenceException badResponse(String problem) {
        return new InferenceException(where() + ": " + model() + " " + problem, false);
    }

    private String where() {
        return "Triton at " + config.endpoint();
    }

    private String model() {
        return "tuner model '" + config.modelName() + "'";
    }
}
