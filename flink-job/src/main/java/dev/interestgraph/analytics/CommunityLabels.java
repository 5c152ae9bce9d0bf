package dev.interestgraph.analytics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Readable community labels from item text: the words that are frequent among a community's items
 * and rare elsewhere (count in the community × inverse document frequency over the catalogue).
 * A community of horror films reads "horror, thriller, slasher" rather than "the, of, and".
 */
final class CommunityLabels {
    /** The key under which document frequencies carry the number of documents. */
    static final String DOCUMENTS = "\u0000documents";

    private static final Set<String> STOP_WORDS = Set.of(
            "the", "and", "for", "with", "from", "that", "this", "into", "its", "his", "her",
            "their", "you", "your", "are", "was", "were", "has", "have", "not", "but", "all",
            "one", "two", "out", "about", "over", "after", "before", "when", "who", "what",
            "part", "les", "der", "die", "das", "des", "una", "con", "del");

    private CommunityLabels() {}

    /** Distinct lower-case words of at least three letters, stop words left out. */
    static Set<String> tokens(String text) {
        Set<String> tokens = new LinkedHashSet<>();
        if (text == null) {
            return tokens;
        }
        for (String word : text.toLowerCase(Locale.ROOT).split("[^\\p{L}]+")) {
            if (word.length() >= 3 && !STOP_WORDS.contains(word)) {
                tokens.add(word);
            }
        }
        return tokens;
    }

    /**
     * The {@code words} most distinctive words of the texts, most distinctive first, joined by
     * ", "; "community of N items" when the texts have none.
     */
    static String label(List<String> texts, Map<String, Integer> documentFrequencies, int words) {
        Map<String, Integer> counts = new HashMap<>();
        for (String text : texts) {
            for (String token : tokens(text)) {
                counts.merge(token, 1, Integer::sum);
            }
        }
        int documents = Math.max(1, documentFrequencies.getOrDefault(DOCUMENTS, texts.size()));
        List<Map.Entry<String, Double>> scored = new ArrayList<>();
        for (Map.Entry<String, Integer> count : counts.entrySet()) {
            // a word on one item only describes that item, not the community
            if (texts.size() > 1 && count.getValue() < 2) {
                continue;
            }
            int df = Math.max(count.getValue(),
                    documentFrequencies.getOrDefault(count.getKey(), count.getValue()));
            double idf = Math.log(1.0 + (double) documents / df);
            scored.add(Map.entry(count.getKey(), count.getValue() * idf));
        }
        scored.sort(Map.Entry.<String, Double>comparingByValue().reversed()
                .thenComparing(Map.Entry.comparingByKey()));
        List<String> top = new ArrayList<>();
        for (int i = 0; i < Math.min(words, scored.size()); i++) {
            top.add(scored.get(i).getKey());
        }
        return top.isEmpty() ? "community of " + texts.size() + " items" : String.join(", ", top);
    }
}
