package dev.interestgraph.inference;

import static dev.interestgraph.inference.AdapterRepositories.adapted;
import static dev.interestgraph.inference.AdapterRepositories.publish;
import static dev.interestgraph.inference.AdapterRepositories.randomAdapter;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.interestgraph.embed.EmbeddingBatch;
import dev.interestgraph.inference.v2.GRPCInferenceServiceGrpc;
import dev.interestgraph.inference.v2.ModelInferRequest;
import dev.interestgraph.inference.v2.ModelMetadataRequest;
import dev.interestgraph.inference.v2.ModelReadyRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded server serving fine-tuned item_encoder versions from a model repository, as the
 * tuner publishes them: version 1 frozen, version N the frozen vector through {@code
 * <repository>/item_encoder/<N>/adapter.npy}. One server per test (cheap: the encoder is shared).
 */
class EmbeddedInferenceServerVersionsTest {
    private static final List<String> TEXTS = List.of("Galactic starship alien 3", "slow-cooked tomato risotto",
            "", "jazz saxophone quartet live");

    private static MiniLmEncoder encoder;
    private static float[][] frozen;

    @TempDir
    Path repository;

    private EmbeddedInferenceServer server;
    private TritonEmbeddingClient client;
    private ManagedChannel rawChannel;
    private GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub rawStub;

    @BeforeAll
    static void loadEncoder() {
        encoder = MiniLmEncoder.load();
        frozen = encoder.encode(TEXTS);
    }

    @AfterAll
    static void closeEncoder() {
        encoder.close();
    }

