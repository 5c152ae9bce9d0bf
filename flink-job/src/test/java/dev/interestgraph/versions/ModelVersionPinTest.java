package dev.interestgraph.versions;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.vector.CosineCalibration;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.UserAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.Test;

/** Pinning records to the encoder version valid at their event time, on the keyed-broadcast harness. */
class ModelVersionPinTest {

    private static KeyedBroadcastOperatorTestHarness<String, UserAction, ModelVersionAnnouncement,
            UserAction> harness() throws Exception {
        return new KeyedBroadcastOperatorTestHarness<>(new CoBroadcastWithKeyedOperator<>(
                ModelVersionPin.forActions("1"), List.of(ModelVersionPin.VERSIONS, ModelVersionPin.CALIBRATIONS)),
                action -> action.userId, Types.STRING, 1, 1, 0);
    }

    private static UserAction event(String id, String user, long timeMs) {
        return new UserAction(id, user, "item", Action.CLICK, timeMs, 0, "a comment");
    }

    private static void send(KeyedBroadcastOperatorTestHarness<String, UserAction,
            ModelVersionAnnouncement, UserAction> h, UserAction action) throws Exception {
        h.processElement(new StreamRecord<>(action, action.eventTimeMs));
    }

    private static void announce(KeyedBroadcastOperatorTestHarness<String, UserAction,
            ModelVersionAnnouncement, UserAction> h, String version, long appliesFrom)
            throws Exception {
        h.processBroadcastElement(new StreamRecord<>(
                new ModelVersionAnnouncement("item_encoder", version, appliesFrom, 0), appliesFrom));
    }

    /** event id → pinned version, in output order; the output is drained. */
    private static List<String> released(KeyedBroadcastOperatorTestHarness<String, UserAction,
            ModelVersionAnnouncement, UserAction> h) {
        List<String> out = new ArrayList<>();
        Object record;
        while ((record = h.getOutput().poll()) != null) {
            if (record instanceof StreamRecord) {
                UserAction action = (UserAction) ((StreamRecord<?>) record).getValue();
                out.add(action.eventId + "@" + action.pinnedModelVersion);
            }
        }
        return out;
    }

    @Test
    void recordsWaitForTheWatermarkAndGetTheVersionValidAtTheirTime() throws Exception {
        try (var h = harness()) {
            h.open();
            send(h, event("a", "u1", 100));
            send(h, event("b", "u2", 200));
            send(h, event("c", "u1", 300));
            // nothing leaves before the watermark: a version for their time may still come
            assertThat(released(h)).isEmpty();
            // announced after the records arrived, but before the watermark passed them
            announce(h, "2", 200);
            h.watermark(250);
            assertThat(released(h)).containsExactly("a@1", "b@2");
            announce(h, "3", 300);
            h.watermark(400);
            assertThat(released(h)).containsExactly("c@3");
            assertThat(h.numEventTimeTimers()).isZero();
        }
    }

    @Test
    void aLateAnnouncementIsCountedAndAppliesToRecordsReleasedAfterIt() throws Exception {
        try (var h = harness()) {
            h.open();
            h.watermark(1_000);
            send(h, event("late", "u1", 500)); // behind the watermark: released at once
            assertThat(released(h)).containsExactly("late@1");
            announce(h, "2", 400); // its time has passed
            send(h, event("later", "u1", 600));
            assertThat(released(h)).containsExactly("later@2");
        }
    }

