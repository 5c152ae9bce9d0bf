package dev.interestgraph.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import dev.interestgraph.embed.EmbeddingBatch;
import dev.interestgraph.inference.v2.GRPCInferenceServiceGrpc;
import dev.interestgraph.inference.v2.InferTensorContents;
import dev.interestgraph.inference.v2.ModelInferRequest;
import dev.interestgraph.inference.v2.ModelInferResponse;
import dev.interestgraph.inference.v2.ModelMetadataRequest;
import dev.interestgraph.inference.v2.ModelMetadataResponse;
import dev.interestgraph.inference.v2.ModelReadyRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The embedded server and the Triton client, talking real gRPC over loopback. */
class EmbeddedInferenceServerTest {
    private static MiniLmEncoder encoder;
    private static EmbeddedInferenceServer server;
    private static TritonEmbeddingClient client;
    private static ManagedChannel rawChannel;
    private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub rawStub;

    @BeforeAll
    static void start() {
        encoder = MiniLmEncoder.load();
        server = EmbeddedInferenceServer.builder().encoder(encoder).build();
        client = new TritonEmbeddingClient(config(server.endpoint()).build());
        rawChannel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        rawStub = GRPCInferenceServiceGrpc.newBlockingStub(rawChannel);
    }

    @AfterAll
    static void stop() {
        rawChannel.shutdownNow();
        client.close();
        server.close();
        encoder.close();
    }

    static TritonClientConfig.Builder config(String endpoint) {
        return TritonClientConfig.builder().endpoint(endpoint).requestTimeout(Duration.ofSeconds(30));
    }

    @Test
    void checkReadyPassesAndEmbeddingsEqualTheEncoders() throws Exception {
        List<String> texts = List.of("wireless noise cancelling headphones", "", "日本語のテキスト", "a cat sits on the mat");

        client.checkReady();
        EmbeddingBatch batch = client.embed(texts).get(30, TimeUnit.SECONDS);

        float[][] expected = encoder.encode(texts);
        assertThat(batch.size()).isEqualTo(texts.size());
        assertThat(batch.modelVersion()).isEqualTo("1");
        for (int i = 0; i < texts.size(); i++) {
            assertThat(batch.vectors().get(i)).containsExactly(expected[i], within(1e-6f));
        }
        assertThat(client.dimension()).isEqualTo(384);
    }

    @Test
    void anExplicitVersionIsServedAndAnUnknownOneIsNotReady() throws Exception {
        try (TritonEmbeddingClient versioned = new TritonEmbeddingClient(config(server.endpoint()).modelVersion("1").build());
                TritonEmbeddingClient missing = new TritonEmbeddingClient(config(server.endpoint()).modelVersion("2").build())) {
            versioned.checkReady();
            assertThat(versioned.embed(List.of("x")).get(30, TimeUnit.SECONDS).modelVersion()).isEqualTo("1");

            assertThatThrownBy(missing::checkReady)
                    .isInstanceOf(InferenceException.class)
                    .hasMessageContaining("model 'item_encoder' version 2 is not ready");
        }
    }

    @Test
    void anEmptyBatchNeedsNoCall() throws Exception {
        EmbeddingBatch batch = client.embed(List.of()).get(1, TimeUnit.SECONDS);

        assertThat(batch.size()).isZero();
        assertThat(batch.modelVersion()).isEqualTo("1");
    }

    @Test
    void bytesContentsAreAcceptedAndTheAnswerIsRawFp32() {
        List<String> texts = List.of("first text", "second text");
        ModelInferRequest request = ModelInferRequest.newBuilder()
                .setModelName("item_encoder").setId("req-42")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder()
                        .setName("TEXT").setDatatype("BYTES").addShape(2)
                        .setContents(InferTensorContents.newBuilder()
                                .addBytesContents(ByteString.copyFromUtf8(texts.get(0)))
                                .addBytesContents(ByteString.copyFromUtf8(texts.get(1)))))
                .build();