    private void start() {
        server = EmbeddedInferenceServer.builder().encoder(encoder).modelRepository(repository).build();
        client = new TritonEmbeddingClient(TritonClientConfig.builder().endpoint(server.endpoint())
                .requestTimeout(Duration.ofSeconds(30)).build());
        rawChannel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        rawStub = GRPCInferenceServiceGrpc.newBlockingStub(rawChannel);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            rawChannel.shutdownNow();
            client.close();
            server.close();
        }
    }

    private EmbeddingBatch embed(String version) throws Exception {
        return client.embed(TEXTS, version).get(30, TimeUnit.SECONDS);
    }

    private List<String> metadataVersions() {
        return rawStub.modelMetadata(ModelMetadataRequest.newBuilder().setName("item_encoder").build())
                .getVersionsList();
    }

    private boolean ready(String version) {
        return rawStub.modelReady(ModelReadyRequest.newBuilder().setName("item_encoder").setVersion(version).build())
                .getReady();
    }

    @Test
    void versionOneIsFrozenAndVersionTwoAppliesItsAdapter() throws Exception {
        float[] w = randomAdapter(42, 0.05);
        publish(repository, 2, w);
        start();

        EmbeddingBatch one = embed("1");
        EmbeddingBatch two = embed("2");

        assertThat(one.modelVersion()).isEqualTo("1");
        assertThat(two.modelVersion()).isEqualTo("2");
        for (int i = 0; i < TEXTS.size(); i++) {
            assertThat(one.vectors().get(i)).containsExactly(frozen[i], within(1e-6f));
            float[] expected = adapted(frozen[i], w);
            assertThat(two.vectors().get(i)).as(TEXTS.get(i)).containsExactly(expected, within(1e-5f));
            assertThat(MiniLmEncoderTest.norm(two.vectors().get(i))).isCloseTo(1.0, within(1e-5));
            // the adapter moves the vector, but not far: W is small next to the identity
            assertThat(MiniLmEncoderTest.cosine(frozen[i], two.vectors().get(i))).isBetween(0.5, 0.995);
        }
    }

    @Test
    void anAllZeroAdapterIsTheIdentityBitForBit() throws Exception {
        publish(repository, 2, new float[384 * 384]);
        start();

        EmbeddingBatch two = embed("2");

        assertThat(two.modelVersion()).isEqualTo("2");
        assertThat(two.vectors()).containsExactly(embed("1").vectors().toArray(float[][]::new));
    }

    @Test
    void anUnknownVersionIsRefusedAsTritonDoes() throws Exception {
        publish(repository, 2, randomAdapter(1, 0.05));
        start();

        assertThatThrownBy(() -> rawStub.modelInfer(request("3")))
                .isInstanceOf(StatusRuntimeException.class)
                .satisfies(e -> {
                    Status status = ((StatusRuntimeException) e).getStatus();
                    assertThat(status.getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(status.getDescription()).isEqualTo("Request for unknown model: 'item_encoder'"
                            + " version 3 is not found; available versions: [1, 2]");
                });
        assertThatThrownBy(() -> rawStub.modelInfer(request("latest")))
                .hasMessageContaining("NOT_FOUND").hasMessageContaining("version latest is not found");
        assertThatThrownBy(() -> rawStub.modelMetadata(
                        ModelMetadataRequest.newBuilder().setName("item_encoder").setVersion("3").build()))
                .hasMessageContaining("NOT_FOUND");
        assertThat(ready("2")).isTrue();
        assertThat(ready("3")).isFalse();
        assertThatThrownBy(() -> embed("3"))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(InferenceException.class)
                .hasMessageContaining("model 'item_encoder' version 3")
                .hasMessageContaining("NOT_FOUND")
                .matches(e -> !((InferenceException) e).retryable(), "not retryable");
    }

    @Test
    void versionsPublishedWhileRunningAreServedAndABlankVersionGetsTheHighest() throws Exception {
        start(); // the repository has no item_encoder folder yet
        assertThat(metadataVersions()).containsExactly("1");
        assertThat(embed("").modelVersion()).isEqualTo("1");
        assertThat(ready("2")).isFalse();

        float[] w2 = randomAdapter(2, 0.05);
        publish(repository, 2, w2);
        assertThat(metadataVersions()).containsExactly("1", "2");
        assertThat(ready("2")).isTrue();
        EmbeddingBatch latest = embed("");
        assertThat(latest.modelVersion()).isEqualTo("2");
        assertThat(latest.vectors().get(0)).containsExactly(adapted(frozen[0], w2), within(1e-5f));

        float[] w3 = randomAdapter(3, 0.05);
        publish(repository, 3, w3);
        // a folder being assembled (hidden name) or without an adapter is no version
        Files.createDirectories(repository.resolve("item_encoder/.staging-4"));
        NpyFiles.writeFloat32Matrix(repository.resolve("item_encoder/.staging-4/adapter.npy"), 384, 384, w3);
        Files.createDirectories(repository.resolve("item_encoder/5"));
        assertThat(metadataVersions()).containsExactly("1", "2", "3");
        latest = embed("");
        assertThat(latest.modelVersion()).isEqualTo("3");
        assertThat(latest.vectors().get(0)).containsExactly(adapted(frozen[0], w3), within(1e-5f));
        assertThat(embed("2").vectors().get(0)).containsExactly(adapted(frozen[0], w2), within(1e-5f));
    }

    @Test
    void anAdapterOfTheWrongShapeFailsTheRequestNamingTheFile() throws IOException {
        publish(repository, 2, 10, 10, new float[100]);
        start();

        assertThatThrownBy(() -> rawStub.modelInfer(request("2")))
                .isInstanceOf(StatusRuntimeException.class)
                .satisfies(e -> {
                    Status status = ((StatusRuntimeException) e).getStatus();
                    assertThat(status.getCode()).isEqualTo(Status.Code.INTERNAL);
                    assertThat(status.getDescription()).contains("cannot load model 'item_encoder' version 2")
                            .contains(repository.resolve("item_encoder/2/adapter.npy").toString())
                            .contains("adapter is 10x10, expected 384x384");
                });
    }

    private static ModelInferRequest request(String version) {
        return ModelInferRequest.newBuilder()
                .setModelName("item_encoder").setModelVersion(version)
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder()
                        .setName("TEXT").setDatatype("BYTES").addShape(1))
                .addRawInputContents(InferenceContract.encodeBytesTensor(List.of("x")))
                .build();
    }
}
