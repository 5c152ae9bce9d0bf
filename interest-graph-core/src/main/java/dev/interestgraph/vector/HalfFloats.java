package dev.interestgraph.vector;

/**
 * IEEE 754 half-precision (binary16) vectors. State keeps embeddings as halves: 768 bytes per
 * 384-dimensional vector instead of 1,536 (the interest centroids, further on an int8 grid of
 * halves, {@link ScaledInt8}, take 386). Values are rounded to half precision the moment they
 * enter state, so the in-memory graph, its snapshot and the graph restored from it are the same
 * bits.
 *
 * <p>Java 17 has no {@code Float.floatToFloat16}; this is the standard round-to-nearest-even
 * conversion.
 */
public final class HalfFloats {
    private HalfFloats() {}

    public static short[] fromFloats(float[] values) {
        short[] halves = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            halves[i] = toHalf(values[i]);
        }
        return halves;
    }

    /**
     * Decodes {@code halves} into {@code into} (reused when it has the right length, so that a
     * hot path allocates nothing) and returns it; a new array otherwise.
     */
    public static float[] toFloats(short[] halves, float[] into) {
        float[] values = into != null && into.length == halves.length
                ? into : new float[halves.length];
        for (int i = 0; i < halves.length; i++) {
            values[i] = toFloat(halves[i]);
        }
        return values;
    }

    public static float[] toFloats(short[] halves) {
        float[] values = new float[halves.length];
        for (int i = 0; i < halves.length; i++) {
            values[i] = toFloat(halves[i]);
        }
        return values;
    }

    /** Every half's float value: decoding is a table look-up (256 KB, built once). */
    private static final float[] DECODED = new float[1 << 16];

    static {
        for (int bits = 0; bits < DECODED.length; bits++) {
            DECODED[bits] = decode((short) bits);
        }
    }

    public static float toFloat(short half) {
        int exponent = half & 0x7c00;
        if (exponent != 0 && exponent != 0x7c00) {
            // a normal half, the usual case: rebias the exponent (15 -> 127) and widen the
            // mantissa, no memory access (the table's random look-ups missed the L1 cache when
            // folding vectors into means: docs/benchmarks.md, issue 16's profile)
            return Float.intBitsToFloat((half & 0x8000) << 16 | ((half & 0x7fff) << 13) + 0x38000000);
        }
        return DECODED[half & 0xffff];
    }

    private static float decode(short half) {
        int bits = half & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1f;
        int mantissa = bits & 0x3ff;
        if (exponent == 0x1f) { // Inf or NaN
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            if (mantissa == 0) {
                return Float.intBitsToFloat(sign);
            }
            // subnormal: value = mantissa * 2^-24
            float value = mantissa * 0x1p-24f;
            return sign == 0 ? value : -value;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    public static short toHalf(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int magnitude = bits & 0x7fffffff;
        if (magnitude >= 0x38800000 && magnitude < 0x47800000) {
            // The usual case, a normal half (2^-14 <= |value| < 65536), without branches: adding
            // 0xfff plus the kept mantissa's lowest bit carries exactly when round-to-nearest-even
            // rounds up (a carry into the exponent, up to infinity, is the right rounding). The
            // general path below made this conversion the largest cost of folding a vector into
            // a mean (docs/benchmarks.md, issue 16's profile).
            int rounded = magnitude + 0xfff + ((magnitude >>> 13) & 1);
            return (short) (sign | (rounded - 0x38000000) >>> 13);
        }
        int exponent = ((bits >>> 23) & 0xff) - 127 + 15;
        int mantissa = bits & 0x7fffff;
        if (((bits >>> 23) & 0xff) == 0xff) { // Inf or NaN
            return (short) (sign | 0x7c00 | (mantissa != 0 ? 0x200 : 0));
        }
        if (exponent >= 0x1f) { // overflow -> Inf
            return (short) (sign | 0x7c00);
        }
        if (exponent <= 0) { // subnormal or zero
            if (exponent < -10) {
                return (short) sign;
            }
            mantissa |= 0x800000; // implicit leading 1
            int shift = 14 - exponent;
            int halfMantissa = mantissa >>> shift;
            int remainder = mantissa & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (remainder > halfway || (remainder == halfway && (halfMantissa & 1) != 0)) {
                halfMantissa++;
            }
            return (short) (sign | halfMantissa);
        }
        int halfBits = (exponent << 10) | (mantissa >>> 13);
        int remainder = mantissa & 0x1fff;
        if (remainder > 0x1000 || (remainder == 0x1000 && (halfBits & 1) != 0)) {
            halfBits++; // may carry into the exponent, which is the correct rounding
        }
        return (short) (sign | halfBits);
    }
}
