package dev.interestgraph.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.interestgraph.config.InterestGraphOptions.InputFormat;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v1.UserEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class UserEventParserTest {
    static final long NOW = 1_700_000_000_000L;
    static final InputLimits LIMITS = new InputLimits(16, 64, Duration.ofDays(1).toMillis());

    private final UserEventParser json = new UserEventParser(InputFormat.JSON, LIMITS);
    private final UserEventParser proto = new UserEventParser(InputFormat.PROTOBUF, LIMITS);

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A valid JSON event with one field replaced (or removed when the replacement is null). */
    static String event(String field, String rawValue) {
        String[][] fields = {
            {"event_id", "\"e-1\""}, {"user_id", "\"u-1\""}, {"item_id", "\"i-1\""},
            {"action", "\"CLICK\""}, {"event_time_ms", String.valueOf(NOW - 1000)}
        };
        StringBuilder sb = new StringBuilder("{");
        boolean replaced = false;
        for (String[] f : fields) {
            String value = f[1];
            if (f[0].equals(field)) {
                replaced = true;
                if (rawValue == null) {
                    continue;
                }
                value = rawValue;
            }
            if (sb.length() > 1) {
                sb.append(',');
            }
            sb.append('"').append(f[0]).append("\":").append(value);
        }
        if (!replaced && field != null) {
            sb.append(",\"").append(field).append("\":").append(rawValue);
        }
        return sb.append('}').toString();
    }

    private void assertRejected(ThrowingCallable call, DeadLetterReason reason) {
        assertThatThrownBy(call).isInstanceOf(InvalidRecordException.class)
                .satisfies(e -> assertThat(((InvalidRecordException) e).reason()).isEqualTo(reason));
    }

    private void assertJsonRejected(String payload, DeadLetterReason reason) {
        assertRejected(() -> json.parse(utf8(payload), NOW), reason);
    }

    @Test
    void parsesValidJsonEventWithAllFields() throws Exception {
        UserAction action = json.parse(utf8("{\"event_id\":\"e-9\",\"user_id\":\"u-7\","
                + "\"item_id\":\"movie-42\",\"action\":\"rate\",\"event_time_ms\":" + NOW
                + ",\"value\":4.5,\"text\":\"great film\",\"attrs\":{\"k\":\"v\"}}"), NOW);

        assertThat(action).isEqualTo(new UserAction("e-9", "u-7", "movie-42", Action.RATE, NOW,
                4.5, "great film"));
    }

    @Test
    void jsonEventWithoutValueOrTextDefaultsToZeroAndNull() throws Exception {
        UserAction action = json.parse(utf8(event(null, null)), NOW);

        assertThat(action.action).isEqualTo(Action.CLICK);
        assertThat(action.value).isZero();
        assertThat(action.text).isNull();
        assertThat(action.eventTimeMs).isEqualTo(NOW - 1000);
    }

    @Test
    void parsesValidProtobufEvent() throws Exception {
        byte[] bytes = UserEvent.newBuilder().setEventId("e-1").setUserId("u-1").setItemId("i-1")
                .setAction(dev.interestgraph.proto.v1.Action.COMMENT).setEventTimeMs(NOW)
                .setText("nice").putAttrs("source", "app").build().toByteArray();

        assertThat(proto.parse(bytes, NOW)).isEqualTo(
                new UserAction("e-1", "u-1", "i-1", Action.COMMENT, NOW, 0.0, "nice"));
    }

    @Test
    void protobufEventWithEmptyTextHasNullText() throws Exception {
        byte[] bytes = UserEvent.newBuilder().setEventId("e-1").setUserId("u-1").setItemId("i-1")
                .setAction(dev.interestgraph.proto.v1.Action.VIEW).setEventTimeMs(NOW).build()
                .toByteArray();

        assertThat(proto.parse(bytes, NOW).text).isNull();
    }

    @Test
    void forgetUserWithoutItemIdIsValidInJsonAndProtobuf() throws Exception {
        UserAction fromJson = json.parse(utf8(event("item_id", null)
                .replace("\"CLICK\"", "\"FORGET_USER\"")), NOW);
        UserAction fromProto = proto.parse(UserEvent.newBuilder().setEventId("e-1")
                .setUserId("u-1").setAction(dev.interestgraph.proto.v1.Action.FORGET_USER)
                .setEventTimeMs(NOW).build().toByteArray(), NOW);

        assertThat(fromJson.action).isEqualTo(Action.FORGET_USER);
        assertThat(fromJson.itemId).isEmpty();
        assertThat(fromProto.action).isEqualTo(Action.FORGET_USER);
        assertThat(fromProto.itemId).isEmpty();
    }

    @Test
    void nonForgetActionWithoutItemIdIsInvalidId() {
        assertJsonRejected(event("item_id", null), DeadLetterReason.INVALID_ID);
    }

    @Test
    void emptyOrNullPayloadIsEmptyRecord() {
        assertRejected(() -> json.parse(new byte[0], NOW), DeadLetterReason.EMPTY_RECORD);
        assertRejected(() -> json.parse(null, NOW), DeadLetterReason.EMPTY_RECORD);
        assertRejected(() -> proto.parse(new byte[0], NOW), DeadLetterReason.EMPTY_RECORD);
    }

    @Test
    void invalidUtf8InsideJsonStringIsInvalidUtf8() {
        // ISO-8859-1 maps U+00C3 and '(' to the single bytes 0xC3 0x28: an invalid UTF-8 sequence
        byte[] payload = event("event_id", "\"e\u00C3(\"").getBytes(StandardCharsets.ISO_8859_1);
        assertThat(payload).containsSequence((byte) 0xC3, (byte) 0x28);

        assertRejected(() -> json.parse(payload, NOW), DeadLetterReason.INVALID_UTF8);
    }

    @Test
    void truncatedJsonIsMalformedJson() {
        String valid = event(null, null);
        assertJsonRejected(valid.substring(0, valid.length() - 10), DeadLetterReason.MALFORMED_JSON);
    }

    @Test
    void jsonThatIsNotAnObjectIsMalformedJson() {
        assertJsonRejected("[1,2,3]", DeadLetterReason.MALFORMED_JSON);
        assertJsonRejected("\"just a string\"", DeadLetterReason.MALFORMED_JSON);
        assertJsonRejected("   ", DeadLetterReason.MALFORMED_JSON);
    }

    @Test
    void deeplyNestedJsonIsMalformedJsonNotStackOverflow() {
        String nested = "[".repeat(100_000);
        assertJsonRejected(nested, DeadLetterReason.MALFORMED_JSON);
    }

    @Test
    void truncatedProtobufIsMalformedProtobuf() {
        byte[] valid = UserEvent.newBuilder().setEventId("e-1").setUserId("u-1").setItemId("i-1")
                .setAction(dev.interestgraph.proto.v1.Action.VIEW).setEventTimeMs(NOW).build()
                .toByteArray();
        byte[] truncated = java.util.Arrays.copyOf(valid, valid.length - 3);

        assertRejected(() -> proto.parse(truncated, NOW), DeadLetterReason.MALFORMED_PROTOBUF);
    }

    @Test
    void jsonPayloadOnProtobufTopicIsRejected() {
        // '{' = field 15, wire type 3 (start group): not a valid UserEvent
        assertRejected(() -> proto.parse(utf8(event(null, null)), NOW),
                DeadLetterReason.MALFORMED_PROTOBUF);
    }

    @Test
    void eachMissingRequiredJsonFieldIsMissingField() {
        for (String field : new String[] {"event_id", "user_id", "action", "event_time_ms"}) {
            assertThatThrownBy(() -> json.parse(utf8(event(field, null)), NOW))
                    .as(field)
                    .isInstanceOfSatisfying(InvalidRecordException.class, e -> {
                        assertThat(e.reason()).isEqualTo(DeadLetterReason.MISSING_FIELD);
                        assertThat(e.getMessage()).contains(field);
                    });
        }
    }

    @Test
    void jsonNullRequiredFieldIsMissingField() {
        assertJsonRejected(event("user_id", "null"), DeadLetterReason.MISSING_FIELD);
    }

    @Test
    void eventTimeAsStringIsWrongType() {
        assertJsonRejected(event("event_time_ms", "\"" + NOW + "\""), DeadLetterReason.WRONG_TYPE);
    }

    @Test
    void eventTimeAsFractionIsWrongType() {
        assertJsonRejected(event("event_time_ms", NOW + ".5"), DeadLetterReason.WRONG_TYPE);
    }

    @Test
    void eventTimeBeyondLongRangeIsWrongType() {
        assertJsonRejected(event("event_time_ms", "99999999999999999999999"),
                DeadLetterReason.WRONG_TYPE);
    }

    @Test
    void userIdAsNumberIsWrongType() {
        assertThatThrownBy(() -> json.parse(utf8(event("user_id", "42")), NOW))
                .isInstanceOfSatisfying(InvalidRecordException.class, e -> {
                    assertThat(e.reason()).isEqualTo(DeadLetterReason.WRONG_TYPE);
                    assertThat(e.getMessage()).contains("user_id");
                });
    }

    @Test
    void valueAsStringIsWrongType() {
        assertJsonRejected(event("value", "\"4\""), DeadLetterReason.WRONG_TYPE);
    }

    @Test
    void unknownJsonActionIsUnknownAction() {
        assertJsonRejected(event("action", "\"LIKE\""), DeadLetterReason.UNKNOWN_ACTION);
        assertJsonRejected(event("action", "\"\""), DeadLetterReason.UNKNOWN_ACTION);
        assertJsonRejected(event("action", "\"ACTION_UNSPECIFIED\""),
                DeadLetterReason.UNKNOWN_ACTION);
    }

    @Test
    void jsonActionIsCaseInsensitive() throws Exception {
        assertThat(json.parse(utf8(event("action", "\" purchase \"")), NOW).action)
                .isEqualTo(Action.PURCHASE);
    }

    @Test
    void unspecifiedOrUnrecognizedProtobufActionIsUnknownAction() {
        UserEvent.Builder base = UserEvent.newBuilder().setEventId("e-1").setUserId("u-1")
                .setItemId("i-1").setEventTimeMs(NOW);
        byte[] unspecified = base.clone().build().toByteArray();
        byte[] unrecognized = base.clone().setActionValue(42).build().toByteArray();

        assertRejected(() -> proto.parse(unspecified, NOW), DeadLetterReason.UNKNOWN_ACTION);
        assertRejected(() -> proto.parse(unrecognized, NOW), DeadLetterReason.UNKNOWN_ACTION);
    }

    @Test
    void emptyIdIsInvalidId() {
        assertJsonRejected(event("user_id", "\"\""), DeadLetterReason.INVALID_ID);
        assertJsonRejected(event("event_id", "\"   \""), DeadLetterReason.INVALID_ID);
    }

    @Test
    void idLongerThanMaxIdLengthIsInvalidIdButMaxLengthIsAccepted() throws Exception {
        assertThat(json.parse(utf8(event("item_id", "\"" + "x".repeat(16) + "\"")), NOW).itemId)
                .hasSize(16);
        assertJsonRejected(event("item_id", "\"" + "x".repeat(17) + "\""),
                DeadLetterReason.INVALID_ID);
    }

    @Test
    void idWithControlCharacterIsInvalidId() {
        assertJsonRejected(event("user_id", "\"u\\u0000x\""), DeadLetterReason.INVALID_ID);
        assertJsonRejected(event("item_id", "\"i\\nx\""), DeadLetterReason.INVALID_ID);
        assertJsonRejected(event("event_id", "\"e\\u009fx\""), DeadLetterReason.INVALID_ID);
    }

    @Test
    void negativeTimestampIsInvalidTimestamp() {
        assertJsonRejected(event("event_time_ms", "-1"), DeadLetterReason.INVALID_TIMESTAMP);
    }

    @Test
    void timestampInSecondsIsInvalidTimestamp() {
        assertJsonRejected(event("event_time_ms", String.valueOf(NOW / 1000)),
                DeadLetterReason.INVALID_TIMESTAMP);
    }

    @Test
    void timestampBeyondMaxFutureSkewIsInvalidButAtTheLimitIsAccepted() throws Exception {
        long limit = NOW + LIMITS.maxFutureSkewMs;
        assertThat(json.parse(utf8(event("event_time_ms", String.valueOf(limit))), NOW)
                .eventTimeMs).isEqualTo(limit);
        assertJsonRejected(event("event_time_ms", String.valueOf(limit + 1)),
                DeadLetterReason.INVALID_TIMESTAMP);
    }

    @Test
    void protobufTimestampZeroIsInvalidTimestamp() {
        byte[] bytes = UserEvent.newBuilder().setEventId("e-1").setUserId("u-1").setItemId("i-1")
                .setAction(dev.interestgraph.proto.v1.Action.VIEW).build().toByteArray();
        assertRejected(() -> proto.parse(bytes, NOW), DeadLetterReason.INVALID_TIMESTAMP);
    }

    @Test
    void rateOutsideZeroToFiveStarsIsInvalidValue() throws Exception {
        String rate = event("action", "\"RATE\"");
        assertJsonRejected(rate.replace("}", ",\"value\":7}"), DeadLetterReason.INVALID_VALUE);
        assertJsonRejected(rate.replace("}", ",\"value\":-0.5}"), DeadLetterReason.INVALID_VALUE);
        assertThat(json.parse(utf8(rate.replace("}", ",\"value\":5}")), NOW).value).isEqualTo(5.0);
    }

    @Test
    void protobufRateOfNaNOrSevenIsInvalidValue() {
        UserEvent.Builder rate = UserEvent.newBuilder().setEventId("e-1").setUserId("u-1")
                .setItemId("i-1").setAction(dev.interestgraph.proto.v1.Action.RATE)
                .setEventTimeMs(NOW);
        byte[] nan = rate.clone().setValue(Double.NaN).build().toByteArray();
        byte[] seven = rate.clone().setValue(7).build().toByteArray();

        assertRejected(() -> proto.parse(nan, NOW), DeadLetterReason.INVALID_VALUE);
        assertRejected(() -> proto.parse(seven, NOW), DeadLetterReason.INVALID_VALUE);
    }

    @Test
    void nonFiniteValueOfNonRateActionIsInvalidValue() {
        // 1e999 overflows to +Infinity when read as a double
        assertJsonRejected(event("value", "1e999"), DeadLetterReason.INVALID_VALUE);
        byte[] inf = UserEvent.newBuilder().setEventId("e-1").setUserId("u-1").setItemId("i-1")
                .setAction(dev.interestgraph.proto.v1.Action.VIEW).setEventTimeMs(NOW)
                .setValue(Double.NEGATIVE_INFINITY).build().toByteArray();
        assertRejected(() -> proto.parse(inf, NOW), DeadLetterReason.INVALID_VALUE);
    }

    @Test
    void textLongerThanMaxTextLengthIsTextTooLongButMaxIsAccepted() throws Exception {
        assertThat(json.parse(utf8(event("text", "\"" + "t".repeat(64) + "\"")), NOW).text)
                .hasSize(64);
        assertJsonRejected(event("text", "\"" + "t".repeat(65) + "\""),
                DeadLetterReason.TEXT_TOO_LONG);
        byte[] bytes = UserEvent.newBuilder().setEventId("e-1").setUserId("u-1").setItemId("i-1")
                .setAction(dev.interestgraph.proto.v1.Action.COMMENT).setEventTimeMs(NOW)
                .setTextBytes(ByteString.copyFromUtf8("t".repeat(65))).build().toByteArray();
        assertRejected(() -> proto.parse(bytes, NOW), DeadLetterReason.TEXT_TOO_LONG);
    }
}
