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
