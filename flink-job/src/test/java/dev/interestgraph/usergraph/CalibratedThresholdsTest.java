package dev.interestgraph.usergraph;

import static dev.interestgraph.usergraph.GraphTestSupport.T0;
import static dev.interestgraph.usergraph.GraphTestSupport.send;
import static dev.interestgraph.usergraph.GraphTestSupport.stateOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.embed.EmbeddingBatch;
import dev.interestgraph.embed.MicroBatcher;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.vector.CosineCalibration;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Issue 19 on the user-graph operator: a user's graph re-based onto a fine-tuned version that
 * spreads the space keeps the interests version 1 joined when the events carry the version's
 * announced calibration, and fragments without it; the calibration survives a restore.
 */
class CalibratedThresholdsTest {
    private static final int ITEMS = 5;
    /** Version 1's item pairs at 0.367 ± 0.15, version 2's at 0.078 ± 0.15: 0.5 → 0.211. */
    private static final CosineCalibration SPREAD = CosineCalibration.of(0.367, 0.15, 0.078, 0.15);

    /**
     * "topic K item N": cos θ on topic K's axis, sin θ on the item's own axis; two items of a
     * topic at cos²θ = 0.587 in v1 (θ 40°), 0.25 in the spread v2 (θ 60°); topics orthogonal.
     */
    static float[] vector(String text, String version) {
        String[] words = text.split(" ");
        int topic = Integer.parseInt(words[1]);
        int item = Integer.parseInt(words[3]);
        double theta = Math.toRadians(version.equals("v1") ? 40 : 60);
        float[] v = new float[2 + 2 * ITEMS];
        v[topic] = (float) Math.cos(theta);
        v[2 + topic * ITEMS + item] = (float) Math.sin(theta);
        return v;
    }

    static final class SpreadingEncoder extends FineTuningTest.FakeEncoder {
        @Override
        public int dimension() {
            return 2 + 2 * ITEMS;
        }

        @Override
        public CompletableFuture<EmbeddingBatch> embed(List<String> texts, String version) {
            List<float[]> vectors = new ArrayList<>();
            for (String text : texts) {
                vectors.add(vector(text, version));
            }
            return CompletableFuture.completedFuture(new EmbeddingBatch(vectors, version));
        }
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord>
            harness(OperatorSubtaskState restore) throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(
                new UserGraphFunction(InterestGraphOptions.graphParameters(new Configuration()),
                        new FineTuningSupport.Settings(SpreadingEncoder::new, 3,
                                new MicroBatcher.Settings(), Duration.ofSeconds(5), 1.0, true))),
                (EnrichedAction action) -> action.userId, Types.STRING);
        if (restore != null) {
            harness.initializeState(restore);
        }
        harness.open();
        return harness;
    }

    private static EnrichedAction purchase(int topic, int item, long timeMs, String version,
            CosineCalibration calibration) {
        EnrichedAction action = FineTuningTest.purchase("u", topic, item, timeMs, version,
                CalibratedThresholdsTest::vector);
        action.cosineCalibration = calibration;
        return action;
    }

    /** The user's interests as sets of item ids. */
    private static Set<Set<String>> partition(UserGraph graph) {
        Map<Integer, Set<String>> members = new TreeMap<>();
        graph.edges.values().forEach(edge -> {
            if (edge.interestId >= 0) {
                members.computeIfAbsent(edge.interestId, i -> new TreeSet<>()).add(edge.itemId);
            }
        });
        return new HashSet<>(members.values());
    }

    private static final Set<Set<String>> V1_TOPICS = Set.of(Set.of("0-0", "0-1", "0-2"),
            Set.of("1-0", "1-1", "1-2"));
    private static final Set<Set<String>> ALL_TOPICS = Set.of(
            Set.of("0-0", "0-1", "0-2", "0-3", "0-4"), Set.of("1-0", "1-1", "1-2", "1-3", "1-4"));

    /**
     * Three items of each topic in v1, one flush each; then the user's items in v2 (the first
     * re-bases the graph), a snapshot and restore, the last v2 items and a sweep.
     */
    private static UserGraph run(CosineCalibration calibration) throws Exception {
        long t = T0;
        OperatorSubtaskState snapshot;
        try (var h = harness(null)) {
            for (int item = 0; item < 3; item++) {
                for (int topic = 0; topic < 2; topic++) {
                    send(h, purchase(topic, item, t += 10_000, "v1", null));
                    h.processWatermark(t + 5_000);
                }
            }
            assertThat(partition(stateOf(h, "u"))).isEqualTo(V1_TOPICS);
            for (int topic = 0; topic < 2; topic++) {
                send(h, purchase(topic, 3, t += 10_000, "v2", calibration));
                h.processWatermark(t + 5_000);
                FineTuningTest.releaseHolds(h);
            }
            snapshot = h.snapshot(1, 1);
        }
        try (var h = harness(snapshot)) {
            assertThat(stateOf(h, "u").calibration).isEqualTo(calibration);
            for (int topic = 0; topic < 2; topic++) {
                send(h, purchase(topic, 4, t += 10_000, "v2", calibration));
                h.processWatermark(t + 5_000);
            }
            h.processWatermark(t + 3 * GraphTestSupport.DAY); // sweeps: the re-clustering merges
            UserGraph graph = stateOf(h, "u");
            assertThat(graph.interests.values()).allMatch(i -> i.centroid.modelVersion.equals("v2"));
            return graph;
        }
    }

    @Test
    void aSpreadVersionKeepsTheUsersTopicsOnlyWithItsCalibration() throws Exception {
        UserGraph calibrated = run(SPREAD);
        assertThat(partition(calibrated)).isEqualTo(ALL_TOPICS);
        assertThat(calibrated.calibrationVersion).isEqualTo("v2");

        UserGraph uncalibrated = run(null);
        assertThat(uncalibrated.calibration).isNull();
        assertThat(uncalibrated.interests.size()).isGreaterThan(2);
        assertThat(partition(uncalibrated)).isNotEqualTo(ALL_TOPICS);
    }
}
