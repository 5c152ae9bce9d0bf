package dev.interestgraph.vector;

/** The few vector operations the interest graph needs, on float arrays. */
public final class VectorMath {
    private VectorMath() {}

    public static double dot(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += (double) a[i] * b[i];
        }
        return sum;
    }

    /**
     * {@code out[i] = Σ_d vectors[i][d]·query[d]} for every vector as long as the query (the
     * others' entries are left as they are): each product in float, summed in double in index
     * order, bit for bit what the plain loop {@code dot += v[d] * q[d]} gives. Four vectors at a
     * time: a single running sum waits for each add to finish, four independent sums keep the
     * adder busy — scoring a user against a 10,000-item catalogue is several times faster.
     */
    public static void dotsInto(float[][] vectors, float[] query, double[] out) {
        int n = query.length;
        int i = 0;
        for (; i + 3 < vectors.length; i += 4) {
            float[] a = vectors[i];
            float[] b = vectors[i + 1];
            float[] c = vectors[i + 2];
            float[] e = vectors[i + 3];
            if (a.length != n || b.length != n || c.length != n || e.length != n) {
                for (int j = i; j < i + 4; j++) {
                    if (vectors[j].length == n) {
                        out[j] = productSum(vectors[j], query);
                    }
                }
                continue;
            }
            double sa = 0;
            double sb = 0;
            double sc = 0;
            double se = 0;
            for (int d = 0; d < n; d++) {
                float q = query[d];
                sa += a[d] * q;
                sb += b[d] * q;
                sc += c[d] * q;
                se += e[d] * q;
            }
            out[i] = sa;
            out[i + 1] = sb;
            out[i + 2] = sc;
            out[i + 3] = se;
        }
        for (; i < vectors.length; i++) {
            if (vectors[i].length == n) {
                out[i] = productSum(vectors[i], query);
            }
        }
    }

    /**
     * {@link #dotsInto} for vectors kept as half floats ({@link HalfFloats}): {@code out[i] =
     * Σ_d toFloat(halves[i][d])·query[d]}, each product in float and summed in double in index
     * order — bit for bit the plain loop over the decoded vector — four vectors at a time, then
     * two, decoding each half in the loop: the decoding hides behind the adds instead of taking
     * a pass of its own (a user's centroids against an item vector: ~25 % faster than decoding
     * them first). Vectors of another length than the query are skipped.
     */
    public static void halfDotsInto(short[][] halves, float[] query, double[] out) {
        int n = query.length;
        int i = 0;
        for (; i + 3 < halves.length; i += 4) {
            short[] a = halves[i];
            short[] b = halves[i + 1];
            short[] c = halves[i + 2];
            short[] e = halves[i + 3];
            if (a.length != n || b.length != n || c.length != n || e.length != n) {
                break; // the rest one by one
            }
            double sa = 0;
            double sb = 0;
            double sc = 0;
            double se = 0;
            for (int d = 0; d < n; d++) {
                float q = query[d];
                sa += HalfFloats.toFloat(a[d]) * q;
                sb += HalfFloats.toFloat(b[d]) * q;
                sc += HalfFloats.toFloat(c[d]) * q;
                se += HalfFloats.toFloat(e[d]) * q;
            }
            out[i] = sa;
            out[i + 1] = sb;
            out[i + 2] = sc;
            out[i + 3] = se;
        }
        for (; i + 1 < halves.length; i += 2) {
            short[] a = halves[i];
            short[] b = halves[i + 1];
            if (a.length != n || b.length != n) {
                break;
            }
            double sa = 0;
            double sb = 0;
            for (int d = 0; d < n; d++) {
                float q = query[d];
                sa += HalfFloats.toFloat(a[d]) * q;
                sb += HalfFloats.toFloat(b[d]) * q;
            }
            out[i] = sa;
            out[i + 1] = sb;
        }
        for (; i < halves.length; i++) {
            short[] a = halves[i];
            if (a.length == n) {
                double sum = 0;
                for (int d = 0; d < n; d++) {
                    sum += HalfFloats.toFloat(a[d]) * query[d];
                }
                out[i] = sum;
            }
        }
    }

    /** Float products summed in double, in index order (see {@link #dotsInto}). */
    private static double productSum(float[] v, float[] query) {
        double sum = 0;
        for (int d = 0; d < v.length; d++) {
            sum += v[d] * query[d];
        }
        return sum;
    }

    public static double norm(float[] a) {
        return Math.sqrt(dot(a, a));
    }

    /** Cosine similarity; 0 when either vector is zero. */
    public static double cosine(float[] a, float[] b) {
        double denominator = norm(a) * norm(b);
        return denominator == 0 ? 0 : dot(a, b) / denominator;
    }

    /** A unit-length copy; the zero vector stays zero. */
    public static float[] normalized(float[] a) {
        double norm = norm(a);
        float[] out = new float[a.length];
        if (norm > 0) {
            for (int i = 0; i < a.length; i++) {
                out[i] = (float) (a[i] / norm);
            }
        }
        return out;
    }

    /** (a·wa + b·wb) / (wa + wb). */
    public static float[] weightedMean(float[] a, double wa, float[] b, double wb) {
        float[] out = new float[a.length];
        double total = wa + wb;
        for (int i = 0; i < a.length; i++) {
            out[i] = (float) ((a[i] * wa + b[i] * wb) / total);
        }
        return out;
    }

    /** The factor by which a weight decays over {@code elapsedMs} at the given half-life. */
    public static double decay(long elapsedMs, long halfLifeMs) {
        return Math.pow(2.0, -(double) elapsedMs / halfLifeMs);
    }
}
