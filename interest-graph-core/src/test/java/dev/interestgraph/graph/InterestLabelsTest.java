package dev.interestgraph.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.graph.UserGraph.DecayedMean;
import dev.interestgraph.graph.UserGraph.Interest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class InterestLabelsTest {
    private static Interest interest(int id, Object... termsAndWeights) {
        Interest interest = new Interest(id, new DecayedMean(new short[2], 1, 0, "v1"));
        for (int i = 0; i < termsAndWeights.length; i += 2) {
            interest.terms.put((String) termsAndWeights[i],
                    ((Number) termsAndWeights[i + 1]).floatValue());
        }
        return interest;
    }

    @Test
    void twoInterestsOfTheSameLeadingTermAreTold() {
        // the demo's user-63: two "football" interests, one also about "league"
        Interest a = interest(0, "football", 5f);
        Interest b = interest(1, "football", 4f, "league", 1f);
        Map<Integer, String> labels = InterestLabels.labels(List.of(a, b));
        assertThat(labels.get(0)).isEqualTo("football");
        assertThat(labels.get(1)).startsWith("league").contains("football");
    }

    @Test
    void theMostDistinctiveTermsLeadAndTheOlderInterestChoosesFirst() {
        Interest drama = interest(3, "drama", 4f, "romance", 3f);
        Interest crime = interest(7, "drama", 5f, "crime", 2f, "thriller", 1f);
        Map<Integer, String> labels = InterestLabels.labels(List.of(crime, drama));
        assertThat(labels.get(3)).isEqualTo("romance, drama");
        assertThat(labels.get(7)).isEqualTo("crime, drama, thriller"); // ties: by term
    }

    @Test
    void anInterestWithoutTermsOrWithOnlyTakenTermsStillGetsAUniqueLabel() {
        Interest a = interest(0, "jazz", 1f);
        Interest b = interest(1, "jazz", 1f);
        Interest c = interest(2);
        Map<Integer, String> labels = InterestLabels.labels(List.of(a, b, c));
        assertThat(labels).containsEntry(0, "jazz").containsEntry(1, "jazz #1")
                .containsEntry(2, "interest #2");
    }

    /** Property over seeded random users: no two interests of one user share a label. */
    @Test
    void noTwoInterestsOfAUserShareALabel() {
        Random random = new Random(17);
        String[] vocabulary = {"drama", "comedy", "action", "thriller", "romance", "crime", "war",
            "sci-fi", "horror", "a, b", "a"};
        for (int user = 0; user < 2_000; user++) {
            List<Interest> interests = new ArrayList<>();
            int count = 1 + random.nextInt(8);
            for (int i = 0; i < count; i++) {
                Interest interest = interest(random.nextInt(3) + i * 3);
                int terms = random.nextInt(5);
                for (int t = 0; t < terms; t++) {
                    interest.terms.merge(vocabulary[random.nextInt(vocabulary.length)],
                            1f + random.nextInt(5), Float::sum);
                }
                interests.add(interest);
            }
            Map<Integer, String> labels = InterestLabels.labels(interests);
            assertThat(labels).hasSize(count);
            assertThat(new HashSet<>(labels.values())).as("user %d: %s", user, labels)
                    .hasSize(count);
            labels.values().forEach(label -> assertThat(label).isNotBlank());
        }
    }

    /**
     * The labels are those of the straightforward computation they replaced (issue 16's
     * throughput step: a term's weight elsewhere from one table instead of a sorted-map look-up
     * per other interest), string for string, over seeded random users whose term weights are
     * sums of fractional action weights, in any order of the collection given.
     */
    @Test
    void labelsEqualTheDirectComputation() {
        Random random = new Random(23);
        String[] vocabulary = new String[40];
        for (int v = 0; v < vocabulary.length; v++) {
            vocabulary[v] = v % 7 == 0 ? "t" + v + ", x" : "t" + v;
        }
        float[] amounts = {0.1f, 0.3f, 0.6f, 1f, 0.5f, 0.7f, 0.2f, 0.04f};
        int differentLeads = 0;
        for (int user = 0; user < 3_000; user++) {
            List<Interest> interests = new ArrayList<>();
            int count = 1 + random.nextInt(8);
            for (int i = 0; i < count; i++) {
                Interest interest = interest(random.nextInt(3) + i * 3);
                int events = random.nextInt(30);
                for (int e = 0; e < events; e++) {
                    float amount = amounts[random.nextInt(amounts.length)];
                    for (int t = 0; t < 3; t++) {
                        interest.terms.merge(vocabulary[random.nextInt(
                                random.nextBoolean() ? 8 : vocabulary.length)], amount, Float::sum);
                    }
                    while (interest.terms.size() > GraphUpdater.MAX_TERMS_PER_INTEREST) {
                        interest.terms.remove(interest.terms.firstKey());
                    }
                }
                interests.add(interest);
            }
            java.util.Collections.shuffle(interests, random);
            Map<Integer, String> expected = directLabels(interests);
            assertThat(InterestLabels.labels(interests)).as("user %d", user).isEqualTo(expected);
            if (new HashSet<>(expected.values()).size() > 1) {
                differentLeads++;
            }
        }
        assertThat(differentLeads).as("users whose interests got distinct labels")
                .isGreaterThan(1_000);
    }

    /** The labels as computed before issue 16's throughput step (the reference). */
    private static Map<Integer, String> directLabels(List<Interest> interests) {
        List<Interest> byId = new ArrayList<>(interests);
        byId.sort((a, b) -> Integer.compare(a.id, b.id));
        Map<Integer, String> labels = new java.util.TreeMap<>();
        java.util.Set<String> leads = new HashSet<>();
        java.util.Set<String> used = new HashSet<>();
        for (Interest interest : byId) {
            List<Map.Entry<String, Double>> scored = new ArrayList<>();
            for (Map.Entry<String, Float> term : interest.terms.entrySet()) {
                double elsewhere = 0;
                for (Interest other : byId) {
                    if (other.id != interest.id) {
                        elsewhere += other.terms.getOrDefault(term.getKey(), 0f);
                    }
                }
                scored.add(Map.entry(term.getKey(), term.getValue() / (1.0 + elsewhere)));
            }
            scored.sort(Map.Entry.<String, Double>comparingByValue().reversed()
                    .thenComparing(Map.Entry.comparingByKey()));
            List<String> ranked = new ArrayList<>();
            scored.forEach(e -> ranked.add(e.getKey()));
            String lead = null;
            for (String term : ranked) {
                if (!leads.contains(term)) {
                    lead = term;
                    break;
                }
            }
            String label;
            if (lead == null) {
                label = (ranked.isEmpty() ? "interest" : ranked.get(0)) + " #" + interest.id;
            } else {
                leads.add(lead);
                List<String> shown = new ArrayList<>(List.of(lead));
                for (String term : ranked) {
                    if (shown.size() >= InterestLabels.LABEL_TERMS) {
                        break;
                    }
                    if (!term.equals(lead)) {
                        shown.add(term);
                    }
                }
                label = String.join(", ", shown);
            }
            while (!used.add(label)) {
                label = label + " #" + interest.id;
            }
            labels.put(interest.id, label);
        }
        return labels;
    }
}
