package dev.interestgraph.training;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class TrainingBatcherTest {
    private static final long MINUTE = 60_000;
    private static final long T0 = 1_700_000_040_000L - 1_700_000_040_000L % MINUTE; // a window start

    private static KeyedOneInputStreamOperatorTestHarness<Integer, TrainingExample, TrainingBatch> harness(
            int batchSize) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new TrainingBatcher(batchSize, Duration.ofMinutes(1))),
                example -> 0, Types.INT);
    }

    private static TrainingExample example(long timeMs, String eventId) {
        return new TrainingExample("context of " + eventId, "positive " + eventId, timeMs, eventId);
    }

    /** {@code count} examples spread over [from, from + span), ids e<i>. */
    private static List<TrainingExample> examples(int count, long from, long span, String prefix) {
        List<TrainingExample> examples = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            examples.add(example(from + span * i / count, prefix + i));
        }
        return examples;
    }

    private static void send(KeyedOneInputStreamOperatorTestHarness<Integer, TrainingExample, TrainingBatch> h,
            List<TrainingExample> examples) throws Exception {
        for (TrainingExample e : examples) {
            h.processElement(new StreamRecord<>(e, e.eventTimeMs));
        }
    }

    private static List<TrainingBatch> drain(
            KeyedOneInputStreamOperatorTestHarness<Integer, TrainingExample, TrainingBatch> h) {
        List<TrainingBatch> batches = new ArrayList<>(h.extractOutputValues());
        h.getOutput().clear();
        return batches;
    }

    private static List<String> ids(List<TrainingExample> examples) {
        return examples.stream().map(e -> e.eventId).toList();
    }

    @Test
    void batchesAreCutWhenTheWatermarkPassesTheWindowsEnd() throws Exception {
        try (var h = harness(4)) {
            h.open();
            send(h, examples(8, T0, MINUTE, "a"));
            h.processWatermark(T0 + MINUTE - 2);
            assertThat(drain(h)).as("the window is still open").isEmpty();

            h.processWatermark(T0 + MINUTE - 1);
            List<TrainingBatch> batches = drain(h);
            assertThat(batches).hasSize(2);
            assertThat(ids(batches.get(0).examples)).containsExactly("a0", "a1", "a2", "a3");
            assertThat(ids(batches.get(1).examples)).containsExactly("a4", "a5", "a6", "a7");
            assertThat(batches.get(0).batchId).hasSize(TrainingBatch.ID_HEX_CHARS)
                    .isEqualTo(TrainingBatch.idOf(batches.get(0).examples))
                    .isNotEqualTo(batches.get(1).batchId);
        }
    }

    @Test
    void arrivalOrderInsideAWindowChangesNeitherBatchesNorIds() throws Exception {
        // two windows, with equal event times inside one (ordered by event id then)
        List<TrainingExample> input = new ArrayList<>(examples(7, T0, MINUTE, "a"));
        input.add(example(T0 + 5, "z"));
        input.add(example(T0 + 5, "b"));
        input.addAll(examples(6, T0 + MINUTE, MINUTE, "c"));
        List<List<String>> reference = null;
        List<String> referenceIds = null;
        for (long seed = 0; seed < 5; seed++) {
            List<TrainingExample> shuffled = new ArrayList<>(input.subList(0, 9));
            Collections.shuffle(shuffled, new Random(seed));
            List<TrainingExample> second = new ArrayList<>(input.subList(9, input.size()));
            Collections.shuffle(second, new Random(seed + 100));
            shuffled.addAll(second);
            try (var h = harness(4)) {
                h.open();
                send(h, shuffled);
                h.processWatermark(T0 + 2 * MINUTE);
                List<TrainingBatch> batches = drain(h);
                List<List<String>> cut = batches.stream().map(b -> ids(b.examples)).toList();
                List<String> batchIds = batches.stream().map(b -> b.batchId).toList();
                if (reference == null) {
                    reference = cut;
                    referenceIds = batchIds;
                    // sorted by (event time, event id): b before z at T0 + 5
                    assertThat(cut.get(0)).containsExactly("a0", "b", "z", "a1");
                } else {
                    assertThat(cut).as("shuffle %d", seed).isEqualTo(reference);
                    assertThat(batchIds).as("shuffle %d", seed).isEqualTo(referenceIds);
                }
            }
        }
        assertThat(reference).hasSize(3); // 15 examples: 3 batches of 4, 3 waiting
    }

    @Test
    void theRemainderWaitsForTheNextWindowAndEndOfInputSendsIt() throws Exception {
        try (var h = harness(4)) {
            h.open();
            send(h, examples(6, T0, MINUTE, "a"));
            send(h, examples(5, T0 + MINUTE, MINUTE, "b"));
            h.processWatermark(T0 + MINUTE);
            List<TrainingBatch> first = drain(h);
            assertThat(first).hasSize(1);
            assertThat(ids(first.get(0).examples)).containsExactly("a0", "a1", "a2", "a3");

            h.processWatermark(T0 + 2 * MINUTE);
            List<TrainingBatch> second = drain(h);
            assertThat(second).hasSize(1);
            // the carried-over a4, a5 come first, then the next window's examples in event order
            assertThat(ids(second.get(0).examples)).containsExactly("a4", "a5", "b0", "b1");

            h.processWatermark(Long.MAX_VALUE);
            List<TrainingBatch> last = drain(h);
            assertThat(last).hasSize(1);
            assertThat(ids(last.get(0).examples)).containsExactly("b2", "b3", "b4");
        }
    }

    @Test
    void aSingleLeftoverAtTheEndIsDroppedAndALateExampleIsIgnored() throws Exception {
        try (var h = harness(2)) {
            h.open();
            send(h, examples(3, T0, MINUTE, "a"));
            h.processWatermark(T0 + MINUTE);
            assertThat(drain(h)).hasSize(1);
            send(h, List.of(example(T0 + 10, "late"))); // its window has been cut already
            h.processWatermark(Long.MAX_VALUE);
            assertThat(drain(h)).as("a2 alone cannot make a contrastive step").isEmpty();
        }
    }

    @Test
    void stateSurvivesSnapshotAndRestore() throws Exception {
        List<TrainingExample> first = examples(6, T0, MINUTE, "a");
        List<TrainingExample> pendingWindow = examples(3, T0 + MINUTE, MINUTE, "b");
        List<TrainingExample> later = examples(5, T0 + 2 * MINUTE, MINUTE, "c");

        List<List<String>> uninterrupted = new ArrayList<>();
        try (var h = harness(4)) {
            h.open();
            send(h, first);
            send(h, pendingWindow);
            h.processWatermark(T0 + MINUTE);
            send(h, later);
            h.processWatermark(Long.MAX_VALUE);
            drain(h).forEach(b -> uninterrupted.add(ids(b.examples)));
        }

        OperatorSubtaskState snapshot;
        List<List<String>> resumed = new ArrayList<>();
        try (var h = harness(4)) {
            h.open();
            send(h, first);
            send(h, pendingWindow);
            h.processWatermark(T0 + MINUTE); // a0..a3 out; a4, a5 in the remainder, b* still buffered
            drain(h).forEach(b -> resumed.add(ids(b.examples)));
            snapshot = h.snapshot(1L, 1L);
        }
        try (var h = harness(4)) {
            h.initializeState(snapshot);
            h.open();
            send(h, later);
            h.processWatermark(Long.MAX_VALUE);
            drain(h).forEach(b -> resumed.add(ids(b.examples)));
        }
        assertThat(resumed).isEqualTo(uninterrupted).hasSize(4);
        assertThat(resumed.get(1)).containsExactly("a4", "a5", "b0", "b1");
        assertThat(resumed.get(3)).containsExactly("c3", "c4");
    }
}
