package dev.interestgraph.training;

/** The tuner's answer to one {@link TrainingBatch} (a Flink POJO). */
public class TrainingResult {
    public String batchId;
    public int examples;
    /** The highest event time in the batch. */
    public long maxEventTimeMs;
    /** The batch's contrastive loss before the step (for a repeated batch: of its first time). */
    public float loss;
    /** The step the batch was applied as (for a repeated batch: the step of its first time). */
    public long step;
    /** False when the tuner had applied this batch id already and trained nothing. */
    public boolean applied;
    /** The latest item_encoder version after this request ("1" until the first publish). */
    public String modelVersion;

    public TrainingResult() {}

    public TrainingResult(String batchId, int examples, long maxEventTimeMs, float loss, long step,
            boolean applied, String modelVersion) {
        this.batchId = batchId;
        this.examples = examples;
        this.maxEventTimeMs = maxEventTimeMs;
        this.loss = loss;
        this.step = step;
        this.applied = applied;
        this.modelVersion = modelVersion;
    }

    @Override
    public String toString() {
        return "TrainingResult{" + batchId + ", step " + step + (applied ? "" : " (already applied)")
                + ", loss " + loss + ", version " + modelVersion + "}";
    }
}
