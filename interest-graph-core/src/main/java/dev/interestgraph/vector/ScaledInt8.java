package dev.interestgraph.vector;

/**
 * Vectors on an int8 grid: each component a code in [−127, 127] times one scale per vector. The
 * interest centroids are kept this way in state (384 bytes and a 2-byte scale instead of 768
 * bytes of halves: issue 16's state-size step 2, docs/benchmarks.md).
 *
 * <p>The scale is m·2<sup>k</sup> with an integer m ≤ 16 and −24 ≤ k ≤ 5, so that every code
 * times the scale (at most 11 significant bits) is exactly a half float and the scale itself is
 * one. The updater can therefore keep such a vector as halves in memory, with all the arithmetic
 * it does on halves unchanged, while the serializer writes only its codes and scale and reads
 * back the same halves, bit for bit: the in-memory graph, its snapshot and the graph restored
 * from it stay equal. The price of a scale with a 4-bit mantissa is that the largest component's
 * code is between 113 and 127 instead of always 127 (at most 1/8 of the range).
 */
public final class ScaledInt8 {
    /** The largest code's magnitude. */
    public static final int MAX_CODE = 127;
    private static final int MIN_EXPONENT = -24; // half's subnormal step is 2^-24
    private static final int MAX_EXPONENT = 5; // 2032·2^5 = 65,024 ≤ the largest half, 65,504

    private ScaledInt8() {}

    /**
     * The grid step for a vector whose largest component magnitude is {@code maxAbs}: the
     * smallest m·2<sup>k</sup> (m an integer of 4 bits) at least maxAbs/127; 0 for a zero
     * vector; NaN when no such grid is exact in halves (a component not finite, or the vector so
     * large or so small that its codes would leave the half range): keep it as halves then.
     */
    public static float scaleFor(float maxAbs) {
        if (maxAbs == 0) {
            return 0f;
        }
        if (!(maxAbs > 0) || maxAbs == Float.POSITIVE_INFINITY) {
            return Float.NaN;
        }
        float smallest = maxAbs / MAX_CODE;
        int k = Math.getExponent(smallest) - 3; // smallest / 2^k is in [8, 16)
        if (k < MIN_EXPONENT || k > MAX_EXPONENT) {
            return Float.NaN;
        }
        float unit = Math.scalb(1f, k);
        // dividing by a power of two is exact; m is 8..16 and m·unit is exact
        return (float) Math.ceil(smallest / unit) * unit;
    }

    /** The code of {@code value} on the grid of {@code scale} (nearest, clamped to ±127). */
    public static int code(float value, float scale) {
        if (scale == 0) {
            return 0;
        }
        int code = Math.round(value / scale);
        return Math.max(-MAX_CODE, Math.min(MAX_CODE, code));
    }

    /** Length of the dither table (a power of two). */
    private static final int DITHER_LENGTH = 4096;
    /**
     * The draws of dithered rounding: 0.5/4096, 1.5/4096, … 4095.5/4096 — uniform on [0, 1)
     * in equal steps — in an order shuffled once by a fixed seed. A fold reads them from a
     * position its seed picks ({@link #ditherStart}), one per component: a load where a
     * random-number generator per component made the fold of a centroid twice as slow.
     */
    private static final float[] DITHER = new float[DITHER_LENGTH];

    static {
        for (int i = 0; i < DITHER_LENGTH; i++) {
            DITHER[i] = (i + 0.5f) / DITHER_LENGTH;
        }
        java.util.SplittableRandom shuffle = new java.util.SplittableRandom(0x5CA1ED18L);
        for (int i = DITHER_LENGTH - 1; i > 0; i--) {
            int j = shuffle.nextInt(i + 1);
            float swap = DITHER[i];
            DITHER[i] = DITHER[j];
            DITHER[j] = swap;
        }
    }

    /**
     * Where a fold of seed {@code seed} starts reading draws: the seed through SplitMix64's
     * finaliser, so that nearby seeds start far apart.
     */
    public static int ditherStart(long seed) {
        long z = seed + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (int) (z ^ (z >>> 31)) & (DITHER_LENGTH - 1);
    }

