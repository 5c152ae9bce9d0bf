package dev.interestgraph.vector;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class HalfFloatsTest {

    private static int bits(float value) {
        return HalfFloats.toHalf(value) & 0xffff;
    }

    @Test
    void exactlyRepresentableValuesHaveTheirIeeeBitsAndRoundTrip() {
        float[] values = {0f, -0f, 1f, -2f, 0.5f, 65504f, 0x1p-24f, -0x1p-24f, 0x1p-14f};
        int[] expected = {0x0000, 0x8000, 0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8001, 0x0400};

        for (int i = 0; i < values.length; i++) {
            assertThat(bits(values[i])).as("bits of %s", values[i]).isEqualTo(expected[i]);
            float back = HalfFloats.toFloat((short) expected[i]);
            assertThat(Float.floatToRawIntBits(back)).as("round trip of %s", values[i])
                    .isEqualTo(Float.floatToRawIntBits(values[i]));
        }
    }

    @Test
    void everyNonNaNHalfSurvivesFloatAndBack() {
        for (int h = 0; h <= 0xffff; h++) {
            float value = HalfFloats.toFloat((short) h);
            if (Float.isNaN(value)) {
                continue;
            }
            assertThat(bits(value)).as("half 0x%04x", h).isEqualTo(h);
        }
    }

    @Test
    void randomValuesInUnitRangeRoundWithinHalfAnUlp() {
        Random random = new Random(11);
        for (int i = 0; i < 100_000; i++) {
            float value = random.nextFloat() * 2f - 1f;
            float rounded = HalfFloats.toFloat(HalfFloats.toHalf(value));
            double error = Math.abs((double) rounded - value);
            if (Math.abs(value) >= 0x1p-14f) {
                assertThat(error).as("%s", value).isLessThanOrEqualTo(Math.abs(value) * 0x1p-11);
            } else {
                assertThat(error).as("%s", value).isLessThanOrEqualTo(0x1p-25);
            }
        }
    }

    @Test
    void roundsToTheNearestHalfOverTheWholeFloatRange() {
        Random random = new Random(5);
        for (int i = 0; i < 100_000; i++) {
            // uniformly random exponents from subnormal halves to beyond the half range
            float value = (float) ((random.nextBoolean() ? -1 : 1) * (1 + random.nextDouble())
                    * Math.pow(2, -26 + random.nextInt(42)));
            int h = bits(value);
            float rounded = HalfFloats.toFloat((short) h);
            if (Float.isInfinite(rounded)) {
                assertThat(Math.abs(value)).as("%s", value).isGreaterThanOrEqualTo(65520f);
                continue;
            }
            double error = Math.abs((double) rounded - value);
            for (int neighbour : new int[] {h - 1, h + 1}) {
                float other = HalfFloats.toFloat((short) neighbour);
                if ((neighbour & 0x7fff) < 0x7c00 && (neighbour & 0x8000) == (h & 0x8000)) {
                    assertThat(error).as("%s -> 0x%04x vs 0x%04x", value, h, neighbour)
                            .isLessThanOrEqualTo(Math.abs((double) other - value));
                }
            }
        }
    }

    @Test
    void infinitiesAndNaNArePreserved() {
        assertThat(bits(Float.POSITIVE_INFINITY)).isEqualTo(0x7c00);
        assertThat(bits(Float.NEGATIVE_INFINITY)).isEqualTo(0xfc00);
        assertThat(HalfFloats.toFloat((short) 0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(HalfFloats.toFloat((short) 0xfc00)).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(HalfFloats.toFloat(HalfFloats.toHalf(Float.NaN))).isNaN();
        // a NaN whose payload lies only in the low mantissa bits must not become Infinity
        assertThat(HalfFloats.toFloat(HalfFloats.toHalf(Float.intBitsToFloat(0x7f800001))))
                .isNaN();
    }

    @Test
    void valuesBeyondTheHalfRangeOverflowToInfinity() {
        assertThat(bits(65520f)).isEqualTo(0x7c00); // the tie above 65504 rounds up to Inf
        assertThat(bits(65519f)).isEqualTo(0x7bff);
        assertThat(bits(1e6f)).isEqualTo(0x7c00);
        assertThat(bits(-Float.MAX_VALUE)).isEqualTo(0xfc00);
    }

    @Test
    void tinyValuesUnderflowToSignedZero() {
        assertThat(bits(0x1p-26f)).isEqualTo(0x0000);
        assertThat(bits(-0x1p-26f)).isEqualTo(0x8000);
        assertThat(bits(Float.MIN_VALUE)).isEqualTo(0x0000);
    }

    @Test
    void tiesRoundToEven() {
        // between 1 (0x3c00, even) and 1 + 2^-10 (0x3c01): stays at 1
        assertThat(bits(1f + 0x1p-11f)).isEqualTo(0x3c00);
        // between 0x3c01 (odd) and 0x3c02 (even): goes up to 0x3c02
        assertThat(bits(1f + 3 * 0x1p-11f)).isEqualTo(0x3c02);
        // just above the tie rounds up
        assertThat(bits(Math.nextUp(1f + 0x1p-11f))).isEqualTo(0x3c01);
        // subnormal ties: 2^-25 between 0 and 2^-24 -> 0; 3 * 2^-25 -> 2 * 2^-24
        assertThat(bits(0x1p-25f)).isEqualTo(0x0000);
        assertThat(bits(3 * 0x1p-25f)).isEqualTo(0x0002);
        // rounding up from the largest subnormal carries into the smallest normal
        assertThat(bits(0x1p-14f - 0x1p-26f)).isEqualTo(0x0400);
    }

    @Test
    void vectorConversionsKeepOrderAndLength() {
        float[] values = {0.25f, -0.75f, 3f};

        short[] halves = HalfFloats.fromFloats(values);

        assertThat(halves).hasSize(3);
        assertThat(HalfFloats.toFloats(halves)).containsExactly(values);
        assertThat(HalfFloats.fromFloats(new float[0])).isEmpty();
    }
}
