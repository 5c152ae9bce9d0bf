package dev.interestgraph.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.interestgraph.proto.v2.GraphDelta;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A replay that read no committed delta back is run again, and fails loudly the second time. */
class JobReplayRetryTest {

    private static JobReplay.Result result(int deltas) {
        List<GraphDelta> list = java.util.Collections.nCopies(deltas,
                GraphDelta.newBuilder().setUserId("u").build());
        return new JobReplay.Result(list, Map.of(), Map.of(), 1.0);
    }

    @Test
    void aReplayWithDeltasRunsOnce() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        JobReplay.Result result = JobReplay.withOneRetry(10, () -> {
            attempts.incrementAndGet();
            return result(3);
        });
        assertThat(attempts).hasValue(1);
        assertThat(result.deltas).hasSize(3);
    }

    @Test
    void aReplayThatCommittedNothingRunsAgainAndTheSecondResultCounts() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        JobReplay.Result result = JobReplay.withOneRetry(10,
                () -> result(attempts.incrementAndGet() == 1 ? 0 : 5));
        assertThat(attempts).hasValue(2);
        assertThat(result.deltas).hasSize(5);
    }

    @Test
    void twoEmptyReplaysFailInsteadOfScoringAnEmptyGraph() {
        AtomicInteger attempts = new AtomicInteger();
        assertThatThrownBy(() -> JobReplay.withOneRetry(10, () -> {
            attempts.incrementAndGet();
            return result(0);
        })).isInstanceOf(IllegalStateException.class).hasMessageContaining("committed no delta");
        assertThat(attempts).hasValue(2);
    }

    @Test
    void anEmptyInputIsNotRetried() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        JobReplay.withOneRetry(0, () -> {
            attempts.incrementAndGet();
            return result(0);
        });
        assertThat(attempts).hasValue(1);
    }
}
