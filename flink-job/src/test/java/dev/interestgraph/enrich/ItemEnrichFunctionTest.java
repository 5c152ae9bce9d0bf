package dev.interestgraph.enrich;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Harness tests of {@code item-enrich}: the event-time temporal join waits for the watermark;
 * arrival order joins at once when a version valid at the action's time is known, and waits for
 * the watermark only when none is.
 */
class ItemEnrichFunctionTest {
    private static final long T0 = 1_700_000_000_000L;

    private static KeyedTwoInputStreamOperatorTestHarness<String, UserAction, ItemVersion,
            EnrichedAction> harness(boolean arrival) throws Exception {
        var h = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(new ItemEnrichFunction(arrival)),
                (UserAction action) -> action.itemId, (ItemVersion item) -> item.itemId,
                Types.STRING);
        h.open();
        return h;
    }

    private static ItemVersion version(String item, String title, long updatedMs) {
        ItemVersion version = new ItemVersion(item, title, "", new String[] {title}, updatedMs);
        version.embedding = new float[] {1f, 0f, 0f, 0f};
        version.modelVersion = "v1";
        return version;
    }

    private static UserAction click(String id, String item, long timeMs) {
        return new UserAction(id, "u", item, Action.CLICK, timeMs, 0, null);
    }

    private static List<EnrichedAction> drain(KeyedTwoInputStreamOperatorTestHarness<String,
            UserAction, ItemVersion, EnrichedAction> h) {
        List<EnrichedAction> out = new ArrayList<>();
        Object record;
        while ((record = h.getOutput().poll()) != null) {
            if (record instanceof StreamRecord) {
                out.add((EnrichedAction) ((StreamRecord<?>) record).getValue());
            }
        }
        return out;
    }

    @Test
    void eventTimeOrderWaitsForTheWatermarkEvenWhenTheVersionIsKnown() throws Exception {
        var h = harness(false);
        h.processElement2(new StreamRecord<>(version("i", "old", T0), T0));
        h.processElement1(new StreamRecord<>(click("e1", "i", T0 + 10), T0 + 10));
        assertThat(drain(h)).isEmpty();
        assertThat(h.numEventTimeTimers()).isEqualTo(1);
        h.processBothWatermarks(new org.apache.flink.streaming.api.watermark.Watermark(T0 + 10));
        assertThat(drain(h)).singleElement()
                .satisfies(a -> assertThat(a.terms).containsExactly("old"));
        h.close();
    }

    @Test
    void arrivalOrderJoinsAKnownVersionAtOnce() throws Exception {
        var h = harness(true);
        h.processElement2(new StreamRecord<>(version("i", "old", T0), T0));
        h.processElement2(new StreamRecord<>(version("i", "new", T0 + 100), T0 + 100));
        h.processElement1(new StreamRecord<>(click("e1", "i", T0 + 10), T0 + 10));
        // no watermark: out at once, with the newest version at or before its time
        List<EnrichedAction> out = drain(h);
        assertThat(out).singleElement().satisfies(a -> {
            assertThat(a.eventId).isEqualTo("e1");
            assertThat(a.terms).containsExactly("old");
            assertThat(a.vector).isNotNull();
        });
        h.processElement1(new StreamRecord<>(click("e2", "i", T0 + 200), T0 + 200));
        assertThat(drain(h)).singleElement()
                .satisfies(a -> assertThat(a.terms).containsExactly("new"));
        // nothing waits: no timer, no waiting action
        assertThat(h.numEventTimeTimers()).isZero();
        h.close();
    }

    @Test
    void arrivalOrderWaitsForTheWatermarkWhenNoVersionIsKnownYet() throws Exception {
        var h = harness(true);
        // only a version after the action's time: the one valid at it may still arrive
        h.processElement2(new StreamRecord<>(version("i", "later", T0 + 500), T0 + 500));
        h.processElement1(new StreamRecord<>(click("e1", "i", T0 + 10), T0 + 10));
        assertThat(drain(h)).isEmpty();
        assertThat(h.numEventTimeTimers()).isEqualTo(1);
        h.processElement2(new StreamRecord<>(version("i", "valid", T0), T0));
        assertThat(drain(h)).isEmpty(); // still waits: a version arriving does not release it
        h.processBothWatermarks(new org.apache.flink.streaming.api.watermark.Watermark(T0 + 10));
        assertThat(drain(h)).singleElement()
                .satisfies(a -> assertThat(a.terms).containsExactly("valid"));
        assertThat(h.numEventTimeTimers()).isZero();
        h.close();
    }

    @Test
    void arrivalOrderLetsAnErasureThroughAtOnceAsBefore() throws Exception {
        var h = harness(true);
        h.processElement1(new StreamRecord<>(
                new UserAction("f", "u", "", Action.FORGET_USER, T0, 0, null), T0));
        assertThat(drain(h)).singleElement()
                .satisfies(a -> assertThat(a.action).isEqualTo(Action.FORGET_USER));
        h.close();
    }
}
