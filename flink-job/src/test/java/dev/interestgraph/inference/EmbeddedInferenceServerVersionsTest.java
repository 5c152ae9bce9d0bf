package dev.interestgraph.inference;

import static dev.interestgraph.inference.ModelRepositories.publish;
import static dev.interestgraph.inference.ModelRepositories.publishBroken;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.interestgraph.embed.EmbeddingBatch;
import dev.interestgraph.inference.v2.DataType;
import dev.interestgraph.inference.v2.GRPCInferenceServiceGrpc;
import dev.interestgraph.inference.v2.ModelConfig;
import dev.interestgraph.inference.v2.ModelConfigRequest;
import dev.interestgraph.inference.v2.ModelInferRequest;
import dev.interestgraph.inference.v2.ModelStatistics;
import dev.interestgraph.inference.v2.ModelStatisticsRequest;
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
 * The embedded server serving item_encoder versions from a model repository, as the tuner
 * publishes them: version 1 frozen (built in), version N the ONNX model in {@code
 * <repository>/item_encoder/<N>/}; and its ModelConfig and ModelStatistics. One server per test.
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
    void versionOneIsFrozenAndVersionTwoIsServedFromItsOwnModel() throws Exception {
        publish(repository, 2);
        start();

        EmbeddingBatch one = embed("1");
        EmbeddingBatch two = embed("2");

        assertThat(one.modelVersion()).isEqualTo("1");
        assertThat(two.modelVersion()).isEqualTo("2");
        for (int i = 0; i < TEXTS.size(); i++) {
            assertThat(one.vectors().get(i)).containsExactly(frozen[i], within(1e-6f));
            // version 2 is a copy of the frozen model: its own session, the same vectors
            assertThat(two.vectors().get(i)).as(TEXTS.get(i)).containsExactly(frozen[i], within(1e-6f));
        }
    }

    @Test
    void aVersionWhoseModelCannotBeOpenedFailsTheRequestNamingTheFile() throws IOException {
        publishBroken(repository, 2);
        start();

        assertThatThrownBy(() -> rawStub.modelInfer(request("2")))
                .isInstanceOf(StatusRuntimeException.class)
                .satisfies(e -> {
                    Status status = ((StatusRuntimeException) e).getStatus();
                    assertThat(status.getCode()).isEqualTo(Status.Code.INTERNAL);
                    assertThat(status.getDescription()).contains("cannot load model 'item_encoder' version 2")
                            .contains(repository.resolve("item_encoder/2/all-minilm-l6-v2.onnx").toString());
                });
        // the failure is counted; version 1 still serves
        ModelStatistics stats = statistics("2").get(0);
        assertThat(stats.getInferenceStats().getFail().getCount()).isEqualTo(1);
        assertThat(stats.getInferenceStats().getSuccess().getCount()).isZero();
    }

    @Test
    void modelConfigDescribesWhatTheServerRuns() {
        publish2();
        start();

        ModelConfig config = rawStub.modelConfig(ModelConfigRequest.newBuilder().setName("item_encoder").build())
                .getConfig();

        assertThat(config.getName()).isEqualTo("item_encoder");
        assertThat(config.getPlatform()).isEqualTo("onnxruntime_onnx");
        assertThat(config.getMaxBatchSize()).isZero();
        assertThat(config.getInput(0).getName()).isEqualTo("TEXT");
        assertThat(config.getInput(0).getDataType()).isEqualTo(DataType.TYPE_STRING);
        assertThat(config.getInput(0).getDimsList()).containsExactly(-1L);
        assertThat(config.getOutput(0).getName()).isEqualTo("EMBEDDING");
        assertThat(config.getOutput(0).getDataType()).isEqualTo(DataType.TYPE_FP32);
        assertThat(config.getOutput(0).getDimsList()).containsExactly(-1L, 384L);
        assertThat(config.getVersionPolicy().hasAll()).isTrue();
        assertThat(config.getInstanceGroup(0).getCount()).isPositive();
        assertThatThrownBy(() -> rawStub.modelConfig(ModelConfigRequest.newBuilder().setName("other").build()))
                .hasMessageContaining("NOT_FOUND");
        assertThatThrownBy(() -> rawStub.modelConfig(
                        ModelConfigRequest.newBuilder().setName("item_encoder").setVersion("7").build()))
                .hasMessageContaining("NOT_FOUND");
    }

    @Test
    void modelStatisticsCountRequestsTextsAndBatchSizesPerVersion() throws Exception {
        publish2();
        start();
        embed("2");
        embed("2");
        embed("1");
        client.embed(List.of("one text"), "2").get(30, TimeUnit.SECONDS);

        List<ModelStatistics> all = statistics("");
        assertThat(all).extracting(ModelStatistics::getVersion).containsExactly("1", "2");
        ModelStatistics one = all.get(0);
        ModelStatistics two = all.get(1);
        assertThat(one.getName()).isEqualTo("item_encoder");
        assertThat(one.getExecutionCount()).isEqualTo(1);
        assertThat(one.getInferenceCount()).isEqualTo(TEXTS.size());
        assertThat(two.getExecutionCount()).isEqualTo(3);
        assertThat(two.getInferenceCount()).isEqualTo(2L * TEXTS.size() + 1);
        assertThat(two.getInferenceStats().getSuccess().getCount()).isEqualTo(3);
        assertThat(two.getInferenceStats().getSuccess().getNs()).isPositive();
        assertThat(two.getLastInference()).isPositive();
        assertThat(two.getBatchStatsList()).extracting(b -> b.getBatchSize(), b -> b.getComputeInfer().getCount())
                .containsExactly(org.assertj.core.groups.Tuple.tuple(1L, 1L),
                        org.assertj.core.groups.Tuple.tuple((long) TEXTS.size(), 2L));
        assertThat(statistics("2")).containsExactly(two);
        assertThatThrownBy(() -> rawStub.modelStatistics(ModelStatisticsRequest.newBuilder().setName("x").build()))
                .hasMessageContaining("NOT_FOUND");
    }

    private void publish2() {
        try {
            publish(repository, 2);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private List<ModelStatistics> statistics(String version) {
        return rawStub.modelStatistics(ModelStatisticsRequest.newBuilder().setName("item_encoder")
                .setVersion(version).build()).getModelStatsList();
    }

    @Test
    void anUnknownVersionIsRefusedAsTritonDoes() throws Exception {
        publish(repository, 2);
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

        publish(repository, 2);
        assertThat(metadataVersions()).containsExactly("1", "2");
        assertThat(ready("2")).isTrue();
        EmbeddingBatch latest = embed("");
        assertThat(latest.modelVersion()).isEqualTo("2");
        assertThat(latest.vectors().get(0)).containsExactly(frozen[0], within(1e-6f));

        publish(repository, 3);
        // a folder being assembled (hidden name) or without a model is no version
        Files.createDirectories(repository.resolve("item_encoder/.staging-4"));
        Files.writeString(repository.resolve("item_encoder/.staging-4/all-minilm-l6-v2.onnx"), "partial");
        Files.createDirectories(repository.resolve("item_encoder/5"));
        assertThat(metadataVersions()).containsExactly("1", "2", "3");
        assertThat(embed("").modelVersion()).isEqualTo("3");
        assertThat(embed("2").modelVersion()).isEqualTo("2");
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
