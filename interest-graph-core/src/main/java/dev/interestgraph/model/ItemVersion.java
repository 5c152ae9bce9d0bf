package dev.interestgraph.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One version of a catalogue item (a Flink POJO), valid from {@link #updatedMs} in event time
 * until the next version. After the embedding step it carries the embedding of {@link #text()}.
 */
public class ItemVersion {
    public String itemId;
    public String title;
    public String description;
    public String[] tags;
    public long updatedMs;
    public float[] embedding;
    public String modelVersion;
    /** The encoder version to embed with (fine-tuning); null: the server's default. */
    public String pinnedModelVersion;

    public ItemVersion() {}

    public ItemVersion(String itemId, String title, String description, String[] tags,
            long updatedMs) {
        this.itemId = itemId;
        this.title = title;
        this.description = description;
        this.tags = tags;
        this.updatedMs = updatedMs;
    }

    /** The text that is embedded: title, tags and description. */
    public String text() {
        StringBuilder text = new StringBuilder(title == null ? "" : title);
        if (tags != null && tags.length > 0) {
            text.append(". ").append(String.join(", ", tags));
        }
        if (description != null && !description.isBlank()) {
            text.append(". ").append(description);
        }
        return text.toString();
    }

    private static final Set<String> STOPWORDS = Set.of("the", "a", "an", "of", "and", "or",
            "in", "on", "to", "for", "with", "at", "by", "from", "is", "it", "its", "this", "that",
            "le", "la", "les", "de", "der", "die", "das", "el", "ii", "iii");

    /**
     * The terms interest labels are made of: the tags (genres) when the item has any, else the
     * title's words without stop words and years.
     */
    public String[] labelTerms(int max) {
        List<String> terms = new ArrayList<>();
        if (tags != null) {
            for (String tag : tags) {
                String term = tag.trim().toLowerCase(Locale.ROOT);
                if (!term.isEmpty() && !terms.contains(term) && !term.startsWith("(no ")) {
                    terms.add(term);
                }
            }
        }
        if (terms.isEmpty() && title != null) {
            for (String word : title.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
                if (word.length() > 2 && !STOPWORDS.contains(word) && !word.matches("\\d+")
                        && !terms.contains(word)) {
                    terms.add(word);
                }
            }
        }
        return terms.subList(0, Math.min(max, terms.size())).toArray(new String[0]);
    }

    @Override
    public String toString() {
        return "ItemVersion{" + itemId + " @" + updatedMs + ", model " + modelVersion + "}";
    }
}
