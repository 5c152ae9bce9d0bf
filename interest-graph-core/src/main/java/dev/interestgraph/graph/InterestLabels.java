package dev.interestgraph.graph;

import dev.interestgraph.graph.UserGraph.Interest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
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
        // each term's weight in every interest (by position in id order, 0 where absent), built
        // once: the scores below then take an array walk per term instead of a sorted-map look-up
        // in every other interest (O(I²·T) look-ups were 14 % of the operator's JMH samples)
        int n = byId.size();
        Map<String, float[]> weights = new HashMap<>();
        for (int k = 0; k < n; k++) {
            for (Map.Entry<String, Float> term : byId.get(k).terms.entrySet()) {
                weights.computeIfAbsent(term.getKey(), t -> new float[n])[k] = term.getValue();
            }
        }
        Map<Integer, String> labels = new TreeMap<>();
        Set<String> leads = new HashSet<>();
        Set<String> used = new HashSet<>();
        for (int k = 0; k < n; k++) {
            Interest interest = byId.get(k);
            String[] ranked = distinctiveTerms(interest, k, byId, weights);
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
                label = (ranked.length == 0 ? "interest" : ranked[0]) + " #" + interest.id;
            } else {
                leads.add(lead);
                StringBuilder shown = new StringBuilder(lead);
                int count = 1;
                for (String term : ranked) {
                    if (count >= LABEL_TERMS) {
                        break;
                    }
                    if (!term.equals(lead)) {
                        shown.append(", ").append(term);
                        count++;
                    }
                }
                label = shown.toString();
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
     * The terms of interest {@code byId[k]}, most distinctive first: a term's weight here
     * discounted by its weight in the user's other interests (a term every interest has says
     * little about this one), summed in id order; ties by term. {@code weights}: each term's
     * weight per interest of {@code byId}.
     */
    static String[] distinctiveTerms(Interest interest, int k, List<Interest> byId,
            Map<String, float[]> weights) {
        int m = interest.terms.size();
        String[] terms = new String[m];
        double[] scores = new double[m];
        int j = 0;
        for (Map.Entry<String, Float> term : interest.terms.entrySet()) {
            float[] perInterest = weights.get(term.getKey());
            double elsewhere = 0;
            for (int o = 0; o < perInterest.length; o++) {
                if (byId.get(o).id != interest.id) {
                    elsewhere += perInterest[o]; // (an absent term adds 0: the sum is unchanged)
                }
            }
            // insertion by (score descending, term ascending): at most 16 terms
            double score = term.getValue() / (1.0 + elsewhere);
            String name = term.getKey();
            int at = j++;
            while (at > 0 && (Double.compare(scores[at - 1], score) < 0
                    || Double.compare(scores[at - 1], score) == 0
                    && terms[at - 1].compareTo(name) > 0)) {
                scores[at] = scores[at - 1];
                terms[at] = terms[at - 1];
                at--;
            }
            scores[at] = score;
            terms[at] = name;
        }
        return terms;
    }
}
