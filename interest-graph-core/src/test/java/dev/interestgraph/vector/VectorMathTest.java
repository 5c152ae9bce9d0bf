package dev.interestgraph.vector;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class VectorMathTest {

    @Test
    void dotsIntoIsBitForBitThePlainLoopAndSkipsVectorsOfAnotherLength() {
        Random random = new Random(7);
        float[] query = randomVector(random, 384);
        // 11 vectors: two blocks of four and a tail of three; one of another model's dimension
        // inside a block, whose entry must stay as it was
        float[][] vectors = new float[11][];
        for (int i = 0; i < vectors.length; i++) {
            vectors[i] = randomVector(random, i == 5 ? 128 : 384);
        }
        double[] out = new double[vectors.length];
        out[5] = -42;

        VectorMath.dotsInto(vectors, query, out);

        for (int i = 0; i < vectors.length; i++) {
            if (i == 5) {
                assertThat(out[i]).isEqualTo(-42);
                continue;
            }
            double plain = 0;
            for (int d = 0; d < query.length; d++) {
                plain += vectors[i][d] * query[d];
            }
            assertThat(Double.doubleToLongBits(out[i])).as("vector %d", i)
                    .isEqualTo(Double.doubleToLongBits(plain));
        }
    }

    /**
     * The half-float form decodes in the loop and still sums each product in index order: bit
     * for bit the plain loop over the decoded vector, for every count of vectors (blocks of
     * four, a pair, a single) and with a vector of another length anywhere.
     */
    @Test
    void halfDotsIntoIsBitForBitThePlainLoopOverTheDecodedHalves() {
        Random random = new Random(8);
        float[] query = randomVector(random, 384);
        for (int count = 0; count <= 11; count++) {
            for (int odd = -1; odd < count; odd++) {
                short[][] halves = new short[count][];
                for (int i = 0; i < count; i++) {
                    halves[i] = HalfFloats.fromFloats(randomVector(random, i == odd ? 128 : 384));
                }
                double[] out = new double[count];
                java.util.Arrays.fill(out, -42);
                VectorMath.halfDotsInto(halves, query, out);
                for (int i = 0; i < count; i++) {
                    if (i == odd) {
                        assertThat(out[i]).isEqualTo(-42);
                        continue;
                    }
                    float[] decoded = HalfFloats.toFloats(halves[i]);
                    double plain = 0;
                    for (int d = 0; d < query.length; d++) {
                        plain += decoded[d] * query[d];
                    }
                    assertThat(Double.doubleToLongBits(out[i]))
                            .as("%d vectors, vector %d", count, i)
                            .isEqualTo(Double.doubleToLongBits(plain));
                }
            }
        }
    }

    @Test
    void dotsIntoOfOrthonormalVectorsAreTheirCoordinates() {
        float[] query = {0.5f, -0.25f, 2f};
        float[][] axes = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 0, 0}, {1, 1, 1}};
        double[] out = new double[axes.length];

        VectorMath.dotsInto(axes, query, out);

        assertThat(out).containsExactly(0.5, -0.25, 2.0, 0.0, 2.25);
    }

    private static float[] randomVector(Random random, int dimension) {
        float[] v = new float[dimension];
        for (int d = 0; d < dimension; d++) {
            v[d] = (float) random.nextGaussian();
        }
        return v;
    }
}
