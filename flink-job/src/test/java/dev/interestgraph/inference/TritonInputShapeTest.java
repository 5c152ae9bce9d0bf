package dev.interestgraph.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.interestgraph.testing.FakeTritonService;
import dev.interestgraph.inference.v2.ModelInferRequest;
import dev.interestgraph.inference.v2.ModelInferResponse;
import dev.interestgraph.inference.v2.ModelMetadataRequest;
import dev.interestgraph.inference.v2.ModelMetadataResponse;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The client shapes TEXT as the model's metadata declares it: [n] for [-1], [n, 1] for [-1, 1]. */
class TritonInputShapeTest {
    private Server server;
    private TritonEmbeddingClient client;
    private final Service service = new Service();

    /** A healthy item_encoder (dimension 2) whose TEXT shape and metadata availability tests set. */
    private static final class Service extends FakeTritonService {
        List<Long> textShape = List.of(-1L);
        boolean metadataImplemented = true;
        final AtomicInteger metadataCalls = new AtomicInteger();
        final List<List<Long>> seenShapes = new CopyOnWriteArrayList<>();




        @Override
        public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> response) {
            metadataCalls.incrementAndGet();
            if (!metadataImplemented) {
                response.onError(Status.UNIMPLEMENTED.asRuntimeException());
                return;
            }
            response.onNext(ModelMetadataResponse.newBuilder()
                    .setName("item_encoder")
                    .addInputs(ModelMetadataResponse.TensorMetadata.newBuilder()
                            .setName("TEXT").setDatatype("BYTES").addAllShape(textShape))
                    .addOutputs(ModelMetadataResponse.TensorMetadata.newBuilder()
                            .setName("EMBEDDING").setDatatype("FP32").addShape(-1).addShape(2))
                    .build());
            response.onCompleted();
        }

        @Override
        public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> response) {
            List<Long> shape = request.getInputs(0).getShapeList();
            seenShapes.add(shape);
            int n = InferenceContract.decodeBytesTensor(request.getRawInputContents(0)).size();
            response.onNext(ModelInferResponse.newBuilder().setModelVersion("1")
                    .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder()
                            .setName("EMBEDDING").setDatatype("FP32").addShape(n).addShape(2))
                    .addRawOutputContents(InferenceContract.encodeFp32Tensor(new float[n][2], 2))
                    .build());
            response.onCompleted();
        }
    }

    private void start() throws IOException {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(service).build().start();
        client = new TritonEmbeddingClient(TritonClientConfig.builder()
                .endpoint("127.0.0.1:" + server.getPort()).expectedDimension(2).build());
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

    @Test
    void aBatchingTritonModelGetsTextAsNByOne() throws Exception {
        service.textShape = List.of(-1L, 1L);
        start();
        client.checkReady();

        client.embed(List.of("a", "b", "c")).get(10, TimeUnit.SECONDS);

        assertThat(service.seenShapes).containsExactly(List.of(3L, 1L));
    }

    @Test
    void theContractShapeGetsTextAsN() throws Exception {
        start();
        client.checkReady();

        client.embed(List.of("a", "b")).get(10, TimeUnit.SECONDS);

        assertThat(service.seenShapes).containsExactly(List.of(2L));
    }

    @Test
    void withoutCheckReadyTheFirstCallReadsTheMetadataOnce() throws Exception {
        service.textShape = List.of(-1L, 1L);
        start();

        client.embed(List.of("a")).get(10, TimeUnit.SECONDS);
        client.embed(List.of("b", "c")).get(10, TimeUnit.SECONDS);

        assertThat(service.seenShapes).containsExactly(List.of(1L, 1L), List.of(2L, 1L));
        assertThat(service.metadataCalls).hasValue(1);
    }

    @Test
    void aServerWithoutModelMetadataGetsTheContractShape() throws Exception {
        service.metadataImplemented = false;
        start();

        client.embed(List.of("a", "b")).get(10, TimeUnit.SECONDS);

        assertThat(service.seenShapes).containsExactly(List.of(2L));
    }

    @Test
    void anUnreachableServerFailsTheFirstCallWithAnInferenceException() throws Exception {
        start();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);

        assertThatThrownBy(() -> client.embed(List.of("a")).get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(InferenceException.class)
                .hasMessageContaining("cannot reach Triton at 127.0.0.1:");
    }

    @Test
    void aTextInputOfAnotherShapeFailsCheckReady() throws Exception {
        service.textShape = List.of(-1L, 3L);
        start();

        assertThatThrownBy(client::checkReady)
                .isInstanceOf(InferenceException.class)
                .hasMessageEndingWith("model 'item_encoder' input 'TEXT' has shape [-1, 3], expected [-1] or [-1, 1]");
    }

    @Test
    void textRankFollowsTheDeclaredShape() {
        assertThat(InferenceContract.textRank(List.of(-1L))).isEqualTo(1);
        assertThat(InferenceContract.textRank(List.of(8L))).isEqualTo(1);
        assertThat(InferenceContract.textRank(List.of(-1L, 1L))).isEqualTo(2);
        assertThat(InferenceContract.textRank(List.of(-1L, -1L))).isEqualTo(2);
        assertThat(InferenceContract.textRank(List.of(-1L, 3L))).isZero();
        assertThat(InferenceContract.textRank(List.of())).isZero();
        assertThat(InferenceContract.textRank(List.of(-1L, 1L, 1L))).isZero();
    }
}
