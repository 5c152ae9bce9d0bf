package dev.interestgraph.inference;

import dev.interestgraph.embed.AsyncEmbedFunction;
import dev.interestgraph.local.PyTritonProcess;
import dev.interestgraph.embed.MicroBatcher;
import dev.interestgraph.model.ItemVersion;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.embed.EmbeddingBatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TritonEmbeddingClient} against a real NVIDIA Triton Inference Server: the server binary
 * bundled by the {@code nvidia-pytriton} wheel, started from the virtualenv that {@code make
 * triton-venv} builds ({@code triton-models/.venv}), serving {@code item_encoder} on CPU. Both ways
 * of serving are checked: PyTriton binding {@code triton-models/encoder/minilm.py}, and plain
 * {@code tritonserver} on the model repository ({@code item_encoder/configs/cpu.pbtxt} +
 * {@code 1/model.py}). The vectors must match the embedded server's.
 *
 * <p>The Python interpreter is {@code -Dinterest-graph.triton.python}, else {@code
 * $INTEREST_GRAPH_TRITON_PYTHON}, else {@code triton-models/.venv/bin/python}. Without it the test
 * fails (it does not skip): run {@code make triton-venv}. Started with {@link PyTritonProcess}.
 */
class TritonServerIT {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(180);
    private static final double MIN_COSINE = 0.999;

    @TempDir
    static Path work;

    private static EmbeddedInferenceServer embedded;
    private static TritonEmbeddingClient embeddedClient;

    @BeforeAll
    static void startEmbeddedServer() {
        embedded = EmbeddedInferenceServer.builder().build();
        embeddedClient = new TritonEmbeddingClient(TritonClientConfig.builder().endpoint(embedded.endpoint()).build());
    }

    @AfterAll
    static void stopEmbeddedServer() {
        if (embeddedClient != null) {
            embeddedClient.close();
        }
        if (embedded != null) {
            embedded.close();
        }
    }

    /** ParityVectors' texts (long, unicode, empty, ...) and some more: 31 in all. */
    static List<String> texts() {
        List<String> texts = new ArrayList<>(ParityVectors.TEXTS);
        texts.addAll(List.of(
                "Jurassic Park", "Heat (1995)", "Crime|Drama|Thriller",
                "A mother searches for her missing son across 1970s Buenos Aires.",
                "zombies in a shopping mall", "Romantic comedy set in Paris in the spring",
                "Ocean documentary: whales, coral reefs and deep-sea creatures",
                "Kung fu master trains a reluctant student", "Courtroom drama about a wrongful conviction",
                "Animated musical about a snow queen"));
        return texts;
    }

    @Test
    void pyTritonServesTheSameVectorsAsTheEmbeddedServer() throws Exception {
        Path models = Files.createDirectories(work.resolve("pytriton-model"));
        MiniLmEncoder.writeModelFiles(models);
        // version 3, so that the version seen by the client can only have come from the server
        try (PyTritonProcess triton = start("pytriton", List.of(
                "--mode", "pytriton", "--model-dir", models.toString(), "--model-version", "3"))) {
            checkAgainstEmbedded(triton, "3");
        }
    }

    @Test
    void tritonServerOnTheModelRepositoryServesTheSameVectors() throws Exception {
        // A copy of triton-models/item_encoder with the model files in version folder 7.
        Path repository = work.resolve("repository");
        Path model = repository.resolve(InferenceContract.MODEL_NAME);
        Path source = PyTritonProcess.tritonModelsDir().resolve(InferenceContract.MODEL_NAME);
        Files.createDirectories(model.resolve("configs"));
        Files.createDirectories(model.resolve("7"));
        Files.copy(source.resolve("config.pbtxt"), model.resolve("config.pbtxt"));
        Files.copy(source.resolve("configs/cpu.pbtxt"), model.resolve("configs/cpu.pbtxt"));
        Files.copy(source.resolve("1/model.py"), model.resolve("7/model.py"));
        MiniLmEncoder.writeModelFiles(model.resolve("7"));
        try (PyTritonProcess triton = start("tritonserver", List.of(
                "--mode", "repository", "--repository", repository.toString(), "--config-name", "cpu"))) {
            checkAgainstEmbedded(triton, "7");
        }
    }

    // A fine-tuned version (an ONNX model the PyTorch tuner exported) served by tritonserver and by
    // the embedded server with the same vectors: triton-models/tests/test_embedded_server.py (the
    // tuner, which writes such a model, is Python).

