package dev.interestgraph.graph;

import dev.interestgraph.graph.UserGraph.Interest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Labels of one user's interests: readable (the interest's most distinctive terms) and unique
 * within the user. Two interests may share terms — "drama" runs through most MovieLens users'
 * interests — so a label leads with a term no other interest of the user leads with: the
 * interests choose in id order (the oldest first), so that an established interest keeps its
 * label when a newer one appears.
 */
public final class InterestLabels {
    /** Terms a label shows at most. */
    public static final int LABEL_TERMS = 3;

    private InterestLabels() {}

    /** Interest id → label, for every interest given; no two labels are equal. */
    public static Map<Integer, String> labels(Collection<Interest> interests) {
        List<Interest> byId = new ArrayList<>(interests);
        byId.sort((a, b) -> Integer.compare(a.id, b.id));
        Map<Integer, String> labels = new TreeMap<>();
        Set<String> leads = new HashSet<>();
        Set<String> used = new HashSet<>();
        for (Interest interest : byId) {
            List<String> ranked = distinctiveTerms(interest, byId);
            String lead = null;
            for (String term : ranked) {
                if (!leads.contains(term)) {
                    lead = term;
                    break;
                }
            }
            String label;
            if (lead == null) {
                // every term already leads another interest's label: say which one this is
                label = (ranked.isEmpty() ? "interest" : ranked.get(0)) + " #" + interest.id;
            } else {
                leads.add(lead);
                List<String> shown = new ArrayList<>(List.of(lead));
                for (String term : ranked) {
                    if (shown.size() >= LABEL_TERMS) {
                        break;
                    }
                    if (!term.equals(lead)) {
                        shown.add(term);
                    }
                }
                label = String.join(", ", shown);
            }
            // a term may itself contain ", ": the id settles any remaining collision
            while (!used.add(label)) {
                label = label + " #" + interest.id;
            }
            labels.put(interest.id, label);
        }
        return labels;
    }

    /**
     * The interest's terms, most distinctive first: a term's weight here discounted by its weight
     * in the user's other interests (a term every interest has says little about this one).
     */
    static List<String> distinctiveTerms(Interest interest, Collection<Interest> all) {
        List<Map.Entry<String, Double>> scored = new ArrayList<>();
        for (Map.Entry<String, Float> term : interest.terms.entrySet()) {
            double elsewhere = 0;
            for (Interest other : all) {
                if (other.id != interest.id) {
                    elsewhere += other.terms.getOrDefault(term.getKey(), 0f);
                }
            }
            scored.add(Map.entry(term.getKey(), term.getValue() / (1.0 + elsewhere)));
        }
        scored.sort(Map.Entry.<String, Double>comparingByValue().reversed()
                .thenComparing(Map.Entry.comparingByKey()));
        List<String> terms = new ArrayList<>(scored.size());
        scored.forEach(e -> terms.add(e.getKey()));
        return terms;
    }
}
