package dev.interestgraph.inference;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reference embeddings from the JVM's {@link MiniLmEncoder}, for the Python encoder's parity tests
 * ({@code triton-models/tests}) and for {@link TritonServerIT}.
 *
 * <p>{@code ParityVectors <output.json>} writes {@code {"model": ..., "dimension": 384, "texts":
 * [...], "vectors": [[...], ...]}}; {@code make triton-parity} runs it.
 */
public final class ParityVectors {
    /** Fixed texts: short, long (past 256 tokens), unicode, whitespace, empty, punctuation, numbers. */
    public static final List<String> TEXTS = List.of(
            "The Matrix (1999) — a hacker learns that reality is a simulation.",
            "Toy Story",
            "Animation|Children|Comedy",
            "A heartwarming story about friendship, loss and growing up in a small town.",
            "",
            " ",
            "Amélie: la vie est belle à Montmartre, café crème et crème brûlée.",
            "東京物語 — 小津安二郎の名作映画",
            "Ein Film über die Berliner Mauer und zwei Brüder, die getrennt wurden.",
            "Фильм о космосе и одиночестве",
            "🎬🍿 Best movie night ever!!! 😂😂",
            "sci-fi; space opera; lasers & robots (PG-13)",
            "1234567890 3.14159 42",
            "UPPERCASE TITLE WITH SHOUTING",
            "the the the the the the the the",
            "A documentary about bees, honey, pollination, and the decline of wild insects.",
            "noir detective rain cigarettes jazz",
            "Dinosaurs cloned from amber DNA escape on an island theme park.",
            "I love this movie",
            "I hate this movie",
            longText());

    private ParityVectors() {}

    /** About 600 word pieces: the model truncates it at 256 tokens. */
    static String longText() {
        StringBuilder text = new StringBuilder();
        String[] words = {"galaxy", "spaceship", "captain", "mutiny", "asteroid", "nebula", "android",
            "treaty", "empire", "rebellion", "wormhole", "colony"};
        for (int i = 0; i < 500; i++) {
            text.append(words[(i * 7) % words.length]).append(i % 10 == 9 ? ". " : " ");
        }
        return text.toString().trim();
    }

    /** Texts and the encoder's vectors for them, as the JSON document {@link #main} writes. */
    public static Map<String, Object> document(MiniLmEncoder encoder, List<String> texts) {
        float[][] vectors = encoder.encode(texts);
        List<float[]> rows = new ArrayList<>(List.of(vectors));
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("model", "all-MiniLM-L6-v2 (MiniLmEncoder, ONNX Runtime, full precision)");
        document.put("dimension", MiniLmEncoder.DIMENSION);
        document.put("maxTokens", MiniLmEncoder.MAX_TOKENS);
        document.put("texts", texts);
        document.put("vectors", rows);
        return document;
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ParityVectors <output.json>");
            System.exit(2);
        }
        File output = new File(args[0]).getAbsoluteFile();
        File parent = output.getParentFile();
        if (parent != null && !parent.isDirectory() && !parent.mkdirs()) {
            throw new IOException("cannot create " + parent);
        }
        Map<String, Object> document;
        try (MiniLmEncoder encoder = MiniLmEncoder.load()) {
            document = document(encoder, TEXTS);
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(output, document);
        System.out.println("wrote " + TEXTS.size() + " reference vectors to " + output);
    }
}