    /** serve_pytriton.py with these arguments, its output in the test's folder. */
    private static PyTritonProcess start(String name, List<String> args) throws Exception {
        return PyTritonProcess.start(name, args, work.resolve(name + ".log"), READY_TIMEOUT);
    }

    private static void checkAgainstEmbedded(PyTritonProcess triton, String expectedVersion) throws Exception {
        TritonClientConfig config = TritonClientConfig.builder()
                .endpoint(triton.grpcEndpoint())
                .requestTimeout(Duration.ofSeconds(60))
                .build();
        List<String> texts = texts();
        List<float[]> expected = embeddedClient.embed(texts).get(60, TimeUnit.SECONDS).vectors();
        try (TritonEmbeddingClient client = new TritonEmbeddingClient(config)) {
            client.checkReady();

            // All at once, then concurrently in uneven chunks (Triton's dynamic batcher merges them).
            EmbeddingBatch whole = client.embed(texts).get(60, TimeUnit.SECONDS);
            assertThat(whole.modelVersion()).isEqualTo(expectedVersion);
            assertSameVectors(texts, whole.vectors(), expected, triton);

            List<CompletableFuture<EmbeddingBatch>> parts = new ArrayList<>();
            for (int from = 0; from < texts.size(); from += 7) {
                parts.add(client.embed(texts.subList(from, Math.min(from + 7, texts.size()))));
            }
            List<float[]> pieced = new ArrayList<>();
            for (CompletableFuture<EmbeddingBatch> part : parts) {
                EmbeddingBatch batch = part.get(60, TimeUnit.SECONDS);
                assertThat(batch.modelVersion()).isEqualTo(expectedVersion);
                pieced.addAll(batch.vectors());
            }
            assertSameVectors(texts, pieced, expected, triton);
        }

        // And through the job's own async operator, as the pipeline runs it: one record at a
        // time into the micro-batcher, out in order with the vector and the model version.
        AsyncEmbedFunction<ItemVersion> embedItems =
                AsyncEmbedFunction.items(new TritonClientFactory(config), new MicroBatcher.Settings());
        OneInputStreamOperatorTestHarness<ItemVersion, ItemVersion> harness =
                new OneInputStreamOperatorTestHarness<>(new AsyncWaitOperatorFactory<>(embedItems,
                        60_000, 64, AsyncDataStream.OutputMode.ORDERED),
                        TypeInformation.of(ItemVersion.class).createSerializer(new ExecutionConfig()));
        harness.open();
        for (int i = 0; i < texts.size(); i++) {
            harness.processElement(new StreamRecord<>(
                    new ItemVersion("item-" + i, texts.get(i), null, new String[0], i), i));
        }
        synchronized (harness.getCheckpointLock()) {
            harness.endInput(); // waits for every pending embedding
            harness.close();
        }
        List<ItemVersion> embedded = harness.extractOutputValues();
        assertThat(embedded).extracting(item -> item.title).containsExactlyElementsOf(texts);
        List<String> withText = new ArrayList<>();
        List<float[]> vectors = new ArrayList<>();
        List<float[]> expectedWithText = new ArrayList<>();
        for (int i = 0; i < embedded.size(); i++) {
            ItemVersion item = embedded.get(i);
            if (texts.get(i).isBlank()) { // nothing to embed: passes through untouched
                assertThat(item.embedding).isNull();
                continue;
            }
            assertThat(item.modelVersion).isEqualTo(expectedVersion);
            withText.add(texts.get(i));
            vectors.add(item.embedding);
            expectedWithText.add(expected.get(i));
        }
        assertThat(withText).hasSizeGreaterThan(texts.size() - 3);
        assertSameVectors(withText, vectors, expectedWithText, triton);
    }

    private static void assertSameVectors(List<String> texts, List<float[]> actual, List<float[]> expected,
            PyTritonProcess triton) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < texts.size(); i++) {
            float[] a = actual.get(i);
            assertThat(a).as("vector %d from %s", i, triton.name()).hasSize(MiniLmEncoder.DIMENSION);
            double cosine = cosine(a, expected.get(i));
            assertThat(cosine).as("cosine of %s and the embedded server for text %d '%s'", triton.name(), i,
                    abbreviate(texts.get(i))).isGreaterThanOrEqualTo(MIN_COSINE);
        }
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(aa * bb);
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }

}
