package dev.interestgraph.inference;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The versions of {@value InferenceContract#MODEL_NAME} that {@link EmbeddedInferenceServer}
 * serves: version {@value EmbeddedInferenceServer#MODEL_VERSION} is the frozen MiniLM, always there
 * (it is built in); version N &gt; 1 exists while {@code <repository>/item_encoder/<N>/}{@value
 * MiniLmEncoder#MODEL_FILE} does — a complete ONNX model, the fine-tuned encoder that the tuner
 * ({@code triton-models/encoder/tuner.py}) exported, in the layout tritonserver loads.
 *
 * <p>The folder is looked at on every question, so versions the tuner publishes while the server
 * runs appear without a restart (the tuner assembles a version under a hidden name and renames it
 * into place, so a numbered folder is complete when it shows up). A version's model is opened in
 * ONNX Runtime on its first request and kept, also after the tuner prunes its folder (Triton would
 * unload it), which only matters to a caller still pinning it; past {@link #MAX_LOADED} loaded
 * versions the lowest is closed (it waits for the requests running on it) and is no longer served.
 */
final class ItemEncoderVersions implements AutoCloseable {
    static final int FROZEN_VERSION = Integer.parseInt(EmbeddedInferenceServer.MODEL_VERSION);
    /** ONNX Runtime sessions kept open besides the frozen one (~90 MB each). */
    static final int MAX_LOADED = 4;

    private final Path modelDirectory;
    private final MiniLmEncoder frozen;
    private final ConcurrentSkipListMap<Integer, Loaded> loaded = new ConcurrentSkipListMap<>();
    private final Map<Integer, Long> retired = new java.util.concurrent.ConcurrentHashMap<>();

    /** One opened version: requests hold the read lock, closing takes the write lock. */
    private static final class Loaded {
        final MiniLmEncoder encoder;
        final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
        boolean closed;

        Loaded(MiniLmEncoder encoder) {
            this.encoder = encoder;
        }

        void close() {
            lock.writeLock().lock();
            try {
                closed = true;
                encoder.close();
            } finally {
                lock.writeLock().unlock();
            }
        }
    }

    /**
     * @param repository a Triton model repository, or null for the frozen version only
     * @param frozen the encoder of version 1 (the caller keeps ownership)
     */
    ItemEncoderVersions(Path repository, MiniLmEncoder frozen) {
        this.modelDirectory = repository == null ? null : repository.resolve(InferenceContract.MODEL_NAME);
        this.frozen = frozen;
    }

    /** Whether versions come from a model repository (else only the frozen one is served). */
    boolean hasRepository() {
        return modelDirectory != null;
    }

    /** The versions servable now, ascending: the frozen one, the published ones, the ones loaded before. */
    NavigableSet<Integer> available() {
        NavigableSet<Integer> versions = new TreeSet<>(loaded.keySet());
        versions.add(FROZEN_VERSION);
        if (modelDirectory == null) {
            return versions;
        }
        try (DirectoryStream<Path> folders = Files.newDirectoryStream(modelDirectory)) {
            for (Path folder : folders) {
                int version = parseVersion(folder.getFileName().toString());
                if (version > FROZEN_VERSION && !retired.containsKey(version) && published(version)) {
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
        if (version == FROZEN_VERSION || loaded.containsKey(version)
                || (modelDirectory != null && !retired.containsKey(version) && published(version))) {
            return Optional.of(version);
        }
        return Optional.empty();
    }

    private boolean published(int version) {
        return Files.isRegularFile(modelDirectory.resolve(Integer.toString(version)).resolve(MiniLmEncoder.MODEL_FILE));
    }

    /**
     * Embeds the texts with the version's own model, opening it on first use.
     *
     * @throws NoSuchFileException when the version's folder is gone before it was ever opened, or
     *     the version was closed to make room for newer ones
     * @throws IOException when the version's model cannot be opened
     */
    float[][] encode(int version, List<String> texts) throws IOException {
        if (version == FROZEN_VERSION) {
            return frozen.encode(texts);
        }
        Loaded entry = open(version);
        entry.lock.readLock().lock();
        try {
            if (entry.closed) {
                throw new NoSuchFileException(modelDirectory.resolve(Integer.toString(version)).toString(),
                        null, "version closed: only the newest " + MAX_LOADED + " versions stay loaded");
            }
            return entry.encoder.encode(texts);
        } finally {
            entry.lock.readLock().unlock();
        }
    }

    private Loaded open(int version) throws IOException {
        Loaded entry = loaded.get(version);
        if (entry != null) {
            return entry;
        }
        synchronized (this) { // one opening at a time: each holds a ~90 MB model
            entry = loaded.get(version);
            if (entry != null) {
                return entry;
            }
            if (modelDirectory == null || retired.containsKey(version)) {
                throw new NoSuchFileException("item_encoder version " + version);
            }
            Path folder = modelDirectory.resolve(Integer.toString(version));
            if (!Files.isRegularFile(folder.resolve(MiniLmEncoder.MODEL_FILE))) {
                throw new NoSuchFileException(folder.toString());
            }
            try {
                entry = new Loaded(MiniLmEncoder.load(folder));
            } catch (UncheckedIOException e) {
                throw e.getCause();
            } catch (IllegalStateException e) {
                throw new IOException(e.getMessage(), e);
            }
            loaded.put(version, entry);
            while (loaded.size() > MAX_LOADED) {
                Map.Entry<Integer, Loaded> lowest = loaded.pollFirstEntry();
                retired.put(lowest.getKey(), System.currentTimeMillis());
                lowest.getValue().close();
            }
            return entry;
        }
    }

    /** Closes every opened version (not the frozen encoder, which the caller owns). */
    @Override
    public void close() {
        List<Loaded> all = new ArrayList<>(loaded.values());
        loaded.clear();
        all.forEach(Loaded::close);
    }

    /**
     * The vectors a published version gives, by key: its own model on {@code texts} (key → text),
     * batched; what the server answers for that version.
     */
    static Map<String, float[]> encodeWith(Path versionDir, Map<String, String> texts) {
        List<String> keys = new ArrayList<>(texts.keySet());
        Map<String, float[]> vectors = new HashMap<>();
        try (MiniLmEncoder encoder = MiniLmEncoder.load(versionDir)) {
            for (int start = 0; start < keys.size(); start += 64) {
                List<String> batch = keys.subList(start, Math.min(keys.size(), start + 64));
                float[][] out = encoder.encode(batch.stream().map(texts::get).toList());
                for (int i = 0; i < batch.size(); i++) {
                    vectors.put(batch.get(i), out[i]);
                }
            }
        }
        return vectors;
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
