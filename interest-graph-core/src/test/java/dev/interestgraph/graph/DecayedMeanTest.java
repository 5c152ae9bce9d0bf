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

    private static float[] random(java.util.Random random, int dimension) {
        float[] v = new float[dimension];
        for (int i = 0; i < dimension; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return VectorMath.normalized(v);
    }

    /**
     * A mean whose halves a flush decoded ({@code values}, lent by the GraphUpdater) folds,
     * merges, measures its norm and its cosines bit for bit as one without: the decoded copy is
     * a cache, never a second opinion (issue 16's throughput step).
     */
    @Test
    void aMeanWithItsHalvesDecodedComputesTheSameBits() {
        java.util.Random random = new java.util.Random(5);
        for (int round = 0; round < 50; round++) {
            short[] start = HalfFloats.fromFloats(random(random, 384));
            UserGraph.DecayedMean plain = new UserGraph.DecayedMean(start.clone(), 1, T0, "v1");
            UserGraph.DecayedMean decoded = new UserGraph.DecayedMean(start.clone(), 1, T0, "v1");
            decoded.values = HalfFloats.toFloats(decoded.mean);
            for (int step = 1; step <= 20; step++) {
                float[] x = random(random, 384);
                double amount = 0.1 + random.nextDouble();
                long at = T0 + step * 3_600_000L * (random.nextBoolean() ? 1 : -1);
                plain.add(x, "v1", amount, at, 86_400_000L);
                decoded.add(x, "v1", amount, at, 86_400_000L);
                assertThat(decoded.mean).isEqualTo(plain.mean);
                assertThat(decoded.values).isEqualTo(HalfFloats.toFloats(plain.mean));
                assertThat(decoded.sentAngle).isEqualTo(plain.sentAngle);
                assertThat(decoded.norm()).isEqualTo(plain.norm());
                double xNorm = VectorMath.norm(x);
                assertThat(decoded.cosine(x, xNorm)).isEqualTo(plain.cosine(x, xNorm));
            }
            short[] otherStart = HalfFloats.fromFloats(random(random, 384));
            UserGraph.DecayedMean other = new UserGraph.DecayedMean(otherStart, 2, T0, "v1");
            UserGraph.DecayedMean otherDecoded =
                    new UserGraph.DecayedMean(otherStart.clone(), 2, T0, "v1");
            otherDecoded.values = HalfFloats.toFloats(otherStart);
            assertThat(decoded.cosine(otherDecoded)).isEqualTo(plain.cosine(other));
            plain.merge(other, T0 + 100_000_000L, 86_400_000L);
            decoded.merge(otherDecoded, T0 + 100_000_000L, 86_400_000L);
            assertThat(decoded.mean).isEqualTo(plain.mean);
            assertThat(decoded.values).isEqualTo(HalfFloats.toFloats(plain.mean));
            assertThat(decoded.norm()).isEqualTo(plain.norm());
        }
    }

    /** A flush lends decoded arrays and takes them all back: a graph in state keeps none. */
    @Test
    void aFlushLeavesNoDecodedMeansBehind() {
        GraphUpdater updater = new GraphUpdater(GraphParameters.defaults());
        java.util.Random random = new java.util.Random(9);
        float[] topic = random(random, 384);
        UserGraph graph = null;
        for (int i = 0; i < 30; i++) {
            float[] v = random(random, 384);
            for (int d = 0; d < v.length; d++) {
                v[d] += i % 2 == 0 ? 3 * topic[d] : 0; // two kinds of items: several interests
            }
            dev.interestgraph.model.EnrichedAction e = new dev.interestgraph.model.EnrichedAction();
            e.eventId = "e" + i;
            e.userId = "u";
            e.itemId = "item" + (i % 12);
            e.action = dev.interestgraph.model.Action.PURCHASE;
            e.eventTimeMs = T0 + i * 3_600_000L;
            e.vector = HalfFloats.fromFloats(VectorMath.normalized(v));
            e.modelVersion = "v1";
            e.terms = new String[] {"t" + (i % 5)};
            graph = updater.flush(graph, "u", java.util.List.of(e), null,
                    i % 10 == 9 ? e.eventTimeMs : Long.MIN_VALUE).graph;
            assertThat(graph.longTerm.values).isNull();
            assertThat(graph.shortTerm.values).isNull();
            assertThat(graph.interests.values()).allSatisfy(
                    interest -> assertThat(interest.centroid.values).isNull());
        }
        assertThat(graph.interests).hasSizeGreaterThan(1);
    }
}
