package dev.interestgraph.ingest;

import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;

/**
 * What the Kafka sources emit: a parsed record or a dead letter, never an exception, so that bad
 * data can't fail the job. Parsing happens in the source so that watermarks are generated per
 * Kafka partition from the events' own timestamps.
 */
public class InputRecord {
    public UserAction userAction;
    public ItemVersion item;
    public DeadLetter deadLetter;

    public InputRecord() {}

    public static InputRecord of(UserAction action) {
        InputRecord record = new InputRecord();
        record.userAction = action;
        return record;
    }

    public static InputRecord of(ItemVersion item) {
        InputRecord record = new InputRecord();
        record.item = item;
        return record;
    }

    public static InputRecord of(DeadLetter deadLetter) {
        InputRecord record = new InputRecord();
        record.deadLetter = deadLetter;
        return record;
    }

    /**
     * Event time for the watermark: dead letters report {@code Long.MIN_VALUE} so that a bad
     * timestamp can never move event time.
     */
    public long eventTimeMs() {
        if (userAction != null) {
            return userAction.eventTimeMs;
        }
        if (item != null) {
            return item.updatedMs;
        }
        return Long.MIN_VALUE;
    }
}