    /** The draw at {@code position} (taken modulo the table's length), in [0, 1). */
    public static float dither(int position) {
        return DITHER[position & (DITHER_LENGTH - 1)];
    }

    /**
     * The code of {@code value} on the grid of step 1 / {@code inverse} (0: a zero grid),
     * rounded down or up with the probabilities that make its expectation {@code value ·
     * inverse} — {@code u} a uniform draw in [0, 1) —, clamped to ±127.
     */
    public static int ditheredCode(float value, float inverse, float u) {
        int code = (int) Math.floor(value * inverse + u);
        return Math.max(-MAX_CODE, Math.min(MAX_CODE, code));
    }

    /** 1 / {@code scale}, or 0 for a zero grid. */
    public static float inverse(float scale) {
        return scale == 0 ? 0f : 1f / scale;
    }

    /** The half that {@code code} times {@code scale} is (exactly; see the class comment). */
    public static short half(int code, float scale) {
        return HalfFloats.toHalf(code * scale);
    }

    /** The largest component magnitude of {@code halves}. */
    public static float maxAbs(short[] halves) {
        float max = 0;
        for (short half : halves) {
            max = Math.max(max, Math.abs(HalfFloats.toFloat(half)));
        }
        return max;
    }

    /**
     * Rounds {@code halves} in place to their int8 grid and returns its scale; NaN (halves left
     * as they are) when they cannot be kept on one (see {@link #scaleFor}).
     */
    public static float roundInPlace(short[] halves) {
        float scale = scaleFor(maxAbs(halves));
        if (Float.isNaN(scale)) {
            return scale;
        }
        for (int i = 0; i < halves.length; i++) {
            halves[i] = half(code(HalfFloats.toFloat(halves[i]), scale), scale);
        }
        return scale;
    }

    /**
     * The codes of {@code halves}, which are on the grid of {@code scale}: each half times the
     * inverse is its code within a rounding error, so the nearest integer ({@code Math.rint}, a
     * single instruction, where {@code Math.round} and a division per component made writing a
     * summary several times slower than the bulk copy of halves) is it.
     */
    public static byte[] codes(short[] halves, float scale) {
        byte[] codes = new byte[halves.length];
        float inverse = inverse(scale);
        for (int i = 0; i < halves.length; i++) {
            codes[i] = (byte) (int) Math.rint(HalfFloats.toFloat(halves[i]) * inverse);
        }
        return codes;
    }

    /**
     * Each grid's table of its codes' halves (indexed by code + 128), by the scale's bits. A
     * scale is m·2^k with m ≤ 16 and −24 ≤ k ≤ 5, so there are at most a few hundred tables of
     * 512 bytes; decoding a centroid is then a load per component (a summary read on RocksDB
     * decodes five: a conversion per component, or a table built per vector, cost ~8 % of the
     * RocksDB pass).
     */
    private static final java.util.concurrent.ConcurrentHashMap<Integer, short[]> TABLES =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static short[] table(float scale) {
        return TABLES.computeIfAbsent(Float.floatToRawIntBits(scale), bits -> {
            // every byte has an entry: −128, which no writer produces, still decodes (exactly:
            // 128·m is at most 2^11)
            short[] table = new short[256];
            for (int code = -128; code <= MAX_CODE; code++) {
                table[code + 128] = half(code, scale);
            }
            return table;
        });
    }

    /** Fills {@code halves} from {@code codes} on the grid of {@code scale}. */
    public static void decode(byte[] codes, float scale, short[] halves) {
        short[] table = Float.isFinite(scale) && scaleFor(MAX_CODE * scale) == scale
                ? table(scale) : null;
        if (table == null) { // not a scale this class chose (no table for arbitrary floats)
            for (int i = 0; i < codes.length; i++) {
                halves[i] = half(codes[i], scale);
            }
            return;
        }
        for (int i = 0; i < codes.length; i++) {
            halves[i] = table[codes[i] + 128];
        }
    }
}
