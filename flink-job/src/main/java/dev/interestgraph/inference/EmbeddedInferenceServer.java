package dev.interestgraph.inference;

import static dev.interestgraph.inference.InferenceContract.BYTES;
import static dev.interestgraph.inference.InferenceContract.FP32;
import static dev.interestgraph.inference.InferenceContract.INPUT_TEXT;
import static dev.interestgraph.inference.InferenceContract.MODEL_NAME;
import static dev.interestgraph.inference.InferenceContract.OUTPUT_EMBEDDING;

import com.google.protobuf.ByteString;
import dev.interestgraph.inference.v2.DataType;
import dev.interestgraph.inference.v2.GRPCInferenceServiceGrpc;
import dev.interestgraph.inference.v2.ModelConfig;
import dev.interestgraph.inference.v2.ModelConfigRequest;
import dev.interestgraph.inference.v2.ModelConfigResponse;
import dev.interestgraph.inference.v2.ModelInput;
import dev.interestgraph.inference.v2.ModelInstanceGroup;
import dev.interestgraph.inference.v2.ModelOutput;
import dev.interestgraph.inference.v2.ModelStatisticsRequest;
import dev.interestgraph.inference.v2.ModelStatisticsResponse;
import dev.interestgraph.inference.v2.ModelVersionPolicy;
import dev.interestgraph.inference.v2.ModelInferRequest;
import dev.interestgraph.inference.v2.ModelInferResponse;
import dev.interestgraph.inference.v2.ModelMetadataRequest;
import dev.interestgraph.inference.v2.ModelMetadataResponse;
import dev.interestgraph.inference.v2.ModelReadyRequest;
import dev.interestgraph.inference.v2.ModelReadyResponse;
import dev.interestgraph.inference.v2.ServerLiveRequest;
import dev.interestgraph.inference.v2.ServerLiveResponse;
import dev.interestgraph.inference.v2.ServerMetadataRequest;
import dev.interestgraph.inference.v2.ServerMetadataResponse;
import dev.interestgraph.inference.v2.ServerReadyRequest;
import dev.interestgraph.inference.v2.ServerReadyResponse;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.stub.StreamObserver;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A gRPC server in the JVM that speaks the Open Inference Protocol as Triton does and serves
 * all-MiniLM-L6-v2 as model {@value InferenceContract#MODEL_NAME}, version {@value #MODEL_VERSION}
 * — so that the local stack and the tests exercise the very client that talks to a real Triton.
 *
 * <p>With a {@linkplain Builder#modelRepository model repository} it also serves the versions the
 * fine-tuning tuner publishes there ({@code <repository>/item_encoder/<N>/all-minilm-l6-v2.onnx}:
 * the fine-tuned encoder as a complete ONNX model, see {@link ItemEncoderVersions}), picked up while
 * the server runs. As in Triton with {@code version_policy: latest}, a request without a version
 * gets the highest one, and a request for a version that does not exist fails with NOT_FOUND.
 *
 * <p>Besides liveness, readiness, metadata and inference it answers {@code ModelConfig} (the
 * configuration this server runs the model with) and {@code ModelStatistics} (per version:
 * requests, texts, success/failure counts and times, by batch size), which Triton's clients and
 * perf_analyzer call.
 *
 * <p>Binds to 127.0.0.1 only. Cheap calls (liveness, readiness, metadata) are answered on the
 * gRPC transport threads; inference runs on a pool of worker threads, one per core, each calling
 * the shared {@link MiniLmEncoder}. TLS is optional: give a PEM certificate chain and a PEM
 * (PKCS#8) private key.
 *
 * <pre>{@code
 * try (EmbeddedInferenceServer server = EmbeddedInferenceServer.builder().build()) {
 *     TritonClientConfig config = TritonClientConfig.builder().endpoint(server.endpoint()).build();
 *     ...
 * }
 * }</pre>
 */
public final class EmbeddedInferenceServer implements AutoCloseable {
    public static final String MODEL_VERSION = "1";
    /** Texts per request are unbounded by the protocol; this lets batches of several thousand through. */
    static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

    private final Server server;
    private final ExecutorService workers;
    private final MiniLmEncoder encoder;
    private final boolean ownsEncoder;
    private final ItemEncoderVersions versions;
    private final InferenceStatistics statistics = new InferenceStatistics();
    private final int workerThreads;

    private EmbeddedInferenceServer(Builder builder) throws IOException {
        this.ownsEncoder = builder.encoder == null;
        this.encoder = ownsEncoder ? MiniLmEncoder.load() : builder.encoder;
        this.versions = new ItemEncoderVersions(builder.modelRepository, encoder);
        this.workerThreads = builder.workerThreads;
        this.workers = Executors.newFixedThreadPool(builder.workerThreads, daemonThreads());
        ServerCredentials credentials = builder.certChain == null
                ? InsecureServerCredentials.create()
                : TlsServerCredentials.create(builder.certChain, builder.privateKey);
        Server built = NettyServerBuilder
                .forAddress(new InetSocketAddress("127.0.0.1", builder.port), credentials)
                // Only non-blocking work runs on the transport threads; inference is handed off.
                .directExecutor()
                // a restarted server can take its port back while old connections linger
                .withOption(ChannelOption.SO_REUSEADDR, true)
                .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                .addService(new Service())
                .build();
        try {
            this.server = built.start();
        } catch (IOException | RuntimeException e) {
            workers.shutdownNow();
            if (ownsEncoder) {
                encoder.close();
            }
            throw e;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The port the server listens on (the chosen one when built with port 0). */
    public int port() {
        return server.getPort();
    }

    /** {@code 127.0.0.1:<port>}, ready for {@link TritonClientConfig.Builder#endpoint}. */
    public String endpoint() {
        return "127.0.0.1:" + port();
    }

    /** Stops accepting calls, lets running ones finish for up to five seconds, then frees the model. */
    @Override
    public void close() {
        server.shutdown();
        workers.shutdown();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
            if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            workers.shutdownNow();
            Thread.currentThread().interrupt();
        }
        versions.close();
        if (ownsEncoder) {
            encoder.close();
        }
    }

    private static ThreadFactory daemonThreads() {
        AtomicInteger counter = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, "inference-worker-" + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    /**
     * The vectors this server answers for the item_encoder version in {@code versionDir}
     * ({@code <repository>/item_encoder/<N>}): that version's own model on {@code texts}
     * (key → text), by key.
     */
    public static Map<String, float[]> versionVectors(Path versionDir, Map<String, String> texts) {
        return ItemEncoderVersions.encodeWith(versionDir, texts);
    }

    /** Options for {@link EmbeddedInferenceServer}. */
    public static final class Builder {
        private int port;
        private MiniLmEncoder encoder;
        private int workerThreads = Runtime.getRuntime().availableProcessors();
        private File certChain;
        private File privateKey;
        private Path modelRepository;

        private Builder() {}

        /**
         * Also serves the {@value InferenceContract#MODEL_NAME} versions published into this Triton
         * model repository ({@code <repository>/item_encoder/<N>/all-minilm-l6-v2.onnx}), including those
         * published after the start. The folder need not exist yet; null serves version 1 only.
         */
        public Builder modelRepository(Path modelRepository) {
            this.modelRepository = modelRepository;
            return this;
        }

        /** The port to bind on 127.0.0.1; 0 (the default) picks a free one. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0..65535, got " + port);
            }
            this.port = port;
            return this;
        }

        /** Serve this encoder instead of loading one; the caller keeps ownership and closes it. */
        public Builder encoder(MiniLmEncoder encoder) {
            this.encoder = encoder;
            return this;
        }

        /** Inference threads; defaults to the number of available cores. */
        public Builder workerThreads(int workerThreads) {
            if (workerThreads < 1) {
                throw new IllegalArgumentException("workerThreads must be at least 1, got " + workerThreads);
            }
            this.workerThreads = workerThreads;
            return this;
        }

        /** Serves TLS with a PEM certificate chain and its PEM (PKCS#8) private key. */
        public Builder tls(File certChain, File privateKey) {
            for (File file : List.of(certChain, privateKey)) {
                if (!file.canRead()) {
                    throw new IllegalArgumentException("TLS file " + file + " does not exist or is not readable");
                }
            }
            this.certChain = certChain;
            this.privateKey = privateKey;
            return this;
        }

        /** Loads the model (unless one was given) and starts listening. */
        public EmbeddedInferenceServer build() {
            try {
                return new EmbeddedInferenceServer(this);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the embedded inference server on 127.0.0.1:" + port, e);
            }
        }
    }

    /** GRPCInferenceService for the one model this server holds. */
    private final class Service extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {

        @Override
        public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> response) {
            reply(response, ServerLiveResponse.newBuilder().setLive(true).build());
        }

        @Override
        public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> response) {
            reply(response, ServerReadyResponse.newBuilder().setReady(true).build());
        }

        @Override
        public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> response) {
            reply(response, ServerMetadataResponse.newBuilder()
                    .setName("interest-graph-embedded-inference")
                    .setVersion(MODEL_VERSION)
                    .build());
        }

        @Override
        public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> response) {
            // Like Triton: an unknown model or version is simply not ready, not an error.
            boolean ready;
            try {
                ready = request.getName().equals(MODEL_NAME) && versions.resolve(request.getVersion()).isPresent();
            } catch (UncheckedIOException e) {
                response.onError(unreadableRepository(e));
                return;
            }
            reply(response, ModelReadyResponse.newBuilder().setReady(ready).build());
        }

        @Override
        public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> response) {
            List<String> available;
            try {
                checkModel(request.getName(), request.getVersion());
                available = versions.available().stream().map(String::valueOf).toList();
            } catch (StatusRuntimeException e) {
                response.onError(e);
                return;
            } catch (UncheckedIOException e) {
                response.onError(unreadableRepository(e));
                return;
            }
            reply(response, ModelMetadataResponse.newBuilder()
                    .setName(MODEL_NAME)
                    .addAllVersions(available)
                    .setPlatform("onnxruntime_onnx")
                    .addInputs(ModelMetadataResponse.TensorMetadata.newBuilder()
                            .setName(INPUT_TEXT).setDatatype(BYTES).addShape(-1))
                    .addOutputs(ModelMetadataResponse.TensorMetadata.newBuilder()
                            .setName(OUTPUT_EMBEDDING).setDatatype(FP32)
                            .addShape(-1).addShape(MiniLmEncoder.DIMENSION))
                    .build());
        }

        @Override
        public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> response) {
            List<String> texts;
            int version;
            try {
                version = checkModel(request.getModelName(), request.getModelVersion());
                texts = readTexts(request);
            } catch (StatusRuntimeException e) {
                response.onError(e);
                return;
            } catch (UncheckedIOException e) {
                response.onError(unreadableRepository(e));
                return;
            }
            try {
                workers.execute(() -> infer(request.getId(), version, texts, response));
            } catch (RejectedExecutionException e) {
                response.onError(Status.UNAVAILABLE.withDescription("server is shutting down").asRuntimeException());
            }
        }

        @Override
        public void modelConfig(ModelConfigRequest request, StreamObserver<ModelConfigResponse> response) {
            try {
                checkModel(request.getName(), request.getVersion());
            } catch (StatusRuntimeException e) {
                response.onError(e);
                return;
            } catch (UncheckedIOException e) {
                response.onError(unreadableRepository(e));
                return;
            }
            reply(response, ModelConfigResponse.newBuilder().setConfig(config()).build());
        }

        @Override
        public void modelStatistics(ModelStatisticsRequest request,
                StreamObserver<ModelStatisticsResponse> response) {
            // Triton: a blank name means every model, a blank version every loaded version
            List<Integer> selected;
            try {
                if (!request.getName().isEmpty() && !request.getName().equals(MODEL_NAME)) {
                    throw Status.NOT_FOUND.withDescription("requested model '" + request.getName()
                            + "' is not found").asRuntimeException();
                }
                selected = request.getVersion().isEmpty()
                        ? List.copyOf(versions.available())
                        : List.of(checkModel(MODEL_NAME, request.getVersion()));
            } catch (StatusRuntimeException e) {
                response.onError(e);
                return;
            } catch (UncheckedIOException e) {
                response.onError(unreadableRepository(e));
                return;
            }
            ModelStatisticsResponse.Builder out = ModelStatisticsResponse.newBuilder();
            for (int version : selected) {
                out.addModelStats(statistics.of(MODEL_NAME, version));
            }
            reply(response, out.build());
        }

        private void infer(String id, int version, List<String> texts, StreamObserver<ModelInferResponse> response) {
            float[][] vectors;
            long started = System.nanoTime();
            try {
                // on the worker thread: the first request of a version opens its model
                vectors = versions.encode(version, texts);
            } catch (NoSuchFileException e) {
                statistics.failed(version, System.nanoTime() - started);
                response.onError(Status.NOT_FOUND.withDescription("Request for unknown model: '" + MODEL_NAME
                        + "' version " + version + " is not found (its folder was removed)").asRuntimeException());
                return;
            } catch (IOException e) {
                statistics.failed(version, System.nanoTime() - started);
                response.onError(Status.INTERNAL.withDescription("cannot load model '" + MODEL_NAME + "' version "
                        + version + ": " + e.getMessage()).withCause(e).asRuntimeException());
                return;
            } catch (RuntimeException e) {
                statistics.failed(version, System.nanoTime() - started);
                response.onError(Status.INTERNAL.withDescription("inference failed: " + e.getMessage())
                        .withCause(e).asRuntimeException());
                return;
            }
            statistics.succeeded(version, texts.size(), System.nanoTime() - started);
            reply(response, ModelInferResponse.newBuilder()
                    .setModelName(MODEL_NAME)
                    .setModelVersion(Integer.toString(version))
                    .setId(id)
                    .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder()
                            .setName(OUTPUT_EMBEDDING).setDatatype(FP32)
                            .addShape(vectors.length).addShape(MiniLmEncoder.DIMENSION))
                    .addRawOutputContents(InferenceContract.encodeFp32Tensor(vectors, MiniLmEncoder.DIMENSION))
                    .build());
        }
    }

    /**
     * The configuration this server runs item_encoder with, in Triton's terms: no batching of its
     * own (the input is [-1], the output [-1, 384]; clients batch), every published version
     * servable, one CPU instance per worker thread, ONNX Runtime.
     */
    private ModelConfig config() {
        return ModelConfig.newBuilder()
                .setName(MODEL_NAME)
                .setPlatform("onnxruntime_onnx")
                .setBackend("onnxruntime")
                .setVersionPolicy(ModelVersionPolicy.newBuilder().setAll(ModelVersionPolicy.All.getDefaultInstance()))
                .setMaxBatchSize(0)
                .addInput(ModelInput.newBuilder().setName(INPUT_TEXT).setDataType(DataType.TYPE_STRING).addDims(-1))
                .addOutput(ModelOutput.newBuilder().setName(OUTPUT_EMBEDDING).setDataType(DataType.TYPE_FP32)
                        .addDims(-1).addDims(MiniLmEncoder.DIMENSION))
                .addInstanceGroup(ModelInstanceGroup.newBuilder().setName(MODEL_NAME)
                        .setKind(ModelInstanceGroup.Kind.KIND_CPU).setCount(workerThreads))
                .setDefaultModelFilename(MiniLmEncoder.MODEL_FILE)
                .build();
    }

    /** The version the request gets (blank: the highest), or NOT_FOUND in Triton's words. */
    private int checkModel(String name, String version) {
        if (!name.equals(MODEL_NAME)) {
            throw Status.NOT_FOUND.withDescription("Request for unknown model: '" + name
                    + "' is not found; this server serves '" + MODEL_NAME + "'").asRuntimeException();
        }
        return versions.resolve(version).orElseThrow(() -> Status.NOT_FOUND.withDescription(
                "Request for unknown model: '" + name + "' version " + version
                        + " is not found; available versions: " + versions.available()).asRuntimeException());
    }

    private static StatusRuntimeException unreadableRepository(UncheckedIOException e) {
        return Status.INTERNAL.withDescription(e.getMessage() + ": " + e.getCause().getMessage())
                .withCause(e).asRuntimeException();
    }

    /** Validates the request's single TEXT input and decodes it from raw or typed contents. */
    private static List<String> readTexts(ModelInferRequest request) {
        if (request.getInputsCount() != 1) {
            throw invalid("expected exactly 1 input '" + INPUT_TEXT + "', got " + request.getInputsCount());
        }
        ModelInferRequest.InferInputTensor input = request.getInputs(0);
        if (!input.getName().equals(INPUT_TEXT)) {
            throw invalid("unexpected input '" + input.getName() + "', model '" + MODEL_NAME
                    + "' expects '" + INPUT_TEXT + "'");
        }
        if (!input.getDatatype().equals(BYTES)) {
            throw invalid("input '" + INPUT_TEXT + "' has datatype " + input.getDatatype()
                    + ", expected " + BYTES);
        }
        for (ModelInferRequest.InferRequestedOutputTensor output : request.getOutputsList()) {
            if (!output.getName().equals(OUTPUT_EMBEDDING)) {
                throw invalid("unexpected requested output '" + output.getName() + "', model '"
                        + MODEL_NAME + "' has only '" + OUTPUT_EMBEDDING + "'");
            }
        }
        // [n] is the contract; [n, 1] is what clients of a batching Triton config send.
        List<Long> shape = input.getShapeList();
        boolean shapeOk = shape.size() == 1 || (shape.size() == 2 && shape.get(1) == 1);
        if (!shapeOk || shape.get(0) < 0) {
            throw invalid("input '" + INPUT_TEXT + "' has shape " + shape + ", expected [n] or [n, 1]");
        }
        boolean raw = request.getRawInputContentsCount() > 0;
        if (raw && input.hasContents()) {
            throw invalid("input '" + INPUT_TEXT + "' has both raw_input_contents and contents; send one");
        }
        List<String> texts;
        if (raw) {
            if (request.getRawInputContentsCount() != 1) {
                throw invalid("expected 1 raw_input_contents entry (one per input), got "
                        + request.getRawInputContentsCount());
            }
            try {
                texts = InferenceContract.decodeBytesTensor(request.getRawInputContents(0));
            } catch (IllegalArgumentException e) {
                throw invalid("raw_input_contents for '" + INPUT_TEXT + "' is malformed: " + e.getMessage());
            }
        } else {
            texts = input.getContents().getBytesContentsList().stream().map(ByteString::toStringUtf8).toList();
        }
        if (texts.size() != shape.get(0)) {
            throw invalid("input '" + INPUT_TEXT + "' has shape " + shape + " but carries "
                    + texts.size() + " elements");
        }
        return texts;
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    private static <T> void reply(StreamObserver<T> response, T message) {
        response.onNext(message);
        response.onCompleted();
    }
}
