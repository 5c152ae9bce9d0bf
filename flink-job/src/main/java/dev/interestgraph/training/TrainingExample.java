package dev.interestgraph.training;

/**
 * One contrastive training example for the encoder's tuner (a Flink POJO): the texts of a user's
 * last few positive items before an event ({@link #context}, joined with " | ") and the text of
 * the item of that event ({@link #positive}). Emitted by the user-graph operator; carries no user
 * id (the tuner needs none).
 */
public class TrainingExample {
    public String context;
    public String positive;
    /** Event time of the positive event. */
    public long eventTimeMs;
    /** Id of the positive event: orders examples and makes batch ids stable across replays. */
    public String eventId;

    public TrainingExample() {}

    public TrainingExample(String context, String positive, long eventTimeMs, String eventId) {
        this.context = context;
        this.positive = positive;
        this.eventTimeMs = eventTimeMs;
        this.eventId = eventId;
    }

    @Override
    public String toString() {
        return "TrainingExample{@" + eventTimeMs + ", event " + eventId + "}";
    }
}
