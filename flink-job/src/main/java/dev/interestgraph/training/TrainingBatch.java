package dev.interestgraph.training;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * One training step for the tuner (a Flink POJO): the examples in the order they are sent and an
 * id derived from their event ids only ({@link #idOf}), so that a replay of the same events, after
 * a failure or in a second run, sends the same id and the tuner applies the step once.
 */
public class TrainingBatch {
    /** Hex characters of the SHA-256 kept: 128 bits, no collision among any realistic number of batches. */
    static final int ID_HEX_CHARS = 32;

    public String batchId;
    public List<TrainingExample> examples;

    public TrainingBatch() {}

    public TrainingBatch(String batchId, List<TrainingExample> examples) {
        this.batchId = batchId;
        this.examples = examples;
    }

    /** A batch of these examples, in this order, with its stable id. */
    public static TrainingBatch of(List<TrainingExample> examples) {
        return new TrainingBatch(idOf(examples), new ArrayList<>(examples));
    }

    /** SHA-256 over the event ids in order, each length-prefixed (so "ab","c" differs from "a","bc"). */
    public static String idOf(List<TrainingExample> examples) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        for (TrainingExample example : examples) {
            byte[] id = String.valueOf(example.eventId).getBytes(StandardCharsets.UTF_8);
            sha.update(new byte[] {(byte) (id.length >>> 24), (byte) (id.length >>> 16),
                (byte) (id.length >>> 8), (byte) id.length});
            sha.update(id);
        }
        return HexFormat.of().formatHex(sha.digest()).substring(0, ID_HEX_CHARS);
    }

    public long maxEventTimeMs() {
        return examples.stream().mapToLong(e -> e.eventTimeMs).max().orElse(Long.MIN_VALUE);
    }

    @Override
    public String toString() {
        return "TrainingBatch{" + batchId + ", " + examples.size() + " examples}";
    }
}
