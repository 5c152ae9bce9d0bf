package dev.interestgraph.eval;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.startup.KafkaStartupChecks;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

class FineTuneEvaluationMainTest {

    @Test
    void theTunersStepIsTheFirstKeyOfItsProgressFile() {
        // encoder/tuner.py's tuner-progress.json
        assertEquals(437, FineTuneEvaluationMain.stepOf("{\"step\": 437, \"checkpoint_step\": 430}"));
        assertEquals(-1, FineTuneEvaluationMain.stepOf("no json here"));
    }

    @Test
    void firstUsersKeepsTheLowestIdsInNumericOrderAndTheReplayOrder() {
        List<UserAction> events = List.of(event("10", 1), event("2", 2), event("1", 3),
                event("10", 4), event("3", 5));
        List<UserAction> kept = FineTuneEvaluationMain.firstUsers(events, 2);
        assertEquals(List.of("2", "1"), kept.stream().map(e -> e.userId)
                .collect(Collectors.toList()));
        assertEquals(events, FineTuneEvaluationMain.firstUsers(events, 0));
    }

    @Test
    void meanRandomPairCosineOfIdenticalAndOrthogonalVectors() {
        Map<String, float[]> same = Map.of("a", new float[] {1, 0}, "b", new float[] {1, 0},
                "c", new float[] {1, 0});
        assertEquals(1.0, FineTuneEvaluationMain.meanRandomPairCosine(same), 1e-9);
        Map<String, float[]> orthogonal = Map.of("a", new float[] {1, 0, 0},
                "b", new float[] {0, 1, 0}, "c", new float[] {0, 0, 1});
        assertEquals(0.0, FineTuneEvaluationMain.meanRandomPairCosine(orthogonal), 1e-9);
    }

    @Test
    void theReproduceLineKeepsEveryOptionButTheDataAndOutputFolders() {
        assertEquals("--eval.max-users 150 --eval.learning-rate 1e-4 --fine-tune.example-sample 0.1",
                FineTuneEvaluationMain.reproduce(new String[] {"--eval.out", "/x/docs",
                    "--eval.max-users", "150", "--eval.data", "/data/ml", "--eval.learning-rate",
                    "1e-4", "--fine-tune.example-sample", "0.1"}));
    }

    @Test
    void passOnesCheckpointsStillEndBeforeItsKafkaTransactions() {
        Configuration pass1 = FineTuneEvaluationMain.pass1Options();
        pass1.setString("execution.checkpointing.interval", "2 s"); // JobReplay's
        assertTrue(pass1.get(CheckpointingOptions.CHECKPOINTING_TIMEOUT)
                .compareTo(Duration.ofMinutes(20)) >= 0); // a CPU tuner's training fits
        // a checkpoint that outlived its transaction would lose the transaction's records
        assertDoesNotThrow(() -> KafkaStartupChecks.checkCheckpointsEndBeforeTransactions(pass1));
        // and the local broker allows transactions that long
        assertTrue(pass1.get(InterestGraphOptions.KAFKA_TRANSACTION_TIMEOUT)
                .compareTo(Duration.ofHours(1)) <= 0);
    }

    private static UserAction event(String user, long time) {
        return new UserAction("e-" + user + "-" + time, user, "item" + time, Action.RATE, time,
                4.0, null);
    }
}
