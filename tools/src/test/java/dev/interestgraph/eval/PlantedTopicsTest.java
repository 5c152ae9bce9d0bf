package dev.interestgraph.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.delta.DeltaMaterializer.UserView;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.inference.MiniLmEncoder;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v2.GraphDelta;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 17's planted-topics check, with the real model (all-MiniLM-L6-v2) embedding the
 * generated catalogue and the operator's logic replayed in-process ({@link GraphReplay}, proven
 * equal to the job): a user's interests, as a consumer of the deltas materialises them, mean one
 * planted topic each.
 */
class PlantedTopicsTest {
    private static SyntheticDataset data;
    private static Map<String, ItemVersion> catalogue;

    @BeforeAll
    static void embed() {
        data = SyntheticDataset.builder().users(200).build();
        catalogue = new HashMap<>();
        List<ItemVersion> items = data.items();
        try (MiniLmEncoder encoder = MiniLmEncoder.load()) {
            for (int from = 0; from < items.size(); from += 32) {
                List<ItemVersion> batch = items.subList(from, Math.min(items.size(), from + 32));
                float[][] vectors = encoder.encode(batch.stream().map(ItemVersion::text).toList());
                for (int i = 0; i < vectors.length; i++) {
                    batch.get(i).embedding = vectors[i];
                    batch.get(i).modelVersion = "1";
                    catalogue.put(batch.get(i).itemId, batch.get(i));
                }
            }
        }
    }

    /** What the check measured: users, users that pass, and users with a duplicated topic. */
    record Figure(int users, int exact, int duplicated) {
        double share() {
            return (double) exact / users;
        }
    }

    /** Each user's interests against the planted topics they engaged with ≥ 3 times. */
    static Figure measure(SyntheticDataset data, Map<String, ItemVersion> catalogue,
            GraphParameters params) {
        List<UserAction> events = data.events();
        List<GraphDelta> deltas = new GraphReplay(params).replay(
                GraphReplay.enrich(events, catalogue),
                events.get(events.size() - 1).eventTimeMs);
        DeltaMaterializer consumer = new DeltaMaterializer();
        deltas.forEach(consumer::apply);
        Map<String, Map<String, Integer>> engaged = new TreeMap<>();
        for (UserAction event : events) {
            engaged.computeIfAbsent(event.userId, u -> new TreeMap<>())
                    .merge(SyntheticDataset.topicOf(event.itemId), 1, Integer::sum);
        }
        int exact = 0;
        int duplicated = 0;
        for (Map.Entry<String, Map<String, Integer>> user : engaged.entrySet()) {
            Set<String> topics = new HashSet<>();
            user.getValue().forEach((topic, count) -> {
                if (count >= 3) {
                    topics.add(topic);
                }
            });
            UserView view = consumer.user(user.getKey()).orElseThrow();
            // an interest's planted topic: the topic most of its items belong to
            Map<Integer, Map<String, Integer>> members = new TreeMap<>();
            for (EdgeUpsert edge : view.edges().values()) {
                if (edge.getInterestId() >= 0) {
                    members.computeIfAbsent(edge.getInterestId(), i -> new TreeMap<>())
                            .merge(SyntheticDataset.topicOf(edge.getItemId()), 1, Integer::sum);
                }
            }
            Map<String, Integer> interestsPerTopic = new TreeMap<>();
            for (int interest : view.interests().keySet()) {
                Map<String, Integer> topicCounts = members.getOrDefault(interest, Map.of());
                String topic = topicCounts.entrySet().stream()
                        .max(Map.Entry.<String, Integer>comparingByValue()
                                .thenComparing(Map.Entry.comparingByKey()))
                        .map(Map.Entry::getKey).orElse("(none)");
                interestsPerTopic.merge(topic, 1, Integer::sum);
            }
            boolean twice = interestsPerTopic.values().stream().anyMatch(n -> n > 1);
            boolean eachOnce = topics.stream()
                    .allMatch(t -> interestsPerTopic.getOrDefault(t, 0) == 1);
            if (twice) {
                duplicated++;
            } else if (eachOnce) {
                exact++;
            }
        }
        return new Figure(engaged.size(), exact, duplicated);
    }

    @Test
    void usersEndWithOneInterestPerPlantedTopicTheyEngagedWith() {
        Figure figure = measure(data, catalogue, GraphParameters.defaults());
        System.out.printf("planted topics: %d of %d users (%.1f %%) have exactly one interest per "
                + "topic engaged with >= 3 times; %d have two interests of one topic%n",
                figure.exact(), figure.users(), 100 * figure.share(), figure.duplicated());
        assertThat(figure.share()).isGreaterThanOrEqualTo(0.95);
        assertThat(figure.duplicated()).isZero();
    }

    @Test
    void theLabelsOfEveryGeneratedUserAreUnique() {
        List<UserAction> events = data.events();
        DeltaMaterializer consumer = new DeltaMaterializer();
        new GraphReplay(GraphParameters.builder().maxInterests(8).interestMergeThreshold(0.95)
                .build()).replay(GraphReplay.enrich(events, catalogue),
                        events.get(events.size() - 1).eventTimeMs).forEach(consumer::apply);
        int users = 0;
        for (int u = 0; u < data.users(); u++) {
            UserView view = consumer.user(SyntheticDataset.userId(u)).orElseThrow();
            List<String> labels = new ArrayList<>();
            view.interests().values().forEach(i -> labels.add(i.getLabel()));
            assertThat(new HashSet<>(labels)).as("%s: %s", view, labels).hasSize(labels.size());
            users += labels.size() > 1 ? 1 : 0;
        }
        assertThat(users).as("users with several interests").isPositive();
    }
}