    @Test
    void announcementsAndWaitingRecordsSurviveARestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            h.open();
            announce(h, "2", 150);
            send(h, event("a", "u1", 100));
            send(h, event("b", "u1", 200));
            snapshot = h.snapshot(1, 1);
        }
        try (var h = harness()) {
            h.initializeState(snapshot);
            h.open();
            h.watermark(300);
            assertThat(released(h)).containsExactly("a@1", "b@2");
        }
    }

    @Test
    void onlyTheLastSwitchesAreKeptAndTheNewestDroppedOneIsTheFloor() throws Exception {
        try (var h = harness()) {
            h.open();
            send(h, event("early", "u1", 250)); // after switch 2 (200), before the oldest kept
            int last = 2 + ModelVersionPin.KEPT_VERSIONS + 5;
            for (int v = 2; v < last; v++) {
                announce(h, String.valueOf(v), v * 100L);
            }
            assertThat(h.getOperator().getOperatorStateBackend()
                    .getBroadcastState(ModelVersionPin.VERSIONS).entries())
                    .hasSize(ModelVersionPin.KEPT_VERSIONS + 1);
            h.watermark(300);
            // switches 2..6 were dropped; the newest dropped (6) is the floor: not the base "1"
            assertThat(released(h)).containsExactly("early@6");
        }
    }

    @Test
    void aLateRecordIsPinnedNoOlderThanTheWatermarksVersion() throws Exception {
        try (var h = harness()) {
            h.open();
            announce(h, "2", 200);
            h.watermark(500);
            send(h, event("late", "u1", 100)); // its time is before the switch, the watermark after
            assertThat(released(h)).containsExactly("late@2");
        }
    }

    @Test
    void theTunersJsonIsReadAndOtherRecordsAreSkipped() {
        ModelVersionAnnouncement read = ModelVersionAnnouncement.Deserializer.parse(
                ("{\"model\": \"item_encoder\", \"version\": \"3\", \"applies_from_ms\": 1700000000123,"
                        + " \"step\": 100}").getBytes(StandardCharsets.UTF_8));
        assertThat(read.version).isEqualTo("3");
        assertThat(read.appliesFromMs).isEqualTo(1_700_000_000_123L);
        assertThat(read.step).isEqualTo(100);
        assertThat(ModelVersionAnnouncement.Deserializer.parse(read.toJson().getBytes(
                StandardCharsets.UTF_8))).usingRecursiveComparison().isEqualTo(read);
        assertThat(ModelVersionAnnouncement.Deserializer.parse(
                "{\"model\": \"item_encoder\"}".getBytes(StandardCharsets.UTF_8))).isNull();
        assertThat(ModelVersionAnnouncement.Deserializer.parse(
                "not json".getBytes(StandardCharsets.UTF_8))).isNull();
        assertThat(ModelVersionAnnouncement.Deserializer.parse(null)).isNull();
        assertThat(ModelVersionAnnouncement.Deserializer.parse(("{\"model\": \"item_encoder\", "
                + "\"version\": \"v3\", \"applies_from_ms\": 1}").getBytes(StandardCharsets.UTF_8)))
                .isNull();
        assertThat(ModelVersionAnnouncement.Deserializer.parse(("{\"model\": \"item_encoder\", "
                + "\"version\": \"03\", \"applies_from_ms\": 1}").getBytes(StandardCharsets.UTF_8))
                .version).isEqualTo("3");
    }

    private static final CosineCalibration SPREAD = CosineCalibration.of(0.367, 0.137, 0.078, 0.1);

    @Test
    void announcementsWithAndWithoutTheCosineCalibrationAreRead() {
        // a tuner before issue 19: no statistics, the thresholds stay as configured
        ModelVersionAnnouncement old = ModelVersionAnnouncement.Deserializer.parse(
                ("{\"model\": \"item_encoder\", \"version\": \"2\", \"applies_from_ms\": 5,"
                        + " \"step\": 50}").getBytes(StandardCharsets.UTF_8));
        assertThat(old.version).isEqualTo("2");
        assertThat(old.cosineCalibration).isNull();

        ModelVersionAnnouncement current = ModelVersionAnnouncement.Deserializer.parse(
                ("{\"model\": \"item_encoder\", \"version\": \"3\", \"applies_from_ms\": 9,"
                        + " \"step\": 100, \"cosine_calibration\": {\"base_mean\": 0.367,"
                        + " \"base_std\": 0.137, \"mean\": 0.078, \"std\": 0.1, \"pairs\": 32640,"
                        + " \"texts\": 256}}").getBytes(StandardCharsets.UTF_8));
        assertThat(current.cosineCalibration).isEqualTo(SPREAD);
        assertThat(ModelVersionAnnouncement.Deserializer.parse(current.toJson().getBytes(
                StandardCharsets.UTF_8))).usingRecursiveComparison().isEqualTo(current);

        // statistics that describe no space: the version is still followed, uncalibrated
        for (String bad : new String[] {"\"oops\"", "{\"base_mean\": 0.3}",
                "{\"base_mean\": 0.3, \"base_std\": 0, \"mean\": 0.1, \"std\": 0.1}",
                "{\"base_mean\": \"x\", \"base_std\": 0.1, \"mean\": 0.1, \"std\": 0.1}"}) {
            ModelVersionAnnouncement read = ModelVersionAnnouncement.Deserializer.parse(
                    ("{\"model\": \"item_encoder\", \"version\": \"4\", \"applies_from_ms\": 1,"
                            + " \"cosine_calibration\": " + bad + "}").getBytes(StandardCharsets.UTF_8));
            assertThat(read.version).as(bad).isEqualTo("4");
            assertThat(read.cosineCalibration).as(bad).isNull();
        }
    }

    /** event id → pinned calibration (null: none), in output order; the output is drained. */
    private static Map<String, CosineCalibration> calibrations(
            KeyedBroadcastOperatorTestHarness<String, UserAction, ModelVersionAnnouncement,
                    UserAction> h) {
        Map<String, CosineCalibration> out = new HashMap<>();
        Object record;
        while ((record = h.getOutput().poll()) != null) {
            if (record instanceof StreamRecord) {
                UserAction action = (UserAction) ((StreamRecord<?>) record).getValue();
                out.put(action.eventId + "@" + action.pinnedModelVersion,
                        action.pinnedCosineCalibration);
            }
        }
        return out;
    }

    @Test
    void eachRecordCarriesItsVersionsCalibrationAcrossARestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            h.open();
            h.processBroadcastElement(new StreamRecord<>(new ModelVersionAnnouncement(
                    "item_encoder", "2", 150, 50, SPREAD), 150));
            announce(h, "3", 250); // an older tuner's announcement: no statistics
            send(h, event("a", "u1", 100));
            send(h, event("b", "u1", 200));
            send(h, event("c", "u1", 300));
            snapshot = h.snapshot(1, 1);
        }
        try (var h = harness()) {
            h.initializeState(snapshot);
            h.open();
            h.watermark(400);
            Map<String, CosineCalibration> pinned = calibrations(h);
            assertThat(pinned).containsOnlyKeys("a@1", "b@2", "c@3");
            assertThat(pinned.get("a@1")).isNull(); // version 1: thresholds as configured
            assertThat(pinned.get("b@2")).isEqualTo(SPREAD);
            assertThat(pinned.get("c@3")).isNull();
        }
    }

    @Test
    void theCalibrationsOfDroppedSwitchesAreDroppedWithThem() throws Exception {
        try (var h = harness()) {
            h.open();
            int last = 2 + ModelVersionPin.KEPT_VERSIONS + 5;
            for (int v = 2; v < last; v++) {
                h.processBroadcastElement(new StreamRecord<>(new ModelVersionAnnouncement(
                        "item_encoder", String.valueOf(v), v * 100L, v, SPREAD), v * 100L));
            }
            // switches 2..5 dropped, 6 is the floor: its statistics stay with it
            var kept = new ArrayList<String>();
            h.getOperator().getOperatorStateBackend().getBroadcastState(
                    ModelVersionPin.CALIBRATIONS).entries().forEach(e -> kept.add(e.getKey()));
            assertThat(kept).hasSize(ModelVersionPin.KEPT_VERSIONS + 1)
                    .contains("6").doesNotContain("2", "5");
        }
    }
}
