package dev.interestgraph.ingest;

import static dev.interestgraph.ingest.UserEventParserTest.NOW;
import static dev.interestgraph.ingest.UserEventParserTest.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.interestgraph.config.InterestGraphOptions.InputFormat;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.proto.v1.ItemEvent;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ItemEventParserTest {
    private static final InputLimits LIMITS = new InputLimits(16, 40, Duration.ofHours(1).toMillis());

    private final ItemEventParser json = new ItemEventParser(InputFormat.JSON, LIMITS);
    private final ItemEventParser proto = new ItemEventParser(InputFormat.PROTOBUF, LIMITS);

    private void assertJsonRejected(String payload, DeadLetterReason reason) {
        assertThatThrownBy(() -> json.parse(utf8(payload), NOW))
                .isInstanceOfSatisfying(InvalidRecordException.class,
                        e -> assertThat(e.reason()).isEqualTo(reason));
    }

    @Test
    void parsesValidJsonItem() throws Exception {
        ItemVersion item = json.parse(utf8("{\"item_id\":\"m-1\",\"title\":\"Heat\","
                + "\"description\":\"A heist\",\"tags\":[\"Crime\",\"Thriller\"],\"updated_ms\":"
                + NOW + "}"), NOW);

        assertThat(item.itemId).isEqualTo("m-1");
        assertThat(item.title).isEqualTo("Heat");
        assertThat(item.description).isEqualTo("A heist");
        assertThat(item.tags).containsExactly("Crime", "Thriller");
        assertThat(item.updatedMs).isEqualTo(NOW);
    }

    @Test
    void jsonItemWithTagsButNoTitleIsValid() throws Exception {
        ItemVersion item = json.parse(utf8("{\"item_id\":\"m-1\",\"tags\":[\"jazz\"],"
                + "\"updated_ms\":" + NOW + "}"), NOW);

        assertThat(item.title).isNull();
        assertThat(item.tags).containsExactly("jazz");
    }

    @Test
    void parsesValidProtobufItem() throws Exception {
        byte[] bytes = ItemEvent.newBuilder().setItemId("m-2").setTitle("Alien")
                .setDescription("In space").addTags("Horror").addTags("Sci-Fi")
                .setUpdatedMs(NOW).build().toByteArray();

        ItemVersion item = proto.parse(bytes, NOW);

        assertThat(item.itemId).isEqualTo("m-2");
        assertThat(item.title).isEqualTo("Alien");
        assertThat(item.description).isEqualTo("In space");
        assertThat(item.tags).containsExactly("Horror", "Sci-Fi");
        assertThat(item.updatedMs).isEqualTo(NOW);
    }

    @Test
    void itemWithNeitherTitleNorTagsIsMissingField() {
        assertJsonRejected("{\"item_id\":\"m-1\",\"title\":\"  \",\"updated_ms\":" + NOW + "}",
                DeadLetterReason.MISSING_FIELD);
        assertThatThrownBy(() -> proto.parse(ItemEvent.newBuilder().setItemId("m-1")
                .setUpdatedMs(NOW).build().toByteArray(), NOW))
                .isInstanceOfSatisfying(InvalidRecordException.class,
                        e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.MISSING_FIELD));
    }

    @Test
    void missingItemIdOrUpdatedMsIsMissingField() {
        assertJsonRejected("{\"title\":\"x\",\"updated_ms\":" + NOW + "}",
                DeadLetterReason.MISSING_FIELD);
        assertJsonRejected("{\"item_id\":\"m-1\",\"title\":\"x\"}", DeadLetterReason.MISSING_FIELD);
    }

    @Test
    void tagsThatAreNotAnArrayOfStringsAreWrongType() {
        assertJsonRejected("{\"item_id\":\"m-1\",\"tags\":\"a,b\",\"updated_ms\":" + NOW + "}",
                DeadLetterReason.WRONG_TYPE);
        assertJsonRejected("{\"item_id\":\"m-1\",\"tags\":[\"a\",3],\"updated_ms\":" + NOW + "}",
                DeadLetterReason.WRONG_TYPE);
    }

    @Test
    void itemIdAsNumberIsWrongType() {
        assertJsonRejected("{\"item_id\":7,\"title\":\"x\",\"updated_ms\":" + NOW + "}",
                DeadLetterReason.WRONG_TYPE);
    }

    @Test
    void badItemIdIsInvalidId() {
        assertJsonRejected("{\"item_id\":\"\",\"title\":\"x\",\"updated_ms\":" + NOW + "}",
                DeadLetterReason.INVALID_ID);
        assertJsonRejected("{\"item_id\":\"" + "m".repeat(17) + "\",\"title\":\"x\","
                + "\"updated_ms\":" + NOW + "}", DeadLetterReason.INVALID_ID);
        assertJsonRejected("{\"item_id\":\"m\\t1\",\"title\":\"x\",\"updated_ms\":" + NOW + "}",
                DeadLetterReason.INVALID_ID);
    }

    @Test
    void updatedMsInSecondsOrTooFarAheadIsInvalidTimestamp() {
        assertJsonRejected("{\"item_id\":\"m-1\",\"title\":\"x\",\"updated_ms\":" + NOW / 1000
                + "}", DeadLetterReason.INVALID_TIMESTAMP);
        assertJsonRejected("{\"item_id\":\"m-1\",\"title\":\"x\",\"updated_ms\":"
                + (NOW + Duration.ofHours(1).toMillis() + 1) + "}",
                DeadLetterReason.INVALID_TIMESTAMP);
    }

    @Test
    void tooLongTitleDescriptionOrTagsIsTextTooLong() {
        String longText = "x".repeat(41);
        assertJsonRejected("{\"item_id\":\"m-1\",\"title\":\"" + longText + "\",\"updated_ms\":"
                + NOW + "}", DeadLetterReason.TEXT_TOO_LONG);
        assertJsonRejected("{\"item_id\":\"m-1\",\"title\":\"x\",\"description\":\"" + longText
                + "\",\"updated_ms\":" + NOW + "}", DeadLetterReason.TEXT_TOO_LONG);
        String[] tags = new String[12];
        Arrays.fill(tags, "\"abc\""); // 12 * 3 + 11 commas = 47 > 40
        assertJsonRejected("{\"item_id\":\"m-1\",\"tags\":[" + String.join(",", tags)
                + "],\"updated_ms\":" + NOW + "}", DeadLetterReason.TEXT_TOO_LONG);
    }

    @Test
    void truncatedProtobufItemIsMalformedProtobuf() {
        byte[] valid = ItemEvent.newBuilder().setItemId("m-2").setTitle("Alien")
                .setUpdatedMs(NOW).build().toByteArray();

        assertThatThrownBy(() -> proto.parse(Arrays.copyOf(valid, valid.length - 2), NOW))
                .isInstanceOfSatisfying(InvalidRecordException.class,
                        e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.MALFORMED_PROTOBUF));
    }
}
