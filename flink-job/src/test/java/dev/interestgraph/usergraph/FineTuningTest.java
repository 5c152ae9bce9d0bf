package dev.interestgraph.usergraph;

import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.config.InterestGraphOptions;
import static dev.interestgraph.usergraph.GraphTestSupport.T0;
import static dev.interestgraph.usergraph.GraphTestSupport.drain;
import static dev.interestgraph.usergraph.GraphTestSupport.ops;
import static dev.interestgraph.usergraph.GraphTestSupport.send;
import static dev.interestgraph.usergraph.GraphTestSupport.stateOf;
import static dev.interestgraph.usergraph.GraphTestSupport.unit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.embed.EmbeddingBatch;
import dev.interestgraph.embed.EmbeddingClient;
import dev.interestgraph.embed.EmbeddingClientFactory;
import dev.interestgraph.embed.MicroBatcher;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v1.DeltaOp;
import dev.interestgraph.proto.v1.GraphDelta;
import dev.interestgraph.training.TrainingExample;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The user-graph operator with fine-tuning on: a version switch re-bases the user's graph on the
 * new version before its first vector is fused, and positive events become training examples.
 */
class FineTuningTest {
    /** (version, text) of every re-embedding request the fake encoder got. */
    static final List<String> REQUESTS = new CopyOnWriteArrayList<>();

    @BeforeEach
    void reset() {
        REQUESTS.clear();
    }

    /**
     * Texts "topic K item N": version v1 puts topic K along axis K, version v2 along axis K + 4
     * (another space with the same topic structure).
     */
    static float[] vector(String text, String version) {
        String[] words = text.split(" ");
        int topic = Integer.parseInt(words[1]);
        int item = Integer.parseInt(words[3]);
        int axis = version.equals("v1") ? topic : topic + 4;
        return unit(axis, (axis + 1) % 8, 0.05f * item);
    }

    static class FakeEncoder implements EmbeddingClient {
        @Override
        public void checkReady() {}

        @Override
        public int dimension() {
            return 8;
        }

        @Override
        public CompletableFuture<EmbeddingBatch> embed(List<String> texts) {
            return embed(texts, "v1");
        }

        @Override
        public CompletableFuture<EmbeddingBatch> embed(List<String> texts, String version) {
            List<float[]> vectors = new ArrayList<>();
            for (String text : texts) {
                REQUESTS.add(version + ":" + text);
                vectors.add(vector(text, version));
            }
            return CompletableFuture.completedFuture(new EmbeddingBatch(vectors, version));
        }

