package dev.interestgraph.vector;

import java.io.Serializable;
import java.util.Objects;

/**
 * How the cosines of one fine-tuned encoder version compare with version 1's (issue 19): the mean
 * and standard deviation of the cosines of all pairs of a fixed sample of item texts, measured by
 * the tuner under version 1 ({@link #baseMean}, {@link #baseStd}) and under the version
 * ({@link #mean}, {@link #std}), and announced with the version.
 *
 * <p>The user-graph's cosine thresholds (graph.interest-join-threshold,
 * graph.interest-merge-threshold) are chosen for version 1. A fine-tuned version moves the whole
 * distribution of cosines (random item pairs at 0.37 under version 1, 0.08 to 0.49 in tuned
 * versions), so the same absolute threshold joins far more or far fewer items. {@link #map} moves
 * a threshold by the affine map that takes version 1's cosine distribution onto the version's
 * (z-score: a threshold {@code k} standard deviations above version 1's mean becomes {@code k}
 * of the version's standard deviations above its mean). Affine rather than a quantile map:
 * two numbers per version describe it, it is exact for a distribution that only shifts and
 * scales, and it stays monotone and smooth in the tails, where the thresholds sit (0.5 is near
 * version 1's 90th percentile) and where a quantile table from a sample of a few thousand pairs
 * would be noisiest.
 *
 * <p>A Flink POJO (public fields, no-argument constructor). {@link #IDENTITY} (and a null
 * calibration) maps every threshold to itself, bit for bit: version 1, the frozen encoder and
 * announcements without the statistics.
 */
public final class CosineCalibration implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The identity: thresholds as configured. */
    public static final CosineCalibration IDENTITY = new CosineCalibration(0, 1, 0, 1);

    public double baseMean;
    public double baseStd;
    public double mean;
    public double std;

    public CosineCalibration() {
        this(0, 1, 0, 1);
    }

    public CosineCalibration(double baseMean, double baseStd, double mean, double std) {
        this.baseMean = baseMean;
        this.baseStd = baseStd;
        this.mean = mean;
        this.std = std;
    }

    /**
     * The calibration these statistics describe, or {@link #IDENTITY} when they cannot describe
     * one (missing, not finite, a mean outside [-1, 1], a standard deviation not positive): a
     * bad announcement leaves the thresholds as configured rather than failing the job.
     */
    public static CosineCalibration of(double baseMean, double baseStd, double mean, double std) {
        if (!cosine(baseMean) || !cosine(mean) || !spread(baseStd) || !spread(std)) {
            return IDENTITY;
        }
        return new CosineCalibration(baseMean, baseStd, mean, std);
    }

    private static boolean cosine(double value) {
        return Double.isFinite(value) && value >= -1 && value <= 1;
    }

    private static boolean spread(double value) {
        return Double.isFinite(value) && value > 0 && value <= 2;
    }

    /** Whether {@link #map} returns every threshold unchanged. */
    public boolean isIdentity() {
        return baseMean == mean && baseStd == std;
    }

    /**
     * {@code threshold} (a cosine chosen for version 1) in this version's space, clamped to
     * [-1, 1]; exactly {@code threshold} for the identity.
     */
    public double map(double threshold) {
        if (isIdentity()) {
            return threshold;
        }
        double mapped = mean + (threshold - baseMean) / baseStd * std;
        return Math.max(-1, Math.min(1, mapped));
    }

    /** {@code threshold} under {@code calibration}, which may be null (the identity). */
    public static double map(CosineCalibration calibration, double threshold) {
        return calibration == null ? threshold : calibration.map(threshold);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CosineCalibration c && c.baseMean == baseMean && c.baseStd == baseStd
                && c.mean == mean && c.std == std;
    }

    @Override
    public int hashCode() {
        return Objects.hash(baseMean, baseStd, mean, std);
    }

    @Override
    public String toString() {
        return "CosineCalibration{version 1: " + baseMean + " ± " + baseStd + ", this version: "
                + mean + " ± " + std + "}";
    }
}
