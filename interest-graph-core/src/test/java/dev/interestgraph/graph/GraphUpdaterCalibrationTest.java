package dev.interestgraph.graph;

import dev.interestgraph.vector.CosineCalibration;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.vector.HalfFloats;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Issue 19: the user-graph maps its cosine thresholds by a version's announced calibration, so a
 * fine-tuned version that spreads the space does not fragment the interests version 1 joined —
 * and without a calibration (version 1, the frozen encoder) nothing changes.
 */
class GraphUpdaterCalibrationTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final int TOPIC_ITEMS = 5;
    /**
     * The planted spread: version 1's pairs at 0.367 ± 0.15, the tuned version's at 0.078 ± 0.15
     * (issue 19's measured means), so 0.5 becomes 0.211 and 0.4 becomes 0.111.
     */
    private static final CosineCalibration SPREAD = CosineCalibration.of(0.367, 0.15, 0.078, 0.15);

    /**
     * Item {@code k} of topic {@code topic}: cos θ on the topic's axis, sin θ on an axis of its
     * own, so two items of a topic are at cos²θ — 0.587 at θ 40° (version 1: joined at 0.5),
     * 0.25 at θ 60° (the spread version: below 0.5, above its mapped 0.211); items of the two
     * topics are orthogonal.
     */
    private static float[] item(int topic, int k, double degrees) {
        float[] v = new float[2 + 2 * TOPIC_ITEMS];
        v[topic] = (float) Math.cos(Math.toRadians(degrees));
        v[2 + topic * TOPIC_ITEMS + k] = (float) Math.sin(Math.toRadians(degrees));
        return v;
    }

    private static double degrees(String version) {
        return version.equals("1") ? 40 : 60;
    }

    private static float[] vectorOf(String itemId, String version) {
        return item(itemId.charAt(0) - 'a', itemId.charAt(1) - '0', degrees(version));
    }

    private static List<String> items() {
        List<String> ids = new ArrayList<>();
        for (int k = 0; k < TOPIC_ITEMS; k++) {
            ids.add("a" + k);
            ids.add("b" + k);
        }
        return ids;
    }

    private static EnrichedAction purchase(String itemId, long timeMs, String version,
            CosineCalibration calibration) {
        EnrichedAction e = new EnrichedAction();
        e.eventId = itemId + "@" + timeMs;
        e.userId = "u";
        e.itemId = itemId;
        e.action = Action.PURCHASE;
        e.eventTimeMs = timeMs;
        e.vector = HalfFloats.fromFloats(vectorOf(itemId, version));
        e.modelVersion = version;
        e.terms = new String[] {itemId.substring(0, 1)};
        e.cosineCalibration = calibration;
        return e;
    }

    /** Each event in its own flush, as the operator's flush slots would apply them. */
    private static UserGraph replay(GraphUpdater updater, String version,
            CosineCalibration calibration) {
        UserGraph graph = null;
        long t = T0;
        for (String itemId : items()) {
            graph = updater.flush(graph, "u", List.of(purchase(itemId, t += 60_000, version,
                    calibration))).graph;
        }
        return graph;
    }

    /** The interests as sets of their items (ids aside). */
    private static Set<Set<String>> partition(UserGraph graph) {
        Map<Integer, Set<String>> byInterest = new TreeMap<>();
        for (UserGraph.Edge edge : graph.edges.values()) {
            if (edge.interestId >= 0) {
                byInterest.computeIfAbsent(edge.interestId, i -> new TreeSet<>()).add(edge.itemId);
            }
        }
        return new HashSet<>(byInterest.values());
    }

    private static final Set<Set<String>> TOPICS = Set.of(
            Set.of("a0", "a1", "a2", "a3", "a4"), Set.of("b0", "b1", "b2", "b3", "b4"));

    @Test
    void aSpreadVersionFragmentsInterestsUnlessItsThresholdsAreCalibrated() {
        GraphUpdater updater = new GraphUpdater(GraphParameters.defaults());
        assertThat(partition(replay(updater, "1", null))).isEqualTo(TOPICS);

        UserGraph uncalibrated = replay(updater, "2", null);
        assertThat(uncalibrated.interests.size()).isGreaterThan(2);
        assertThat(partition(uncalibrated)).isNotEqualTo(TOPICS);

        UserGraph calibrated = replay(updater, "2", SPREAD);
        assertThat(partition(calibrated)).isEqualTo(TOPICS);
        assertThat(calibrated.calibrationVersion).isEqualTo("2");
        assertThat(updater.joinThreshold(calibrated, "2")).isEqualTo(SPREAD.map(0.5));
        assertThat(updater.mergeThreshold(calibrated, "2")).isEqualTo(SPREAD.map(0.4));
        // another version's vectors keep the thresholds as configured
        assertThat(updater.joinThreshold(calibrated, "1")).isEqualTo(0.5);
    }

    @Test
    void withoutACalibrationOrWithTheIdentityTheDeltasAreExactlyTheFrozenOnes() {
        GraphUpdater updater = new GraphUpdater(GraphParameters.defaults());
        List<GraphDelta> plain = deltas(updater, null);
        List<GraphDelta> identity = deltas(updater, CosineCalibration.IDENTITY);
        assertThat(identity).isEqualTo(plain);
        assertThat(plain).isNotEmpty();
        UserGraph graph = replay(updater, "1", null);
        assertThat(graph.calibration).isNull();
        assertThat(updater.joinThreshold(graph, "1")).isEqualTo(0.5);
        assertThat(updater.mergeThreshold(graph, "1")).isEqualTo(0.4);
    }

    private static List<GraphDelta> deltas(GraphUpdater updater, CosineCalibration calibration) {
        List<GraphDelta> out = new ArrayList<>();
        UserGraph graph = null;
        long t = T0;
        for (String itemId : items()) {
            GraphUpdater.Result result = updater.flush(graph, "u",
                    List.of(purchase(itemId, t += 60_000, "1", calibration)));
            graph = result.graph;
            out.addAll(result.deltas);
        }
        out.addAll(updater.sweep(graph, "u", t + 86_400_000L).deltas);
        return out;
    }

    @Test
    void aReBaseOntoASpreadVersionKeepsTheTopicsItJoinedInVersion1() {
        GraphUpdater updater = new GraphUpdater(GraphParameters.defaults());
        GraphUpdater.ItemVectors inVersion = (Collection<String> ids, String version) -> {
            Map<String, GraphUpdater.ItemVector> vectors = new HashMap<>();
            for (String id : ids) {
                vectors.put(id, new GraphUpdater.ItemVector(
                        HalfFloats.fromFloats(vectorOf(id, version)),
                        new String[] {id.substring(0, 1)}));
            }
            return vectors;
        };
        for (CosineCalibration calibration : new CosineCalibration[] {null, SPREAD}) {
            UserGraph graph = replay(updater, "1", null);
            assertThat(partition(graph)).isEqualTo(TOPICS);
            // the first event of version 2 re-bases every item on version 2's vectors
            EnrichedAction next = purchase("a0", T0 + 3_600_000L, "2", calibration);
            graph = updater.flush(graph, "u", List.of(next), inVersion).graph;
            assertThat(graph.interests.values()).allMatch(
                    i -> i.centroid.modelVersion.equals("2"));
            if (calibration == null) {
                assertThat(partition(graph)).isNotEqualTo(TOPICS); // fragmented
            } else {
                assertThat(partition(graph)).isEqualTo(TOPICS);
            }
        }
    }
}
