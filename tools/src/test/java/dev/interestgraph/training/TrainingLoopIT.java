package dev.interestgraph.training;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.inference.MiniLmEncoder;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.local.Topics;
import dev.interestgraph.local.TunerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training loop for real: a bounded Flink job feeds planted-topic training examples through
 * {@link TrainingBranch} to {@code item_encoder_tuner} served by a real Triton ({@link
 * TunerProcess}: PyTriton from {@code triton-models/.venv}, which must exist: the test fails
 * without it), which publishes an {@code item_encoder} version and announces it on the in-process
 * Kafka broker. A second run over the same input trains nothing: every batch id is known.
 */
class TrainingLoopIT {
    private static final int EXAMPLES = 45;   // 5 full batches of 8, then 5 left at the end
    private static final int BATCH_SIZE = 8;
    private static final int PUBLISH_EVERY = 4;
    private static final long LEAD_MS = 60_000;
    private static final long T0 = 1_700_000_000_000L;
    private static final String VERSIONS_TOPIC = "model-versions";
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    static Path work;

    private static LocalKafkaBroker kafka;
    private static TunerProcess tuner;

    @BeforeAll
    static void start() throws Exception {
        kafka = LocalKafkaBroker.start();
        kafka.createTopic(VERSIONS_TOPIC, 1);
        Path model = work.resolve("model");
        MiniLmEncoder.writeModelFiles(model); // the JVM's own model files, so no `make models` needed
        tuner = TunerProcess.builder()
                .repository(work.resolve("repository"))
                .modelDir(model)
                .publishEverySteps(PUBLISH_EVERY)
                .appliesFromLeadMs(LEAD_MS)
                .kafkaBootstrapServers(kafka.bootstrapServers())
                .log(work.resolve("tuner.log"))
                .start();
    }

    @AfterAll
    static void stop() {
        if (tuner != null) {
            tuner.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void theJobTrainsTheTunerWhichPublishesAndAnnouncesAVersionOnceOnly() throws Exception {
        List<TrainingExample> examples = plantedExamples();

        List<TrainingResult> first = run(examples, 1);
        assertThat(first).extracting(r -> r.examples).containsExactly(8, 8, 8, 8, 8, 5);
        assertThat(first).allMatch(r -> r.applied, "applied");
        assertThat(first).extracting(r -> r.step).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        assertThat(first).allMatch(r -> Float.isFinite(r.loss) && r.loss > 0, "a positive loss");
        assertThat(first).filteredOn(r -> r.step >= PUBLISH_EVERY).extracting(r -> r.modelVersion)
                .containsOnly("2");

        Path version2 = tuner.repository().resolve("item_encoder").resolve("2");
        assertThat(version2.resolve("version.json")).isRegularFile();
        assertThat(version2.resolve("all-minilm-l6-v2.onnx")).isRegularFile();

        List<JsonNode> announced = announcements();
        assertThat(announced).hasSize(1);
        JsonNode version = announced.get(0);
        assertThat(version.get("model").asText()).isEqualTo("item_encoder");
        assertThat(version.get("version").asText()).isEqualTo("2");
        assertThat(version.get("step").asLong()).isEqualTo(PUBLISH_EVERY);
        long trainedUpTo = first.stream().filter(r -> r.step <= PUBLISH_EVERY)
                .mapToLong(r -> r.maxEventTimeMs).max().orElseThrow();
        assertThat(version.get("applies_from_ms").asLong())
                .isGreaterThanOrEqualTo(trainedUpTo + LEAD_MS)
                .isEqualTo(trainedUpTo + 1 + LEAD_MS);

        // The same events again, in another arrival order within each window: same batch ids,
        // all known to the tuner, so nothing is trained and nothing is published.
        List<TrainingResult> second = run(shuffledWithinWindows(examples), 2);
        assertThat(second).extracting(r -> r.batchId).containsExactlyElementsOf(
                first.stream().map(r -> r.batchId).toList());
        assertThat(second).noneMatch(r -> r.applied);
        assertThat(second).extracting(r -> r.step).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        assertThat(second).extracting(r -> r.loss).containsExactlyElementsOf(
                first.stream().map(r -> r.loss).toList());
        assertThat(announcements()).hasSize(1);

        // The tuner's step count did not move: a new batch is step 7.
        try (TunerClient client = new TunerClient(TrainingBranch.tunerConfig(config()))) {
            TrainingResult next = client.train(TrainingBatch.of(examples.subList(0, 3))).get(60, TimeUnit.SECONDS);
            assertThat(next.applied).isTrue();
            assertThat(next.step).isEqualTo(7L);
        }
    }

    private static Configuration config() {
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.FINE_TUNE_TUNER_ENDPOINT, tuner.endpoint());
        config.set(InterestGraphOptions.FINE_TUNE_BATCH_SIZE, BATCH_SIZE);
        config.set(InterestGraphOptions.FINE_TUNE_BATCH_WINDOW, Duration.ofMinutes(1));
        // a training step on a busy 2-core machine can take seconds
        config.set(InterestGraphOptions.TRITON_REQUEST_TIMEOUT, Duration.ofSeconds(60));
        return config;
    }

    /** Runs the bounded job and returns the tuner's answers, in batch order. */
    private static List<TrainingResult> run(List<TrainingExample> examples, int attempt) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        DataStream<TrainingExample> stream = env.fromData(TrainingExample.class, examples.toArray(new TrainingExample[0]))
                .assignTimestampsAndWatermarks(WatermarkStrategy.<TrainingExample>forBoundedOutOfOrderness(
                        Duration.ofSeconds(5)).withTimestampAssigner((e, previous) -> e.eventTimeMs));
        List<TrainingResult> results = new ArrayList<>();
        try (CloseableIterator<TrainingResult> answers =
                TrainingBranch.attach(stream, config()).executeAndCollect("training loop, run " + attempt)) {
            answers.forEachRemaining(results::add);
        }
        return results;
    }

