package dev.interestgraph.vector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Issue 19: the affine map of cosine thresholds from version 1's space to a tuned version's. */
class CosineCalibrationTest {

    @Test
    void theIdentityAndEqualStatisticsReturnEveryThresholdBitForBit() {
        for (double threshold : new double[] {0.5, 0.4, -0.3, 0.1 + 0.2, 1.0, -1.0}) {
            assertThat(CosineCalibration.IDENTITY.map(threshold)).isEqualTo(threshold);
            assertThat(CosineCalibration.map(null, threshold)).isEqualTo(threshold);
            // a version whose pairs are distributed as version 1's: (t - m) / s * s + m would
            // round; the map must not, or the frozen encoder's figures could move
            assertThat(new CosineCalibration(0.367, 0.137, 0.367, 0.137).map(threshold))
                    .isEqualTo(threshold);
        }
        assertThat(new CosineCalibration().isIdentity()).isTrue();
    }

    @Test
    void aThresholdKeepsItsPlaceInTheSpreadOfAPlantedSpace() {
        // version 1: random pairs at 0.367 ± 0.15; the tuned version spread them to 0.078 ± 0.10
        CosineCalibration spread = CosineCalibration.of(0.367, 0.15, 0.078, 0.10);
        // 0.5 is (0.5 - 0.367) / 0.15 = 0.8867 standard deviations above version 1's mean
        double join = spread.map(0.5);
        assertThat(join).isCloseTo(0.078 + 0.8867 * 0.10, within(1e-4));
        assertThat((join - 0.078) / 0.10).isCloseTo((0.5 - 0.367) / 0.15, within(1e-12));
        assertThat(spread.map(0.4)).isCloseTo(0.078 + (0.4 - 0.367) / 0.15 * 0.10, within(1e-12));
        // monotone: the merge threshold stays below the join threshold
        assertThat(spread.map(0.4)).isLessThan(join);
        // a narrowed space (pairs at 0.9 ± 0.05) raises it, clamped to a cosine
        CosineCalibration narrowed = CosineCalibration.of(0.367, 0.15, 0.9, 0.05);
        assertThat(narrowed.map(0.5)).isCloseTo(0.9 + 0.8867 * 0.05, within(1e-4));
        assertThat(narrowed.map(1.0)).isEqualTo(1.0);
        assertThat(CosineCalibration.of(0.0, 0.1, 0.9, 0.5).map(0.5)).isEqualTo(1.0);
    }

    @Test
    void statisticsThatCannotDescribeASpaceGiveTheIdentity() {
        assertThat(CosineCalibration.of(Double.NaN, 0.1, 0.2, 0.1)).isSameAs(CosineCalibration.IDENTITY);
        assertThat(CosineCalibration.of(0.3, 0, 0.2, 0.1)).isSameAs(CosineCalibration.IDENTITY);
        assertThat(CosineCalibration.of(0.3, 0.1, 0.2, -0.1)).isSameAs(CosineCalibration.IDENTITY);
        assertThat(CosineCalibration.of(1.5, 0.1, 0.2, 0.1)).isSameAs(CosineCalibration.IDENTITY);
        assertThat(CosineCalibration.of(0.3, 0.1, 0.2, Double.POSITIVE_INFINITY))
                .isSameAs(CosineCalibration.IDENTITY);
        assertThat(CosineCalibration.of(0.3, 0.1, 0.2, 0.1).isIdentity()).isFalse();
    }
}
