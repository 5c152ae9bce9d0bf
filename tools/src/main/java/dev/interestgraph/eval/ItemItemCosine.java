package dev.interestgraph.eval;

import dev.interestgraph.model.UserAction;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Binary item–item cosine from positive interactions: {@code cos(i, j) = |U(i) ∩ U(j)| /
 * sqrt(|U(i)|·|U(j)|)}, keeping each item's {@code topN} neighbours. The in-process stand-in for
 * the Gelly job's similarity table, and the item–item baseline.
 */
public final class ItemItemCosine {
    private ItemItemCosine() {}

    public static Map<String, Map<String, Float>> neighbours(List<UserAction> events, int topN) {
        Map<String, Integer> itemIndex = new HashMap<>();
        List<String> items = new ArrayList<>();
        Map<String, List<Integer>> userItems = new HashMap<>();
        for (UserAction event : events) {
            if (!TemporalSplit.isRelevant(event)) {
                continue;
            }
            Integer index = itemIndex.get(event.itemId);
            if (index == null) {
                index = items.size();
                itemIndex.put(event.itemId, index);
                items.add(event.itemId);
            }
            List<Integer> list = userItems.computeIfAbsent(event.userId, u -> new ArrayList<>());
            if (!list.contains(index)) {
                list.add(index);
            }
        }
        int n = items.size();
        List<List<Integer>> usersOfItem = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            usersOfItem.add(new ArrayList<>());
        }
        List<int[]> userLists = new ArrayList<>();
        for (List<Integer> list : userItems.values()) {
            int user = userLists.size();
            userLists.add(list.stream().mapToInt(Integer::intValue).toArray());
            for (int item : list) {
                usersOfItem.get(item).add(user);
            }
        }
        Map<String, Map<String, Float>> result = new HashMap<>();
        int[] coCounts = new int[n];
        List<Integer> touched = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (int user : usersOfItem.get(i)) {
                for (int j : userLists.get(user)) {
                    if (j != i) {
                        if (coCounts[j] == 0) {
                            touched.add(j);
                        }
                        coCounts[j]++;
                    }
                }
            }
            PriorityQueue<double[]> top = new PriorityQueue<>(topN + 1,
                    (a, b) -> a[0] != b[0] ? Double.compare(a[0], b[0]) : Double.compare(b[1], a[1]));
            double ni = usersOfItem.get(i).size();
            for (int j : touched) {
                double cosine = coCounts[j] / Math.sqrt(ni * usersOfItem.get(j).size());
                top.add(new double[] {cosine, j});
                if (top.size() > topN) {
                    top.poll();
                }
                coCounts[j] = 0;
            }
            touched.clear();
            List<double[]> sorted = new ArrayList<>(top);
            sorted.sort((a, b) -> a[0] != b[0] ? Double.compare(b[0], a[0]) : Double.compare(a[1], b[1]));
            Map<String, Float> similar = new LinkedHashMap<>();
            for (double[] entry : sorted) {
                similar.put(items.get((int) entry[1]), (float) entry[0]);
            }
            result.put(items.get(i), similar);
        }
        return result;
    }

    /** Interaction counts per item (all actions): the popularity baseline. */
    public static Map<String, Integer> popularity(List<UserAction> events) {
        Map<String, Integer> counts = new HashMap<>();
        for (UserAction event : events) {
            if (event.itemId != null && !event.itemId.isEmpty()) {
                counts.merge(event.itemId, 1, Integer::sum);
            }
        }
        return counts;
    }
}
