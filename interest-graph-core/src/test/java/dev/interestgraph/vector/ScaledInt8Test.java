package dev.interestgraph.vector;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The int8 grid of {@link ScaledInt8}: exact in halves, so state can store codes. */
class ScaledInt8Test {

    @Test
    void everyCodeTimesTheScaleIsExactlyAHalfAndTheLargestComponentFits() {
        Random random = new Random(1);
        for (int i = 0; i < 20_000; i++) {
            // magnitudes from 2^-14 to 2^11 (the grid's exponent range with room on both sides)
            float maxAbs = (float) Math.scalb(1 + random.nextDouble(), random.nextInt(26) - 14);
            float scale = ScaledInt8.scaleFor(maxAbs);
            assertThat(scale).as("max %s", maxAbs).isNotNaN();
            assertThat(HalfFloats.toFloat(HalfFloats.toHalf(scale))).isEqualTo(scale);
            assertThat(Math.abs(ScaledInt8.code(maxAbs, scale))).isBetween(110, 127);
            assertThat(maxAbs / scale).isLessThanOrEqualTo(127.0001f);
            for (int code : new int[] {-127, -113, -1, 0, 1, 64, 101, 127}) {
                float value = code * scale;
                assertThat(HalfFloats.toFloat(ScaledInt8.half(code, scale))).isEqualTo(value);
                assertThat(ScaledInt8.code(value, scale)).isEqualTo(code);
            }
        }
    }

    @Test
    void vectorsNoGridKeepsExactlyStayHalves() {
        assertThat(ScaledInt8.scaleFor(0f)).isZero();
        assertThat(ScaledInt8.scaleFor(Float.NaN)).isNaN();
        assertThat(ScaledInt8.scaleFor(Float.POSITIVE_INFINITY)).isNaN();
        assertThat(ScaledInt8.scaleFor(1e-9f)).isNaN(); // codes below half's subnormal step
        assertThat(ScaledInt8.scaleFor(60_000f)).isEqualTo(480f); // 127 · 480 = 60,960: a half
        assertThat(ScaledInt8.scaleFor(70_000f)).isNaN(); // codes beyond the largest half
        short[] halves = HalfFloats.fromFloats(new float[] {1e-6f, -2e-6f});
        short[] before = halves.clone();
        assertThat(ScaledInt8.roundInPlace(halves)).isNaN();
        assertThat(halves).isEqualTo(before);
    }

    @Test
    void roundedVectorsRoundTripThroughTheirCodes() {
        Random random = new Random(2);
        float[] v = new float[384];
        for (int d = 0; d < v.length; d++) {
            v[d] = (float) random.nextGaussian() * 0.05f;
        }
        short[] halves = HalfFloats.fromFloats(v);
        float scale = ScaledInt8.roundInPlace(halves);
        byte[] codes = ScaledInt8.codes(halves, scale);
        short[] back = new short[halves.length];
        ScaledInt8.decode(codes, scale, back);
        assertThat(back).isEqualTo(halves);
        double cosine = VectorMath.dot(VectorMath.normalized(v),
                VectorMath.normalized(HalfFloats.toFloats(halves)));
        assertThat(cosine).isGreaterThan(0.999);
    }

    @Test
    void ditheredCodesAreUnbiasedAndDeterministic() {
        float inverse = ScaledInt8.inverse(0.01f);
        float value = 0.0123f; // 1.23 steps
        double sum = 0;
        int folds = 20_000;
        for (int fold = 0; fold < folds; fold++) {
            // one component (the 7th) of successive folds, each from its own seed
            int start = ScaledInt8.ditherStart(fold * 31L + 1_700_000_000_000L);
            assertThat(ScaledInt8.ditherStart(fold * 31L + 1_700_000_000_000L)).isEqualTo(start);
            int code = ScaledInt8.ditheredCode(value, inverse, ScaledInt8.dither(start + 7));
            assertThat(code).isBetween(1, 2);
            sum += code;
        }
        assertThat(sum / folds).isCloseTo(1.23, org.assertj.core.data.Offset.offset(0.01));
        double draws = 0;
        for (int i = 0; i < 4096; i++) {
            assertThat(ScaledInt8.dither(i)).isBetween(0f, 1f).isNotEqualTo(1f);
            draws += ScaledInt8.dither(i);
        }
        assertThat(draws / 4096).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(ScaledInt8.ditheredCode(5f, inverse, 0.5f)).isEqualTo(127);
        assertThat(ScaledInt8.ditheredCode(-5f, inverse, 0.5f)).isEqualTo(-127);
        assertThat(ScaledInt8.ditheredCode(0.3f, ScaledInt8.inverse(0f), 0.99f)).isZero();
    }
}
