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
}
