package dev.interestgraph.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.interestgraph.embed.EmbeddingBatch;
import dev.interestgraph.testing.FakeTritonService;
import dev.interestgraph.inference.v2.InferTensorContents;
import dev.interestgraph.inference.v2.ModelInferRequest;
import dev.interestgraph.inference.v2.ModelInferResponse;
import dev.interestgraph.inference.v2.ModelMetadataRequest;
import dev.interestgraph.inference.v2.ModelMetadataResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The client against a scripted server that answers what a misconfigured Triton might. */
class TritonEmbeddingClientTest {
    private Server server;
    private TritonEmbeddingClient client;

    /** A server whose answers each test sets; defaults describe a healthy item_encoder. */
    private static final class ScriptedService extends FakeTritonService {
        ModelMetadataResponse metadata = ModelMetadataResponse.newBuilder()
                .setName("item_encoder")
                .addInputs(tensor("TEXT", "BYTES", -1))
                .addOutputs(tensor("EMBEDDING", "FP32", -1, 384))
                .build();
        Function<ModelInferRequest, ModelInferResponse> infer;




        @Override
        public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> response) {
            response.onNext(metadata);
            response.onCompleted();
        }

        @Override
        public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> response) {
            ModelInferResponse answer;
            try {
                answer = infer.apply(request);
            } catch (io.grpc.StatusRuntimeException e) { // a script may answer with an error status
                response.onError(e);
                return;
            }
            response.onNext(answer);
            response.onCompleted();
        }
    }

    private final ScriptedService service = new ScriptedService();

    private TritonEmbeddingClient start(TritonClientConfig.Builder config) throws IOException {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(service).build().start();
        client = new TritonEmbeddingClient(config.endpoint("127.0.0.1:" + server.getPort()).build());
        return client;
    }

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.shutdownNow();
        }
    }

    private static ModelMetadataResponse.TensorMetadata.Builder tensor(String name, String datatype, long... shape) {
        ModelMetadataResponse.TensorMetadata.Builder tensor =
                ModelMetadataResponse.TensorMetadata.newBuilder().setName(name).setDatatype(datatype);
        for (long dim : shape) {
            tensor.addShape(dim);
        }
        return tensor;
    }

    private String endpoint() {
        return "127.0.0.1:" + server.getPort();
    }

    @Test
    void typedFp32ContentsAreReadAndAMissingVersionFallsBackToTheRequestedOne() throws Exception {
        service.infer = request -> {
            InferTensorContents.Builder contents = InferTensorContents.newBuilder();
            for (int i = 0; i < 2 * 3; i++) {
                contents.addFp32Contents(i);
            }
            return ModelInferResponse.newBuilder()
                    .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder()
                            .setName("EMBEDDING").setDatatype("FP32").addShape(2).addShape(3).setContents(contents))
                    .build();
        };
        start(TritonClientConfig.builder().expectedDimension(3).modelVersion("4"));

        EmbeddingBatch batch = client.embed(List.of("a", "b")).get(10, TimeUnit.SECONDS);

        assertThat(batch.vectors().get(0)).containsExactly(0f, 1f, 2f);
        assertThat(batch.vectors().get(1)).containsExactly(3f, 4f, 5f);
        assertThat(batch.modelVersion()).isEqualTo("4");
    }

    @Test
    void theTextsTravelAsOneRawBytesTensor() throws Exception {
        ModelInferRequest[] seen = new ModelInferRequest[1];
        service.infer = request -> {
            seen[0] = request;
            return ModelInferResponse.newBuilder().setModelVersion("9")
                    .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder()
                            .setName("EMBEDDING").setDatatype("FP32").addShape(2).addShape(1))
                    .addRawOutputContents(InferenceContract.encodeFp32Tensor(new float[][] {{1f}, {2f}}, 1))
                    .build();
        };
        start(TritonClientConfig.builder().expectedDimension(1));

        EmbeddingBatch batch = client.embed(List.of("héllo", "")).get(10, TimeUnit.SECONDS);

        assertThat(batch.modelVersion()).isEqualTo("9");
        assertThat(batch.vectors()).containsExactly(new float[] {1f}, new float[] {2f});
        assertThat(seen[0].getModelName()).isEqualTo("item_encoder");
        assertThat(seen[0].getModelVersion()).isEmpty();
        assertThat(seen[0].getInputs(0).getName()).isEqualTo("TEXT");
        assertThat(seen[0].getInputs(0).getDatatype()).isEqualTo("BYTES");
        assertThat(seen[0].getInputs(0).getShapeList()).containsExactly(2L);
        assertThat(InferenceContract.decodeBytesTensor(seen[0].getRawInputContents(0))).containsExactly("héllo", "");
    }

    @Test
    void eachRequestPinsItsModelVersionOnTheWire() throws Exception {
        List<ModelInferRequest> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        service.infer = request -> {
            seen.add(request);
            // answers with the version only when asked for "3": the others fall back to the request's
            return ModelInferResponse.newBuilder()
                    .setModelVersion(request.getModelVersion().equals("3") ? "3" : "")
                    .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder()
                            .setName("EMBEDDING").setDatatype("FP32").addShape(1).addShape(1))
                    .addRawOutputContents(InferenceContract.encodeFp32Tensor(new float[][] {{1f}}, 1))
                    .build();
        };
        start(TritonClientConfig.builder().expectedDimension(1).modelVersion("4"));

        EmbeddingBatch three = client.embed(List.of("a"), "3").get(10, TimeUnit.SECONDS);
        EmbeddingBatch five = client.embed(List.of("b"), "5").get(10, TimeUnit.SECONDS);
        EmbeddingBatch blank = client.embed(List.of("c"), "").get(10, TimeUnit.SECONDS);
        EmbeddingBatch plain = client.embed(List.of("d")).get(10, TimeUnit.SECONDS);
        EmbeddingBatch empty = client.embed(List.of(), "6").get(10, TimeUnit.SECONDS);

        assertThat(seen).extracting(ModelInferRequest::getModelVersion).containsExactly("3", "5", "4", "4");
        assertThat(three.modelVersion()).isEqualTo("3");
        assertThat(five.modelVersion()).isEqualTo("5");
        assertThat(blank.modelVersion()).isEqualTo("4");
        assertThat(plain.modelVersion()).isEqualTo("4");
        assertThat(empty.modelVersion()).isEqualTo("6");
    }

    @Test
    void theServersAnswerWinsOverThePinnedVersionAndFailuresNameIt() throws Exception {
        service.infer = request -> {
            if (request.getModelVersion().equals("9")) {
                throw io.grpc.Status.NOT_FOUND.withDescription("Request for unknown model: 'item_encoder'"
                        + " version 9 is not found").asRuntimeException();
            }
            return ModelInferResponse.newBuilder().setModelVersion("2")
                    .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder()
                            .setName("EMBEDDING").setDatatype("FP32").addShape(1).addShape(1))
                    .addRawOutputContents(InferenceContract.encodeFp32Tensor(new float[][] {{1f}}, 1))
                    .build();
        };
        start(TritonClientConfig.builder().expectedDimension(1));

        assertThat(client.embed(List.of("a"), "1").get(10, TimeUnit.SECONDS).modelVersion()).isEqualTo("2");
        assertThatThrownBy(() -> client.embed(List.of("a"), "9").get(10, TimeUnit.SECONDS))
                .cause()
                .isInstanceOf(InferenceException.class)
                .hasMessageContaining("ModelInfer for model 'item_encoder' version 9 failed: NOT_FOUND");
    }

    @Test
    void aWrongShapeFailsTheFutureClearly() throws Exception {
        service.infer = request -> ModelInferResponse.newBuilder()
                .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder()
                        .setName("EMBEDDING").setDatatype("FP32").addShape(1).addShape(768))
                .addRawOutputContents(InferenceContract.encodeFp32Tensor(new float[1][768], 768))
                .build();
        start(TritonClientConfig.builder());

        assertThatThrownBy(() -> client.embed(List.of("a")).get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(InferenceException.class)
                .hasMessageContaining("Triton at " + endpoint())
                .hasMessageContaining("model 'item_encoder'")
                .hasMessageContaining("shape [1, 768], expected [1, 384]");
    }

    @Test
    void rawBytesThatDoNotMatchTheShapeFailTheFuture() throws Exception {
        service.infer = request -> ModelInferResponse.newBuilder()
                .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder()
                        .setName("EMBEDDING").setDatatype("FP32").addShape(2).addShape(384))
                .addRawOutputContents(InferenceContract.encodeFp32Tensor(new float[1][384], 384))
                .build();
        start(TritonClientConfig.builder());

        assertThatThrownBy(() -> client.embed(List.of("a", "b")).get(10, TimeUnit.SECONDS))
                .cause()
                .hasMessageContaining("malformed 'EMBEDDING'")
                .hasMessageContaining("1536 bytes, expected 3072");
    }

    @Test
    void metadataWithAnotherDimensionFailsCheckReady() throws Exception {
        service.metadata = service.metadata.toBuilder()
                .setOutputs(0, tensor("EMBEDDING", "FP32", -1, 768)).build();
        start(TritonClientConfig.builder().modelName("bert"));

        assertThatThrownBy(client::checkReady)
                .isInstanceOf(InferenceException.class)
                .hasMessage("Triton at " + endpoint() + ": model 'bert' output 'EMBEDDING' has shape [-1, 768],"
                        + " expected last dimension 384");
    }

    @Test
    void metadataWithoutTheEmbeddingOutputFailsCheckReady() throws Exception {
        service.metadata = service.metadata.toBuilder()
                .setOutputs(0, tensor("last_hidden_state", "FP32", -1, -1, 384)).build();
        start(TritonClientConfig.builder());

        assertThatThrownBy(client::checkReady)
                .hasMessageContaining("has no output 'EMBEDDING' (outputs: [last_hidden_state])");
    }

    @Test
    void metadataWithAnotherDatatypeFailsCheckReady() throws Exception {
        service.metadata = service.metadata.toBuilder()
                .setOutputs(0, tensor("EMBEDDING", "FP16", -1, 384)).build();
        start(TritonClientConfig.builder());

        assertThatThrownBy(client::checkReady).hasMessageContaining("'EMBEDDING' is FP16, expected FP32");
    }

    @Test
    void aServerThatIsNotLiveFailsCheckReady() throws Exception {
        service.live = false;
        start(TritonClientConfig.builder());

        assertThatThrownBy(client::checkReady).hasMessage("Triton at " + endpoint() + " is not live");
    }

    @Test
    void aModelThatIsNotReadyFailsCheckReady() throws Exception {
        service.modelReady = false;
        start(TritonClientConfig.builder());

        assertThatThrownBy(client::checkReady)
                .hasMessageStartingWith("Triton at " + endpoint() + ": model 'item_encoder' is not ready");
    }
}
