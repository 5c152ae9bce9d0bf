package dev.interestgraph.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.interestgraph.model.Action;
import dev.interestgraph.model.UserAction;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
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

    private static UserAction event(String user, long time) {
        return new UserAction("e-" + user + "-" + time, user, "item" + time, Action.RATE, time,
                4.0, null);
    }
}
