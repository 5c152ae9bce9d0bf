package dev.interestgraph.recommend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Hand-computed cases. */
class RankingMetricsTest {

    @Test
    void hitsAtRanksOneAndThreeOfFiveWithThreeRelevant() {
        RankingMetrics m = RankingMetrics.at(5, List.of("a", "x", "b", "y", "z"),
                Set.of("a", "b", "c"));
        assertThat(m.precision).isCloseTo(2.0 / 5, within(1e-12));
        assertThat(m.recall).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(m.f1).isCloseTo(2 * 0.4 * (2.0 / 3) / (0.4 + 2.0 / 3), within(1e-12));
        // DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) + 1/log2(4)
        double idcg = 1 + 1 / (Math.log(3) / Math.log(2)) + 0.5;
        assertThat(m.ndcg).isCloseTo(1.5 / idcg, within(1e-12));
        assertThat(m.hitRate).isEqualTo(1.0);
    }

    @Test
    void onlyTheFirstKCountAndShortListsStillDivideByK() {
        RankingMetrics m = RankingMetrics.at(2, List.of("x", "a"), Set.of("a"));
        assertThat(m.precision).isEqualTo(0.5);
        assertThat(m.ndcg).isCloseTo(1 / (Math.log(3) / Math.log(2)), within(1e-12));
        RankingMetrics beyondK = RankingMetrics.at(1, List.of("x", "a"), Set.of("a"));
        assertThat(beyondK.hitRate).isZero();
        assertThat(beyondK.f1).isZero();
        RankingMetrics shortList = RankingMetrics.at(10, List.of("a"), Set.of("a"));
        assertThat(shortList.precision).isEqualTo(0.1);
        assertThat(shortList.ndcg).isEqualTo(1.0);
    }

    @Test
    void summaryAveragesPerUserIncludingF1() {
        RankingMetrics.Summary summary = new RankingMetrics.Summary();
        summary.add(RankingMetrics.at(2, List.of("a", "b"), Set.of("a", "b")));
        summary.add(RankingMetrics.at(2, List.of("x", "y"), Set.of("a")));
        assertThat(summary.users()).isEqualTo(2);
        assertThat(summary.precision()).isEqualTo(0.5);
        assertThat(summary.recall()).isEqualTo(0.5);
        assertThat(summary.f1()).isEqualTo(0.5);
        assertThat(summary.ndcg()).isEqualTo(0.5);
        assertThat(summary.hitRate()).isEqualTo(0.5);
    }

    @Test
    void usersWithoutRelevantItemsAreRejected() {
        assertThatThrownBy(() -> RankingMetrics.at(5, List.of("a"), Set.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