        ModelInferResponse response = rawStub.modelInfer(request);

        assertThat(response.getId()).isEqualTo("req-42");
        assertThat(response.getModelName()).isEqualTo("item_encoder");
        assertThat(response.getModelVersion()).isEqualTo("1");
        assertThat(response.getOutputs(0).getName()).isEqualTo("EMBEDDING");
        assertThat(response.getOutputs(0).getDatatype()).isEqualTo("FP32");
        assertThat(response.getOutputs(0).getShapeList()).containsExactly(2L, 384L);
        float[][] vectors = InferenceContract.decodeFp32Tensor(response.getRawOutputContents(0), 2, 384);
        float[][] expected = encoder.encode(texts);
        assertThat(vectors[0]).containsExactly(expected[0], within(1e-6f));
        assertThat(vectors[1]).containsExactly(expected[1], within(1e-6f));
    }

    @Test
    void rawInputWithTheBatchingShapeIsAccepted() {
        ModelInferResponse response = rawStub.modelInfer(request("TEXT", "BYTES", List.of("a", "b", "c"))
                .setInputs(0, input("TEXT", "BYTES").addShape(3).addShape(1))
                .build());

        assertThat(response.getOutputs(0).getShapeList()).containsExactly(3L, 384L);
    }

    @Test
    void metadataDescribesTheContract() {
        ModelMetadataResponse metadata = rawStub.modelMetadata(
                ModelMetadataRequest.newBuilder().setName("item_encoder").build());

        assertThat(metadata.getVersionsList()).containsExactly("1");
        assertThat(metadata.getInputs(0).getName()).isEqualTo("TEXT");
        assertThat(metadata.getInputs(0).getDatatype()).isEqualTo("BYTES");
        assertThat(metadata.getInputs(0).getShapeList()).containsExactly(-1L);
        assertThat(metadata.getOutputs(0).getName()).isEqualTo("EMBEDDING");
        assertThat(metadata.getOutputs(0).getDatatype()).isEqualTo("FP32");
        assertThat(metadata.getOutputs(0).getShapeList()).containsExactly(-1L, 384L);
        assertThat(rawStub.modelReady(ModelReadyRequest.newBuilder().setName("item_encoder").build()).getReady())
                .isTrue();
        assertThat(rawStub.modelReady(ModelReadyRequest.newBuilder().setName("other").build()).getReady())
                .isFalse();
    }

    @Test
    void badRequestsGetProperStatuses() {
        assertStatus(() -> rawStub.modelInfer(request("TEXT", "BYTES", List.of("x")).setModelName("nope").build()),
                Status.Code.NOT_FOUND, "'nope'");
        assertStatus(() -> rawStub.modelMetadata(ModelMetadataRequest.newBuilder().setName("nope").build()),
                Status.Code.NOT_FOUND, "'nope'");
        assertStatus(() -> rawStub.modelInfer(request("TEXT", "BYTES", List.of("x")).setModelVersion("7").build()),
                Status.Code.NOT_FOUND, "version 7");
        assertStatus(() -> rawStub.modelInfer(request("INPUT_IDS", "BYTES", List.of("x")).build()),
                Status.Code.INVALID_ARGUMENT, "unexpected input 'INPUT_IDS'");
        assertStatus(() -> rawStub.modelInfer(request("TEXT", "INT64", List.of("x")).build()),
                Status.Code.INVALID_ARGUMENT, "datatype INT64");
        assertStatus(() -> rawStub.modelInfer(request("TEXT", "BYTES", List.of("x", "y"))
                        .setInputs(0, input("TEXT", "BYTES").addShape(3)).build()),
                Status.Code.INVALID_ARGUMENT, "carries 2 elements");
        ByteString truncated = InferenceContract.encodeBytesTensor(List.of("hello")).substring(0, 6);
        assertStatus(() -> rawStub.modelInfer(request("TEXT", "BYTES", List.of())
                        .setRawInputContents(0, truncated).build()),
                Status.Code.INVALID_ARGUMENT, "malformed");
    }

    @Test
    void anUnknownModelFailsCheckReadyNamingModelAndEndpoint() {
        try (TritonEmbeddingClient wrong = new TritonEmbeddingClient(config(server.endpoint()).modelName("foo").build())) {
            assertThatThrownBy(wrong::checkReady)
                    .isInstanceOf(InferenceException.class)
                    .hasMessageContaining("Triton at " + server.endpoint())
                    .hasMessageContaining("model 'foo' is not ready")
                    .matches(e -> !((InferenceException) e).retryable(), "not retryable");

            CompletableFuture<EmbeddingBatch> future = wrong.embed(List.of("x"));
            assertThatThrownBy(() -> future.get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause()
                    .isInstanceOf(InferenceException.class)
                    .hasMessageContaining("NOT_FOUND")
                    .hasMessageContaining("'foo'")
                    .hasMessageContaining(server.endpoint());
        }
    }

    @Test
    void nothingListeningMeansCannotReach() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String endpoint = "127.0.0.1:" + port;
        try (TritonEmbeddingClient nowhere = new TritonEmbeddingClient(config(endpoint).build())) {
            assertThatThrownBy(nowhere::checkReady)
                    .isInstanceOf(InferenceException.class)
                    .hasMessageContaining("cannot reach Triton at " + endpoint)
                    .hasMessageContaining("UNAVAILABLE")
                    .matches(e -> ((InferenceException) e).retryable(), "retryable");
        }
    }

    @Test
    void concurrentRequestsAreAllAnsweredCorrectly() throws Exception {
        int threads = 4;
        int requestsPerThread = 8;
        ExecutorService callers = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<String>>> mismatches = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                mismatches.add(callers.submit(() -> {
                    List<String> wrong = new ArrayList<>();
                    List<CompletableFuture<EmbeddingBatch>> pending = new ArrayList<>();
                    List<List<String>> sent = new ArrayList<>();
                    for (int r = 0; r < requestsPerThread; r++) {
                        List<String> texts = List.of("thread " + thread + " request " + r, "shared text", "item " + r * 7);
                        sent.add(texts);
                        pending.add(client.embed(texts));
                    }
                    for (int r = 0; r < requestsPerThread; r++) {
                        EmbeddingBatch batch = pending.get(r).get(60, TimeUnit.SECONDS);
                        float[][] expected = encoder.encode(sent.get(r));
                        for (int i = 0; i < expected.length; i++) {
                            if (MiniLmEncoderTest.cosine(expected[i], batch.vectors().get(i)) < 0.999999) {
                                wrong.add(sent.get(r).get(i));
                            }
                        }
                    }
                    return wrong;
                }));
            }
            for (Future<List<String>> result : mismatches) {
                assertThat(result.get(120, TimeUnit.SECONDS)).isEmpty();
            }
        } finally {
            callers.shutdownNow();
        }
    }

    private static ModelInferRequest.InferInputTensor.Builder input(String name, String datatype) {
        return ModelInferRequest.InferInputTensor.newBuilder().setName(name).setDatatype(datatype);
    }

    private static ModelInferRequest.Builder request(String inputName, String datatype, List<String> texts) {
        return ModelInferRequest.newBuilder()
                .setModelName("item_encoder")
                .addInputs(input(inputName, datatype).addShape(texts.size()))
                .addRawInputContents(InferenceContract.encodeBytesTensor(texts));
    }

    private static void assertStatus(Runnable call, Status.Code code, String messagePart) {
        assertThatThrownBy(call::run)
                .isInstanceOf(StatusRuntimeException.class)
                .satisfies(e -> {
                    Status status = ((StatusRuntimeException) e).getStatus();
                    assertThat(status.getCode()).isEqualTo(code);
                    assertThat(status.getDescription()).contains(messagePart);
                });
    }
}
