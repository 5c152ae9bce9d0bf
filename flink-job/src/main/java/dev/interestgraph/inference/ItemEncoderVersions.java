package dev.interestgraph.inference;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The versions of {@value InferenceContract#MODEL_NAME} that {@link EmbeddedInferenceServer}
 * serves: version {@value EmbeddedInferenceServer#MODEL_VERSION} is the frozen MiniLM, always there
 * (it is built in); version N &gt; 1 exists while {@code <repository>/item_encoder/<N>/adapter.npy}
 * does — the layout the tuner ({@code triton-models/encoder/tuner.py}) publishes into, and the
 * one tritonserver loads.
 *
 * <p>The folder is looked at on every question, so versions the tuner publishes while the server
 * runs appear without a restart (the tuner assembles a version under a hidden name and renames it
 * into place, so a numbered folder is complete when it shows up). An adapter is read on the first
 * request for its version and kept: a version the tuner prunes later stays servable here (Triton
 * would unload it), which only matters to a caller still pinning it.
 *
 * <p>The adapter is {@code y = normalize(x + x·Wᵀ)} on the frozen unit vector x, as {@code apply}
 * in {@code triton-models/encoder/adapter.py}: z in float32, its norm in float64, an all-zero W is
 * the identity. The dot products are summed in double where numpy's float32 matmul sums in float;
 * the results differ in the last bits only.
 */
final class ItemEncoderVersions {
    static final int FROZEN_VERSION = Integer.parseInt(EmbeddedInferenceServer.MODEL_VERSION);
    static final String ADAPTER_FILE = "adapter.npy";
    private static final double EPS = 1e-12;

    private final Path modelDirectory;
    private final int dimension;
    /** Adapters read so far; {@code null} values are not allowed, hence Optional for "no adapter". */
    private final Map<Integer, Optional<float[]>> adapters = new ConcurrentHashMap<>();

    /**
     * @param repository a Triton model repository, or null for the frozen version only
     * @param dimension the vector dimension; an adapter must be dimension × dimension
     */
    ItemEncoderVersions(Path repository, int dimension) {
        this.modelDirectory = repository == null ? null : repository.resolve(InferenceContract.MODEL_NAME);
        this.dimension = dimension;
        adapters.put(FROZEN_VERSION, Optional.empty());
    }

    /** Whether versions come from a model repository (else only the frozen one is served). */
    boolean hasRepository() {
        return modelDirectory != null;
    }

    /** The versions servable now, ascending: the frozen one, the published ones, the ones read before. */
    NavigableSet<Integer> available() {
        NavigableSet<Integer> versions = new TreeSet<>(adapters.keySet());
        if (modelDirectory == null) {
            return versions;
        }
        try (DirectoryStream<Path> folders = Files.newDirectoryStream(modelDirectory)) {
            for (Path folder : folders) {
                int version = parseVersion(folder.getFileName().toString());
                if (version > FROZEN_VERSION && Files.isRegularFile(folder.resolve(ADAPTER_FILE))) {
                    versions.add(version);
                }
            }
        } catch (NoSuchFileException e) {
            // nothing published yet: the tuner creates the folder with its first version
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the model versions in " + modelDirectory, e);
        }
        return versions;
    }

    /**
     * The version a request gets: blank → the highest available (Triton's default under {@code
     * version_policy: latest}); otherwise the requested one if it is available, else empty.
     */
    Optional<Integer> resolve(String requested) {
        if (requested == null || requested.isBlank()) {
            return Optional.of(available().last());
        }
        int version = parseVersion(requested);
        if (version < 1) {
            return Optional.empty();
        }
        if (adapters.containsKey(version) || (modelDirectory != null
                && Files.isRegularFile(modelDirectory.resolve(Integer.toString(version)).resolve(ADAPTER_FILE)))) {
            return Optional.of(version);
        }
        return Optional.empty();
    }

    /**
     * Applies the version's adapter to frozen vectors, in place, reading the adapter on first use.
     *
     * @throws IOException when the version's adapter.npy cannot be read or is not a
     *     dimension × dimension float32 matrix
     */
    void adapt(int version, float[][] frozen) throws IOException {
        Optional<float[]> adapter = adapters.get(version);
        if (adapter == null) {
            // Read outside any lock: two first requests may both read the file; the first result stays.
            Optional<float[]> read = read(version);
            Optional<float[]> previous = adapters.putIfAbsent(version, read);
            adapter = previous == null ? read : previous;
        }
        adapter.ifPresent(w -> {
            for (float[] x : frozen) {
                apply(x, w, dimension);
            }
        });
    }

    private Optional<float[]> read(int version) throws IOException {
        float[] w = readAdapter(modelDirectory.resolve(Integer.toString(version))
                .resolve(ADAPTER_FILE), dimension);
        for (float value : w) {
            if (value != 0f) {
                return Optional.of(w);
            }
        }
        return Optional.empty(); // W = 0 is the identity, as adapter.apply returns x itself
    }

    /** W of an adapter.npy, row-major; refused unless dimension × dimension float32. */
    private static float[] readAdapter(Path file, int dimension) throws IOException {
        Npy.FloatMatrix matrix = Npy.readFloat32Matrix(file);
        if (matrix.rows() != dimension || matrix.cols() != dimension) {
            throw new IOException(file + ": adapter is " + matrix.rows() + "x" + matrix.cols()
                    + ", expected " + dimension + "x" + dimension);
        }
        return matrix.data();
    }

    /**
     * The vectors of a published version, computed from the frozen ones: copies of {@code frozen}
     * through the adapter in {@code versionDir/adapter.npy} (no file, or W = 0: unchanged copies).
     * What the server answers for that version, without running the encoder again.
     */
    public static Map<String, float[]> adaptCopies(Path versionDir, Map<String, float[]> frozen,
            int dimension) throws IOException {
        Path file = versionDir.resolve(ADAPTER_FILE);
        float[] w = Files.isRegularFile(file) ? readAdapter(file, dimension) : null;
        Map<String, float[]> adapted = new HashMap<>();
        for (Map.Entry<String, float[]> entry : frozen.entrySet()) {
            float[] x = entry.getValue().clone();
            if (w != null) {
                apply(x, w, dimension);
            }
            adapted.put(entry.getKey(), x);
        }
        return adapted;
    }

    /** x ← normalize(x + x·Wᵀ), W row-major dimension × dimension. */
    static void apply(float[] x, float[] w, int dimension) {
        float[] z = new float[dimension];
        double squares = 0;
        for (int k = 0; k < dimension; k++) {
            double dot = 0; // (x·Wᵀ)_k = Σ_j x_j W_kj
            int row = k * dimension;
            for (int j = 0; j < dimension; j++) {
                dot += (double) x[j] * w[row + j];
            }
            z[k] = x[k] + (float) dot;
            squares += (double) z[k] * z[k];
        }
        double norm = Math.max(Math.sqrt(squares), EPS);
        for (int k = 0; k < dimension; k++) {
            x[k] = (float) (z[k] / norm);
        }
    }

    /** A Triton version folder name or requested version: a positive decimal integer, else -1. */
    private static int parseVersion(String name) {
        if (name.isEmpty() || name.length() > 9) {
            return -1;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return -1;
            }
        }
        return Integer.parseInt(name);
    }
}
