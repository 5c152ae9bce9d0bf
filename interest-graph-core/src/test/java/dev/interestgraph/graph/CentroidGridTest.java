package dev.interestgraph.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.vector.ScaledInt8;
import dev.interestgraph.vector.VectorMath;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Centroids kept on their int8 grid ({@link ScaledInt8}, state size step 2): every change leaves
 * the halves on the grid, and a centroid folded with small weights keeps following its items
 * (dithered rounding) instead of stagnating where a fold moves it by less than half a grid step.
 * Measured against the same folds in double precision and in halves (the profiles' form).
 */
class CentroidGridTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final int DIM = 384;

    private static float[] around(float[] center, double noise, Random random) {
        float[] x = new float[DIM];
        for (int d = 0; d < DIM; d++) {
            x[d] = center[d] + (float) (noise * random.nextGaussian());
        }
        return VectorMath.normalized(x);
    }

    private static double cos(float[] a, double[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int d = 0; d < DIM; d++) {
            dot += a[d] * b[d];
            na += a[d] * a[d];
            nb += b[d] * b[d];
        }
        return dot / Math.sqrt(na * nb);
    }

    private static double[] widened(float[] v) {
        double[] w = new double[v.length];
        for (int d = 0; d < v.length; d++) {
            w[d] = v[d];
        }
        return w;
    }

    private static void assertOnGrid(UserGraph.DecayedMean mean) {
        assertThat(mean.scale).isNotNaN();
        short[] back = new short[mean.mean.length];
        ScaledInt8.decode(ScaledInt8.codes(mean.mean, mean.scale), mean.scale, back);
        assertThat(back).isEqualTo(mean.mean);
    }

    /**
     * 4,000 items of weight 1 (cosine ~0.6 to their topic) folded without decay, the topic moving
     * by ~37° after 2,000: the weight grows to 4,000, so the last folds move each component by
     * 1/4,000 of its distance to the item — far below half a grid step. Measured here: the
     * centroid on the grid stays within cosine 0.98 of the exact mean throughout and follows
     * the moved topic (0.932 to it at the end, the exact mean 0.947, the halves 0.944: the
     * dither's noise, which grows with the undecayed weight and which decay bounds); rounding to
     * the nearest code instead froze it at the old topic (0.79 to the new one).
     */
    @Test
    void aCentroidFoldedWithSmallWeightsFollowsItsItems() {
        Random random = new Random(3);
        float[] topic = around(new float[DIM], 1, random);
        float[] first = around(topic, 0.068, random);
        UserGraph.DecayedMean halves = new UserGraph.DecayedMean(
                HalfFloats.fromFloats(first), 1, T0, "v");
        UserGraph.DecayedMean grid = new UserGraph.DecayedMean(
                HalfFloats.fromFloats(first), 1, T0, "v");
        grid.keepOnGrid();
        assertOnGrid(grid);
        double[] exact = widened(first);
        double worst = 1;
        for (int n = 1; n <= 4000; n++) {
            if (n == 2000) {
                topic = around(topic, 0.04, random);
            }
            float[] x = around(topic, 0.068, random);
            for (int d = 0; d < DIM; d++) {
                exact[d] = (exact[d] * n + x[d]) / (n + 1);
            }
            halves.add(x, "v", 1, T0 + n, Long.MAX_VALUE / 4);
            grid.add(x, "v", 1, T0 + n, Long.MAX_VALUE / 4);
            worst = Math.min(worst, cos(grid.meanVector(), exact));
        }
        assertOnGrid(grid);
        assertThat(worst).isGreaterThan(0.98);
        double[] moved = widened(topic);
        double exactToTopic = cos(VectorMath.normalized(toFloats(exact)), moved);
        assertThat(exactToTopic).isGreaterThan(0.94);
        assertThat(cos(grid.meanVector(), moved)).isGreaterThan(exactToTopic - 0.025);
        assertThat(cos(halves.meanVector(), moved)).isGreaterThan(exactToTopic - 0.01);
    }

    /** With decay (an effective weight of ~300 and of ~70) likewise, and merges stay on it. */
    @Test
    void decayedFoldsAndMergesStayOnTheGridAndCloseToTheExactMean() {
        for (long halfLife : new long[] {200, 50}) {
            Random random = new Random(halfLife);
            float[] topic = around(new float[DIM], 1, random);
            UserGraph.DecayedMean grid = new UserGraph.DecayedMean(
                    HalfFloats.fromFloats(around(topic, 0.068, random)), 1, T0, "v");
            grid.keepOnGrid();
            UserGraph.DecayedMean halves = new UserGraph.DecayedMean(grid.mean.clone(), 1, T0,
                    "v");
            for (int n = 1; n <= 1000; n++) {
                float[] x = around(topic, 0.068, random);
                grid.add(x, "v", 1, T0 + n, halfLife);
                halves.add(x, "v", 1, T0 + n, halfLife);
                assertThat(cos(grid.meanVector(), widened(halves.meanVector())))
                        .as("half-life %d, fold %d", halfLife, n).isGreaterThan(0.985);
            }
            assertOnGrid(grid);
            UserGraph.DecayedMean other = new UserGraph.DecayedMean(
                    HalfFloats.fromFloats(around(topic, 0.068, random)), 5, T0 + 1000, "v");
            grid.merge(other, T0 + 1001, halfLife);
            assertOnGrid(grid);
        }
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int d = 0; d < v.length; d++) {
            f[d] = (float) v[d];
        }
        return f;
    }
}
