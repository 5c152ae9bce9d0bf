package dev.interestgraph.bench;

import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Deterministic, pre-generated input for the benchmarks: the {@link SyntheticDataset} event
 * stream (planted topics and drift, sorted by event time) joined with dense 384-dimensional item
 * embeddings stored as half floats, as the item-enrich step would produce them.
 *
 * <p>Embeddings: each topic has a random unit direction; an item is that direction plus Gaussian
 * noise, normalised, so items of one topic have cosine ≈ 0.6 to each other and ≈ 0 to other
 * topics (dense like a sentence-transformer vector, unlike the sparse hashing test embedder).
 * Action mix: the dataset's VIEW 35 % / CLICK 25 % / CART 15 % / PURCHASE 15 % / RATE 10 %, with
 * 3 % of events turned into DISLIKE, 2 % into SHARE and 2 % into COMMENT.
 */
public final class BenchData {
    public static final int DIMENSION = 384;
    public static final String MODEL_VERSION = "all-minilm-l6-v2";
    /** Per-dimension noise: cosine between two items of a topic ≈ 1 / (1 + 384·σ²) ≈ 0.56. */
    private static final double ITEM_NOISE = 0.045;

    private BenchData() {}

    /** The events of {@code users × eventsPerUser} actions, in event-time order. */
    public static List<EnrichedAction> events(int users, int eventsPerUser, int itemsPerTopic,
            long seed) {
        SyntheticDataset dataset = SyntheticDataset.builder()
                .users(users)
                .eventsPerUser(eventsPerUser)
                .itemsPerTopic(itemsPerTopic)
                .seed(seed)
                .build();
        Map<String, ItemVersion> catalogue = new HashMap<>();
        for (ItemVersion item : dataset.items()) {
            catalogue.put(item.itemId, item);
        }
        Map<String, short[]> vectors = itemVectors(dataset.items(), seed);
        Map<String, String[]> terms = new HashMap<>();
        for (ItemVersion item : dataset.items()) {
            terms.put(item.itemId, labelTerms(item));
        }
        Random mix = new Random(seed ^ 0x5DEECE66DL);
        List<EnrichedAction> out = new ArrayList<>(dataset.events().size());
        for (UserAction event : dataset.events()) {
            EnrichedAction enriched = new EnrichedAction();
            enriched.eventId = event.eventId;
            enriched.userId = event.userId;
            enriched.itemId = event.itemId;
            enriched.eventTimeMs = event.eventTimeMs;
            enriched.action = event.action;
            enriched.value = event.value;
            double r = mix.nextDouble();
            if (r < 0.03) {
                enriched.action = Action.DISLIKE;
                enriched.value = 0;
            } else if (r < 0.05) {
                enriched.action = Action.SHARE;
                enriched.value = 0;
            } else if (r < 0.07) {
                enriched.action = Action.COMMENT;
                enriched.value = 0;
            }
            enriched.vector = vectors.get(event.itemId); // shared, never mutated by the operator
            enriched.modelVersion = MODEL_VERSION;
            enriched.terms = terms.get(event.itemId);
            out.add(enriched);
        }
        return out;
    }

    /** Label terms as the enrich step gives them, plus two title words for richer labels. */
    static String[] labelTerms(ItemVersion item) {
        String[] tags = item.labelTerms(3);
        String[] words = item.title.toLowerCase(Locale.ROOT).split(" ");
        return new String[] {tags.length > 0 ? tags[0] : words[0], words[0], words[1]};
    }

    /** One dense unit vector per item, as half floats. */
    static Map<String, short[]> itemVectors(List<ItemVersion> items, long seed) {
        Random random = new Random(seed * 31 + 7);
        Map<String, float[]> topicDirections = new HashMap<>();
        Map<String, short[]> vectors = new HashMap<>();
        for (ItemVersion item : items) {
            String topic = SyntheticDataset.topicOf(item.itemId);
            float[] direction = topicDirections.computeIfAbsent(topic,
                    t -> normalised(gaussian(random, 1.0)));
            float[] noise = gaussian(random, ITEM_NOISE);
            float[] vector = new float[DIMENSION];
            for (int i = 0; i < DIMENSION; i++) {
                vector[i] = direction[i] + noise[i];
            }
            vectors.put(item.itemId, HalfFloats.fromFloats(normalised(vector)));
        }
        return vectors;
    }

    private static float[] gaussian(Random random, double sigma) {
        float[] v = new float[DIMENSION];
        for (int i = 0; i < DIMENSION; i++) {
            v[i] = (float) (random.nextGaussian() * sigma);
        }
        return v;
    }

    private static float[] normalised(float[] v) {
        double norm = 0;
        for (float x : v) {
            norm += (double) x * x;
        }
        float scale = (float) (1.0 / Math.sqrt(norm));
        for (int i = 0; i < v.length; i++) {
            v[i] *= scale;
        }
        return v;
    }
}
