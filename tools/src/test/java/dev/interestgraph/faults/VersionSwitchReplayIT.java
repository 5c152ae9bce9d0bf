package dev.interestgraph.faults;

import static dev.interestgraph.faults.FaultTestSupport.assertContiguous;
import static dev.interestgraph.faults.FaultTestSupport.publishInput;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.local.Topics;
import dev.interestgraph.proto.v1.DeltaOp;
import dev.interestgraph.proto.v1.GraphDelta;
import dev.interestgraph.testing.HashingTestEmbedder;
import dev.interestgraph.versions.ModelVersionAnnouncement;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replay determinism across encoder version switches: the real pipeline (in-process Kafka,
 * MiniCluster, parallelism 2) reads the same events, catalogue and model-versions topics twice
 * and writes the same deltas; every delta carries vectors of the version valid at its time, and
 * none mixes versions. The encoder is the hashing fixture, whose vectors differ per version.
 */
class VersionSwitchReplayIT {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final long DAY = 24L * 3600 * 1000;
    private static final String BASE = HashingTestEmbedder.MODEL_VERSION;

    @TempDir
    static Path repository;

    @Test
    void twoRunsOverTheSameTopicsGiveTheSameDeltasAcrossTwoSwitches() throws Exception {
        try (LocalKafkaBroker kafka = LocalKafkaBroker.start()) {
            SyntheticDataset data = SyntheticDataset.builder().users(8).itemsPerTopic(6)
                    .eventsPerUser(30).spanMs(20 * DAY).seed(5).build();
            long first = data.events().stream().mapToLong(e -> e.eventTimeMs).min().orElseThrow();
            long switchTo2 = first + 7 * DAY;
            long switchTo3 = first + 14 * DAY;
            publishInput(kafka, data.items(), data.events());
            kafka.createTopic("model-versions", 1);
            try (KafkaProducer<byte[], byte[]> producer = Topics.producer(kafka.bootstrapServers())) {
                for (ModelVersionAnnouncement announcement : List.of(
                        new ModelVersionAnnouncement("item_encoder", "2", switchTo2, 50),
                        new ModelVersionAnnouncement("other_model", "9", first, 1),
                        new ModelVersionAnnouncement("item_encoder", "3", switchTo3, 100))) {
                    producer.send(new ProducerRecord<>("model-versions", null,
                            bytes(announcement.toJson())));
                }
            }

            Map<String, List<GraphDelta>> firstRun = run(kafka, "first-");
            assertContiguous(firstRun);
            assertThat(firstRun).hasSize(8);

            // each user's event times: a delta's version is that of the newest event it has
            // seen (a flush's is its own newest event; a decay sweep between a switch and the
            // user's first event of the new version still holds the old one: the re-base is at
            // that event)
            Map<String, TreeSet<Long>> eventTimes = new TreeMap<>();
            data.events().forEach(e -> eventTimes.computeIfAbsent(e.userId, u -> new TreeSet<>())
                    .add(e.eventTimeMs));
            int switched = 0;
            for (List<GraphDelta> deltas : firstRun.values()) {
                for (GraphDelta delta : deltas) {
                    Set<String> versions = versionsIn(delta);
                    // one delta never carries vectors of two versions
                    assertThat(versions).as("versions in %s", delta.getUserId()).hasSizeLessThan(2);
                    if (versions.isEmpty()) {
                        continue;
                    }
                    String version = versions.iterator().next();
                    long newestEvent =
                            eventTimes.get(delta.getUserId()).floor(delta.getEventTimeMs());
                    String expected = newestEvent < switchTo2 ? BASE
                            : newestEvent < switchTo3 ? null : "3";
                    if (expected != null) {
                        assertThat(version).as("version at %s (newest event %s)",
                                delta.getEventTimeMs(), newestEvent).isEqualTo(expected);
                    }
                    if (delta.getOpsList().stream().anyMatch(DeltaOp::hasInterestRemove)
                            && !version.equals(BASE)) {
                        switched++;
                    }
                }
            }
            assertThat(switched).as("deltas that re-based a user on a new version")
                    .isGreaterThanOrEqualTo(8);
            DeltaMaterializer graphs = new DeltaMaterializer();
            firstRun.values().forEach(deltas -> deltas.forEach(graphs::apply));
            graphs.users().values().forEach(user -> user.interests().values().forEach(
                    interest -> assertThat(interest.getModelVersion()).isEqualTo("3")));

            Map<String, List<GraphDelta>> secondRun = run(kafka, "second-");
            assertThat(secondRun).isEqualTo(firstRun);
        }
    }

    /** The model versions of the vectors a delta carries (interests, profile). */
    private static Set<String> versionsIn(GraphDelta delta) {
        Set<String> versions = new TreeSet<>();
        for (DeltaOp op : delta.getOpsList()) {
            if (op.hasInterestUpsert()) {
                versions.add(op.getInterestUpsert().getModelVersion());
            } else if (op.hasProfileUpdate() && op.getProfileUpdate().getLongTermCount() > 0) {
                versions.add(op.getProfileUpdate().getModelVersion());
            }
        }
        return versions;
    }

    private static Map<String, List<GraphDelta>> run(LocalKafkaBroker kafka, String prefix)
            throws Exception {
        Configuration config = FaultTestSupport.replayOptions(kafka, prefix);
        config.set(InterestGraphOptions.FINE_TUNE_ENABLED, true);
        config.set(InterestGraphOptions.FINE_TUNE_TRAINING_ENABLED, false);
        config.set(InterestGraphOptions.FINE_TUNE_BASE_VERSION, BASE);
        config.set(InterestGraphOptions.EMBEDDED_MODEL_REPOSITORY, repository.toString());
        return FaultTestSupport.replay(kafka, prefix, config);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