        @Override
        public void close() {}
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord>
            harness() throws Exception {
        return harness(1.0);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord>
            harness(double sample) throws Exception {
        return harness(FakeEncoder::new, sample, null);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord>
            harness(EmbeddingClientFactory encoder, double sample, OperatorSubtaskState restore)
            throws Exception {
        KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> harness =
                new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(
                        new UserGraphFunction(InterestGraphOptions.graphParameters(new Configuration()),
                                new FineTuningSupport.Settings(encoder, 3,
                                        new MicroBatcher.Settings(), Duration.ofSeconds(5),
                                        sample, true))),
                        action -> action.userId, Types.STRING);
        if (restore != null) {
            harness.initializeState(restore);
        }
        harness.open();
        return harness;
    }

    /** Until completed, the {@link GatedEncoder}'s answers wait: a request in flight. */
    static volatile CompletableFuture<Void> gate = new CompletableFuture<>();

    /** {@link FakeEncoder} whose answers arrive only once {@link #gate} opens. */
    static final class GatedEncoder extends FakeEncoder {
        @Override
        public CompletableFuture<EmbeddingBatch> embed(List<String> texts, String version) {
            CompletableFuture<EmbeddingBatch> answer = super.embed(texts, version);
            return gate.thenCompose(open -> answer);
        }
    }

    /**
     * Lets flushes held for re-embedded vectors run: moves processing time on, a poll interval
     * at a time, until no hold is left (the vectors arrive on the batcher's thread).
     */
    static void releaseHolds(
            KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> h)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (h.numProcessingTimeTimers() > 0) {
            assertThat(System.nanoTime()).as("held flushes still waiting").isLessThan(deadline);
            h.setProcessingTime(h.getProcessingTime() + UserGraphFunction.REBASE_POLL_MS);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    private static int events;

    /** A purchase of item "K-N" whose text is "topic K item N", embedded in {@code version}. */
    private static EnrichedAction purchase(String user, int topic, int item, long timeMs,
            String version) {
        return purchase(user, topic, item, timeMs, version, FineTuningTest::vector);
    }

    /** As above, the item's vector from {@code vectors} (text, version). */
    static EnrichedAction purchase(String user, int topic, int item, long timeMs,
            String version, java.util.function.BiFunction<String, String, float[]> vectors) {
        EnrichedAction action = new EnrichedAction();
        action.eventId = "f" + (events++);
        action.userId = user;
        action.itemId = topic + "-" + item;
        action.action = Action.PURCHASE;
        action.eventTimeMs = timeMs;
        action.itemText = "topic " + topic + " item " + item;
        action.pinnedModelVersion = version;
        action.vector = HalfFloats.fromFloats(vectors.apply(action.itemText, version));
        action.modelVersion = version;
        action.terms = new String[] {"topic" + topic};
        return action;
    }

    @Test
    void aVersionSwitchRebuildsInterestsAndProfileFromTheUsersItemsInTheNewVersion()
            throws Exception {
        try (var h = harness()) {
            send(h, purchase("u", 0, 1, T0, "v1"));
            send(h, purchase("u", 0, 2, T0 + 10, "v1"));
            send(h, purchase("u", 1, 1, T0 + 20, "v1"));
            h.processWatermark(T0 + 5_000);
            List<GraphDelta> before = drain(h);
            List<Integer> oldInterests = stateOf(h, "u").interests.keySet().stream().toList();
            assertThat(oldInterests).hasSize(2);
            assertThat(REQUESTS).isEmpty();

            send(h, purchase("u", 0, 3, T0 + 10_000, "v2"));
            h.processWatermark(T0 + 20_000);
            releaseHolds(h);
            List<GraphDelta> after = drain(h);

            // the three earlier items were embedded again, in v2, before the v2 vector was fused
            assertThat(REQUESTS).containsExactlyInAnyOrder("v2:topic 0 item 1",
                    "v2:topic 0 item 2", "v2:topic 1 item 1");
            UserGraph graph = stateOf(h, "u");
            assertThat(graph.longTerm.modelVersion).isEqualTo("v2");
            assertThat(graph.shortTerm.modelVersion).isEqualTo("v2");
            assertThat(graph.interests.values()).hasSize(2)
                    .allSatisfy(i -> assertThat(i.centroid.modelVersion).isEqualTo("v2"));
            assertThat(graph.edges.values()).hasSize(4).allSatisfy(edge -> {
                assertThat(edge.modelVersion).isEqualTo("v2");
                assertThat(edge.interestId).isNotIn(oldInterests).isGreaterThanOrEqualTo(0);
            });
            // the topic structure survives the switch: 0-1, 0-2 and 0-3 share an interest
            assertThat(graph.edges.get("0-1").interestId).isEqualTo(graph.edges.get("0-3").interestId)
                    .isEqualTo(graph.edges.get("0-2").interestId)
                    .isNotEqualTo(graph.edges.get("1-1").interestId);
            // downstream sees the old interests go and only v2 vectors arrive
            assertThat(ops(after, DeltaOp.OpCase.INTEREST_REMOVE)).extracting(
                    op -> op.getInterestRemove().getInterestId())
                    .containsExactlyInAnyOrderElementsOf(oldInterests);
            assertThat(ops(after, DeltaOp.OpCase.INTEREST_UPSERT)).isNotEmpty().allSatisfy(
                    op -> assertThat(op.getInterestUpsert().getModelVersion()).isEqualTo("v2"));
            assertThat(ops(after, DeltaOp.OpCase.PROFILE_UPDATE)).singleElement().satisfies(
                    op -> assertThat(op.getProfileUpdate().getModelVersion()).isEqualTo("v2"));
            assertThat(ops(before, DeltaOp.OpCase.PROFILE_UPDATE)).allSatisfy(
                    op -> assertThat(op.getProfileUpdate().getModelVersion()).isEqualTo("v1"));
        }
    }

    @Test
    void positiveEventsBecomeTrainingExamplesOfTheUsersPreviousItems() throws Exception {
        try (var h = harness()) {
            send(h, purchase("u", 0, 1, T0, "v1"));
            send(h, purchase("u", 0, 2, T0 + 10, "v1"));
            EnrichedAction disliked = purchase("u", 1, 9, T0 + 20, "v1");
            disliked.action = Action.DISLIKE;
            send(h, disliked);
            send(h, purchase("u", 0, 3, T0 + 30, "v1"));
            h.processWatermark(T0 + 5_000);
            send(h, purchase("u", 0, 4, T0 + 6_000, "v1"));
            send(h, purchase("u", 0, 5, T0 + 6_010, "v1"));
            send(h, purchase("w", 2, 1, T0 + 6_020, "v1")); // another user's first item: none
            h.processWatermark(T0 + 10_000);

            List<String> examples = new ArrayList<>();
            for (StreamRecord<TrainingExample> record
                    : h.getSideOutput(UserGraphFunction.TRAINING_EXAMPLES)) {
                examples.add(record.getValue().context + " -> " + record.getValue().positive);
                assertThat(record.getTimestamp()).isGreaterThanOrEqualTo(
                        record.getValue().eventTimeMs);
            }
            assertThat(examples).containsExactly(
                    "topic 0 item 1 -> topic 0 item 2",
                    "topic 0 item 1 | topic 0 item 2 -> topic 0 item 3",
                    "topic 0 item 1 | topic 0 item 2 | topic 0 item 3 -> topic 0 item 4",
                    "topic 0 item 2 | topic 0 item 3 | topic 0 item 4 -> topic 0 item 5");
        }
    }

    /** The items whose texts the operator keeps for the user. */
    private static List<String> itemTexts(
            KeyedOneInputStreamOperatorTestHarness<String, EnrichedAction, DeltaRecord> h,
            String user) throws Exception {
        h.getOperator().setCurrentKey(user);
        List<String> items = new ArrayList<>();
        h.getOperator().getKeyedStateBackend().getPartitionedState(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE, new MapStateDescriptor<>("edge-item-texts",
                        Types.STRING, Types.POJO(FineTuningSupport.ItemText.class)))
                .keys().forEach(items::add);
        items.sort(null);
        return items;
    }

    @Test
    void anErasureForgetsTheUsersItemTexts() throws Exception {
        try (var h = harness()) {
            send(h, purchase("u", 0, 1, T0, "v1"));
            send(h, purchase("u", 0, 2, T0 + 10, "v1"));
            h.processWatermark(T0 + 5_000);
            assertThat(itemTexts(h, "u")).containsExactly("0-1", "0-2");
            EnrichedAction forget = new EnrichedAction();
            forget.eventId = "forget";
            forget.userId = "u";
            forget.itemId = "";
            forget.action = Action.FORGET_USER;
            forget.eventTimeMs = T0 + 6_000;
            send(h, forget);
            send(h, purchase("u", 0, 3, T0 + 6_010, "v1"));
            h.processWatermark(T0 + 10_000);
            // only the new item: no example from before the erasure, one text left
            assertThat(h.getSideOutput(UserGraphFunction.TRAINING_EXAMPLES)).hasSize(1);
            assertThat(itemTexts(h, "u")).containsExactly("0-3");
        }
    }

    @Test
    void aSampleOfExamplesIsChosenByEventIdTheSameEveryTime() throws Exception {
        List<List<String>> runs = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            try (var h = harness(0.3)) {
                for (int i = 0; i < 200; i++) {
                    EnrichedAction action = purchase("u", i % 4, i, T0 + i * 10L, "v1");
                    action.eventId = "event-" + i;
                    send(h, action);
                }
                h.processWatermark(T0 + 10_000);
                List<String> ids = new ArrayList<>();
                h.getSideOutput(UserGraphFunction.TRAINING_EXAMPLES)
                        .forEach(r -> ids.add(r.getValue().eventId));
                runs.add(ids);
            }
        }
        assertThat(runs.get(0)).hasSizeBetween(40, 80).isEqualTo(runs.get(1));
    }

    @Test
    void aCheckpointCompletesWhileAReBaseWaitsForItsVectors() throws Exception {
        gate = new CompletableFuture<>();
        OperatorSubtaskState whileWaiting;
        List<dev.interestgraph.proto.v2.GraphDelta> released;
        EnrichedAction later = purchase("u", 1, 2, T0 + 21_000, "v2");
        try (var h = harness(GatedEncoder::new, 1.0, null)) {
            send(h, purchase("u", 0, 1, T0, "v1"));
            send(h, purchase("u", 0, 2, T0 + 10, "v1"));
            send(h, purchase("u", 1, 1, T0 + 20, "v1"));
            h.processWatermark(T0 + 5_000);
            assertThat(GraphTestSupport.drainWire(h)).hasSize(1);

            send(h, purchase("u", 0, 3, T0 + 10_000, "v2"));
            h.processWatermark(T0 + 20_000);
            // the flush waits for its re-base's vectors, without blocking the task
            assertThat(GraphTestSupport.drainWire(h)).isEmpty();
            assertThat(h.numProcessingTimeTimers()).isEqualTo(1);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (REQUESTS.size() < 3) { // the batcher sends them after its batching delay
                assertThat(System.nanoTime()).as("requests sent").isLessThan(deadline);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
            assertThat(REQUESTS).containsExactlyInAnyOrder("v2:topic 0 item 1",
                    "v2:topic 0 item 2", "v2:topic 1 item 1");
            whileWaiting = h.snapshot(1, 1); // a checkpoint with the requests in flight
            h.notifyOfCompletedCheckpoint(1);
            assertThat(stateOf(h, "u").longTerm.modelVersion).isEqualTo("v1");

            // a later slot of the same user waits behind the held flush
            send(h, later);
            h.processWatermark(T0 + 30_000);
            assertThat(GraphTestSupport.drainWire(h)).isEmpty();

            gate.complete(null);
            releaseHolds(h);
            released = GraphTestSupport.drainWire(h);
            assertThat(released).hasSize(2);
            assertThat(released.get(0).getSeq()).isLessThan(released.get(1).getSeq());
            assertThat(stateOf(h, "u").longTerm.modelVersion).isEqualTo("v2");
            assertThat(stateOf(h, "u").edges.asMap()).containsKeys("0-3", "1-2");
        }

        // restored from the checkpoint taken while waiting: the hold asks again, same deltas
        REQUESTS.clear();
        try (var h = harness(FakeEncoder::new, 1.0, whileWaiting)) {
            assertThat(h.numProcessingTimeTimers()).isEqualTo(1);
            send(h, later);
            h.processWatermark(T0 + 30_000);
            releaseHolds(h);
            assertThat(REQUESTS).contains("v2:topic 0 item 1", "v2:topic 0 item 2",
                    "v2:topic 1 item 1");
            assertThat(GraphTestSupport.drainWire(h)).isEqualTo(released);
        }
    }

    @Test
    void theEndOfABoundedInputFinishesAHeldFlush() throws Exception {
        // no processing-time timer fires after the final watermark: the hold must end there
        gate = new CompletableFuture<>();
        try (var h = harness(GatedEncoder::new, 1.0, null)) {
            send(h, purchase("u", 0, 1, T0, "v1"));
            h.processWatermark(T0 + 5_000);
            send(h, purchase("u", 0, 3, T0 + 10_000, "v2"));
            h.processWatermark(T0 + 20_000);
            assertThat(GraphTestSupport.drainWire(h)).hasSize(1); // the v1 flush only
            gate.complete(null);
            h.processWatermark(Long.MAX_VALUE);
            assertThat(GraphTestSupport.drainWire(h)).hasSize(1);
            assertThat(stateOf(h, "u").longTerm.modelVersion).isEqualTo("v2");
            assertThat(h.numProcessingTimeTimers()).isLessThanOrEqualTo(1); // a stale poll at most
        }
    }
}
