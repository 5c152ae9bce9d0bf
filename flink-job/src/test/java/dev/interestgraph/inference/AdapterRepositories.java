package dev.interestgraph.inference;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Random;

/** TEST SUPPORT: publishes item_encoder versions into a model repository as the tuner does. */
final class AdapterRepositories {
    static final int DIMENSION = MiniLmEncoder.DIMENSION;

    private AdapterRepositories() {}

    /** A reproducible W with entries N(0, scale²), row-major. */
    static float[] randomAdapter(long seed, double scale) {
        Random random = new Random(seed);
        float[] w = new float[DIMENSION * DIMENSION];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * scale);
        }
        return w;
    }

    /**
     * Writes {@code <repository>/item_encoder/<version>/adapter.npy}: assembled in a hidden folder
     * and renamed into place, like tuner.py's publish, so the server never sees half a version.
     */
    static void publish(Path repository, int version, int rows, int cols, float[] w) throws IOException {
        Path model = Files.createDirectories(repository.resolve("item_encoder"));
        Path staging = Files.createDirectories(model.resolve(".staging-" + version));
        NpyFiles.writeFloat32Matrix(staging.resolve("adapter.npy"), rows, cols, w);
        Files.move(staging, model.resolve(Integer.toString(version)), StandardCopyOption.ATOMIC_MOVE);
    }

    static void publish(Path repository, int version, float[] w) throws IOException {
        publish(repository, version, DIMENSION, DIMENSION, w);
    }

    /** normalize(x + x·Wᵀ) computed directly in double precision: the reference for the server's. */
    static float[] adapted(float[] x, float[] w) {
        double[] z = new double[DIMENSION];
        double squares = 0;
        for (int k = 0; k < DIMENSION; k++) {
            z[k] = x[k];
            for (int j = 0; j < DIMENSION; j++) {
                z[k] += (double) x[j] * w[k * DIMENSION + j];
            }
            squares += z[k] * z[k];
        }
        float[] y = new float[DIMENSION];
        for (int k = 0; k < DIMENSION; k++) {
            y[k] = (float) (z[k] / Math.sqrt(squares));
        }
        return y;
    }
}
