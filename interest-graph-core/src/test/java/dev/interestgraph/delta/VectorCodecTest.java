package dev.interestgraph.delta;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import dev.interestgraph.proto.v2.Vector;
import dev.interestgraph.proto.v2.VectorEncoding;
import dev.interestgraph.vector.VectorMath;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The packed integer encodings of {@link VectorCodec} (INT6, INT5, INT4), next to INT8. */
class VectorCodecTest {
    private static final List<VectorEncoding> PACKED =
            List.of(VectorEncoding.INT6, VectorEncoding.INT5, VectorEncoding.INT4);

    @Test
    void everyIntegerOfARangeSurvivesPackingAtAnyDimensionCount() {
        for (VectorEncoding encoding : PACKED) {
            int levels = (1 << (VectorCodec.bits(encoding) - 1)) - 1;
            // 1..(2·levels+1) dimensions: every padding length; components −levels..levels
            for (int dimensions = 1; dimensions <= 2 * levels + 1; dimensions++) {
                float[] x = new float[dimensions];
                for (int i = 0; i < dimensions; i++) {
                    x[i] = i - levels;
                }
                x[0] = -levels; // the largest component sets the scale: integers map exactly
                Vector vector = VectorCodec.encode(x, encoding, 0);
                assertThat(vector.getDimensions()).isEqualTo(dimensions);
                assertThat(vector.getValues().size())
                        .isEqualTo(VectorCodec.valueBytes(encoding, dimensions));
                float[] decoded = VectorCodec.decode(vector);
                float[] expected = VectorMath.normalized(x.clone());
                for (int i = 0; i < dimensions; i++) {
                    assertThat(decoded[i]).as("%s, %d dimensions, [%d]", encoding, dimensions, i)
                            .isCloseTo(expected[i], within(1e-3f));
                }
            }
        }
    }

    @Test
    void packedVectorsOf384DimensionsTakeAFractionOfInt8WithinTheirMeasuredError() {
        Random random = new Random(3);
        // the mean cosine distance each encoding adds on Gaussian directions; the recall it costs
        // is measured on real MiniLM vectors (VectorQuantisationRecallTest, docs/architecture.md)
        double[] ceilings = {0.001, 0.003, 0.012};
        int[] bytes = {288, 240, 192};
        for (int e = 0; e < PACKED.size(); e++) {
            double sum = 0;
            for (int n = 0; n < 200; n++) {
                float[] x = new float[384];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) random.nextGaussian();
                }
                x = VectorMath.normalized(x);
                Vector vector = VectorCodec.encode(x, PACKED.get(e), 0);
                assertThat(vector.getValues().size()).isEqualTo(bytes[e]);
                sum += 1 - VectorMath.dot(x, VectorCodec.decode(vector));
            }
            assertThat(sum / 200).as("%s", PACKED.get(e)).isLessThan(ceilings[e]);
        }
    }

    @Test
    void aPackedVectorWhoseLengthDisagreesWithItsDimensionsIsRefused() {
        Vector vector = VectorCodec.encode(new float[] {1, 2, 3, 4}, VectorEncoding.INT6, 0);
        Vector truncated = vector.toBuilder().setValues(ByteString.copyFrom(new byte[2])).build();
        assertThatThrownBy(() -> VectorCodec.decode(truncated))
                .isInstanceOf(IllegalArgumentException.class);
        Vector noDimensions = vector.toBuilder().clearDimensions().build();
        assertThatThrownBy(() -> VectorCodec.decode(noDimensions))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * The operator's path — the mean's halves decoded once per flush and its norm as the mean
     * keeps it — encodes the same bytes as encoding the halves, in every encoding.
     */
    @Test
    void encodingDecodedHalvesWithTheirNormGivesTheSameVector() {
        Random random = new Random(3);
        for (int round = 0; round < 200; round++) {
            float[] x = new float[384];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (random.nextGaussian() * (round % 3 == 0 ? 1e-3 : 1));
            }
            short[] halves = dev.interestgraph.vector.HalfFloats.fromFloats(x);
            float[] decoded = dev.interestgraph.vector.HalfFloats.toFloats(halves);
            // the norm as the operator has it: the mean's own
            double norm = new dev.interestgraph.graph.UserGraph.DecayedMean(halves, 1, 0, "v1")
                    .norm();
            for (VectorEncoding encoding : List.of(VectorEncoding.INT8, VectorEncoding.INT6,
                    VectorEncoding.INT5, VectorEncoding.INT4, VectorEncoding.FLOAT16)) {
                assertThat(VectorCodec.encodeDecoded(decoded, norm, encoding, 1))
                        .isEqualTo(VectorCodec.encode(halves, encoding, 1));
            }
        }
    }
}
