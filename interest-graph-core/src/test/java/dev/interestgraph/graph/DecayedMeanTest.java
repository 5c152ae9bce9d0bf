package dev.interestgraph.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.vector.VectorMath;
import org.junit.jupiter.api.Test;

/** The version guard of {@link UserGraph.DecayedMean}: vectors of two model versions never mix. */
class DecayedMeanTest {
    private static final long T0 = 1_700_000_000_000L;

    private static float[] unit(int i, int j) {
        float[] v = new float[8];
        v[i] = 1f;
        v[j] += 2f;
        return VectorMath.normalized(v);
    }

    @Test
    void aMeanRefusesAVectorOfAnotherVersion() {
        UserGraph.DecayedMean mean = new UserGraph.DecayedMean(
                HalfFloats.fromFloats(unit(0, 1)), 1.0, T0, "v1");
        assertThatThrownBy(() -> mean.add(unit(1, 2), "v2", 1.0, T0 + 1, 1000))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("v2")
                .hasMessageContaining("v1");
        UserGraph.DecayedMean other = new UserGraph.DecayedMean(
                HalfFloats.fromFloats(unit(1, 2)), 1.0, T0, "v2");
        assertThatThrownBy(() -> mean.merge(other, T0 + 1, 1000))
                .isInstanceOf(IllegalStateException.class);
        mean.add(unit(1, 2), "v1", 1.0, T0 + 1, 1000); // the same version fuses
        assertThat(mean.weight).isGreaterThan(1.0);
    }

    /**
     * The angle a fold adds to sentAngle (graph.delta.vector-min-distance decides on it) is an
     * upper bound of the true turn, and a tight one for the small turns folds make.
     */
    @Test
    void theTurnBoundIsNeverBelowTheAngleAndTightForSmallTurns() {
        for (double angle = 0; angle <= Math.PI; angle += Math.PI / 2000) {
            double bound = UserGraph.DecayedMean.turnBound(Math.cos(angle));
            assertThat(bound).isGreaterThanOrEqualTo(angle - 1e-12);
            if (angle <= 0.1) {
                assertThat(bound).isLessThanOrEqualTo(angle * 1.001 + 1e-12);
            }
        }
    }

    /** Folding a vector in adds at least the angle the mean turned by to sentAngle. */
    @Test
    void aFoldAddsAtLeastTheAngleTheMeanTurned() {
        UserGraph.DecayedMean mean = new UserGraph.DecayedMean(
                HalfFloats.fromFloats(unit(0, 1)), 1.0, T0, "v1");
        mean.sent(T0);
        float[] before = mean.direction().clone();
        mean.add(unit(1, 2), "v1", 0.5, T0 + 1, 1000);
        double turned = Math.acos(Math.min(1, VectorMath.dot(before, mean.direction())));
        assertThat(turned).isGreaterThan(0.05);
        assertThat((double) mean.sentAngle).isBetween(turned - 1e-6, turned * 1.05);
    }
}