    private static List<JsonNode> announcements() throws Exception {
        List<JsonNode> messages = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : Topics.readAll(kafka.bootstrapServers(), VERSIONS_TOPIC)) {
            messages.add(JSON.readTree(record.value()));
        }
        return messages;
    }

    /**
     * SyntheticDataset's titles ("Galactic starship alien 3"), with four planted interests that
     * each join two unrelated vocabularies (as triton-models/tests/planted.py): a context is three
     * titles of one interest joined with " | ", the positive a fourth. 7 s apart: 6 one-minute windows.
     */
    static List<TrainingExample> plantedExamples() {
        String[][] topics = SyntheticDataset.topicWords();
        Random random = new Random(42);
        List<TrainingExample> examples = new ArrayList<>();
        for (int i = 0; i < EXAMPLES; i++) {
            int interest = i % 4;
            List<String> titles = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                String[] vocabulary = topics[2 * interest + random.nextInt(2)];
                List<String> words = new ArrayList<>(List.of(vocabulary).subList(1, vocabulary.length));
                Collections.shuffle(words, random);
                String first = words.get(0);
                titles.add(Character.toUpperCase(first.charAt(0)) + first.substring(1) + " " + words.get(1)
                        + " " + words.get(2) + " " + random.nextInt(20));
            }
            examples.add(new TrainingExample(String.join(" | ", titles.subList(0, 3)), titles.get(3),
                    T0 + i * 7_000L, "event-" + i));
        }
        return examples;
    }

    /** The same examples, shuffled inside each one-minute window (and never across windows). */
    private static List<TrainingExample> shuffledWithinWindows(List<TrainingExample> examples) {
        List<TrainingExample> shuffled = new ArrayList<>();
        Random random = new Random(7);
        int from = 0;
        while (from < examples.size()) {
            long window = examples.get(from).eventTimeMs / 60_000;
            int to = from;
            while (to < examples.size() && examples.get(to).eventTimeMs / 60_000 == window) {
                to++;
            }
            List<TrainingExample> part = new ArrayList<>(examples.subList(from, to));
            Collections.shuffle(part, random);
            shuffled.addAll(part);
            from = to;
        }
        return shuffled;
    }
}
