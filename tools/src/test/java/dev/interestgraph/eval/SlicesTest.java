package dev.interestgraph.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.interestgraph.model.Action;
import dev.interestgraph.model.UserAction;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SlicesTest {

    private static UserAction rate(List<UserAction> events, String user, String item) {
        UserAction event = new UserAction("e" + events.size(), user, item, Action.RATE,
                events.size() * 1000L, 4.0, null);
        events.add(event);
        return event;
    }

    @Test
    void coldItemsNewUsersAndTheRestOnAHandBuiltDataSet() {
        // before the cut: "hot" has 5 interactions, "warm4" 4 (cold: fewer than 5), "never" none;
        // "veteran" has 6 events, "newbie" 4 (new: fewer than 5)
        List<UserAction> beforeCut = new ArrayList<>();
        for (String user : List.of("veteran", "a", "b", "c", "newbie")) {
            rate(beforeCut, user, "hot");
        }
        for (String user : List.of("veteran", "a", "b", "newbie")) {
            rate(beforeCut, user, "warm4");
        }
        for (String item : List.of("x1", "x2", "x3", "x4")) {
            rate(beforeCut, "veteran", item);
        }
        rate(beforeCut, "newbie", "x1");
        rate(beforeCut, "newbie", "x2");

        Evaluation.Slicer slicer = new Evaluation.Slicer("after", beforeCut);

        assertThat(slicer.isNewUser("newbie")).isTrue();
        assertThat(slicer.isNewUser("veteran")).isFalse();
        assertThat(slicer.isNewUser("stranger")).isTrue(); // no event at all
        assertThat(slicer.isColdItem("hot")).isFalse();
        assertThat(slicer.isColdItem("warm4")).isTrue();
        assertThat(slicer.isColdItem("never")).isTrue();

        assertThat(slicer.slices("veteran", Set.of("hot", "warm4", "never"))).isEqualTo(Map.of(
                Evaluation.COLD_ITEMS, Set.of("warm4", "never"),
                Evaluation.REST, Set.of("hot")));
        assertThat(slicer.slices("newbie", Set.of("hot", "never"))).isEqualTo(Map.of(
                Evaluation.COLD_ITEMS, Set.of("never"),
                Evaluation.NEW_USERS, Set.of("hot", "never")));
        assertThat(slicer.slices("veteran", Set.of("hot"))).isEqualTo(Map.of(
                Evaluation.REST, Set.of("hot")));

        // scoring goes to the method's row per slice; users are counted once per slice
        Evaluation.Row all = new Evaluation.Row("m", "after");
        slicer.score(all, "veteran", List.of("warm4", "hot"), Set.of("hot", "warm4"));
        slicer.score(all, "newbie", List.of("zzz"), Set.of("hot"));
        assertThat(all.at(10).users()).isEqualTo(2);
        assertThat(slicer.users()).containsEntry(Evaluation.COLD_ITEMS, 1)
                .containsEntry(Evaluation.NEW_USERS, 1).containsEntry(Evaluation.REST, 1);
        Evaluation.Row cold = slicer.rows().stream()
                .filter(r -> r.slice.equals(Evaluation.COLD_ITEMS)).findFirst().orElseThrow();
        assertThat(cold.at(10).hitRate()).isEqualTo(1.0); // warm4 ranked first
        Evaluation.Row newUsers = slicer.rows().stream()
                .filter(r -> r.slice.equals(Evaluation.NEW_USERS)).findFirst().orElseThrow();
        assertThat(newUsers.at(10).hitRate()).isZero();
    }

    @Test
    void coldItemsAreRankedAmongColdItemsOnlyWithTheSameFillForEveryMethod() {
        // before the cut: "hot" 5 interactions (warm), "c2" 2, "c1" 1, "c0" and "a0" none (cold)
        List<UserAction> beforeCut = hotC2AndC1RatedBy("u");
        Evaluation.Slicer slicer = new Evaluation.Slicer("after", beforeCut);
        Evaluation.ColdRanking cold = new Evaluation.ColdRanking("after", slicer,
                List.of("hot", "c2", "c1", "c0", "a0"));

        assertThat(cold.candidates()).isEqualTo(4);
        assertThat(cold.hasColdTarget(Set.of("hot"))).isFalse();
        assertThat(cold.hasColdTarget(Set.of("hot", "c0"))).isTrue();
        // what a method is told to exclude: every warm item and the user's seen items
        assertThat(cold.excluding(Set.of("c1"))).containsExactlyInAnyOrder("hot", "c1");
        // a method with no score for any cold item gets the fill order: interactions, then id
        assertThat(cold.ranked(List.of(), Set.of("c1"))).containsExactly("c2", "a0", "c0");
        // a method's own cold items come first, warm or seen ones are dropped, no duplicates
        assertThat(cold.ranked(List.of("hot", "c0", "c1"), Set.of("c1")))
                .containsExactly("c0", "c2", "a0");

        // the collaborative method (no score) and the content one (ranks c0 first), target c0
        cold.score("collaborative", "u", List.of(), Set.of("c0", "hot"), Set.of("c1"));
        cold.score("content", "u", List.of("c0"), Set.of("c0", "hot"), Set.of("c1"));
        cold.score("content", "v", List.of("c0"), Set.of("hot"), Set.of()); // no cold target
        assertThat(cold.users()).isEqualTo(1);
        Evaluation.Row collaborative = row(cold, "collaborative", Evaluation.COLD_ONLY);
        Evaluation.Row content = row(cold, "content", Evaluation.COLD_ONLY);
        assertThat(content.at(10).users()).isEqualTo(1);
        assertThat(content.at(10).ndcg()).isEqualTo(1.0); // c0 first, the only relevant item
        // c0 third in the fill order: 1 / log2(4)
        assertThat(collaborative.at(10).ndcg()).isCloseTo(0.5, within(1e-9));
        assertThat(collaborative.at(10).hitRate()).isEqualTo(1.0);
    }

    @Test
    void theColdTargetsSplitIntoItemsNobodyInteractedWithAndItemsWithAFewInteractions() {
        // before the cut: "hot" 5 interactions (warm), "c2" 2, "c1" 1 (rare), "c0" none (unseen)
        List<UserAction> beforeCut = hotC2AndC1RatedBy("a");
        Evaluation.Slicer slicer = new Evaluation.Slicer("after", beforeCut);
        Evaluation.ColdRanking cold = new Evaluation.ColdRanking("after", slicer,
                List.of("hot", "c2", "c1", "c0"));

        // "u" wants c0 and c1; "v" only c2; "w" only c0. The method ranks c1, c0, c2 for all.
        List<String> ranks = List.of("c1", "c0", "c2");
        cold.score("m", "u", ranks, Set.of("c0", "c1", "hot"), Set.of());
        cold.score("m", "v", ranks, Set.of("c2"), Set.of());
        cold.score("m", "w", ranks, Set.of("c0"), Set.of());

        assertThat(cold.users()).isEqualTo(3);
        Evaluation.Row all = row(cold, "m", Evaluation.COLD_ONLY);
        Evaluation.Row unseen = row(cold, "m", Evaluation.COLD_UNSEEN);
        Evaluation.Row rare = row(cold, "m", Evaluation.COLD_RARE);
        assertThat(all.at(10).users()).isEqualTo(3);
        assertThat(unseen.at(10).users()).as("u and w have a target nobody interacted with")
                .isEqualTo(2);
        assertThat(rare.at(10).users()).as("u (c1) and v (c2)").isEqualTo(2);
        // the same list in every part: c0 is second (1/log2 3) for u and w
        assertThat(unseen.at(10).ndcg()).isCloseTo(1 / (Math.log(3) / Math.log(2)),
                within(1e-9));
        // rare: u's c1 first (1.0), v's c2 third (1/log2 4 = 0.5)
        assertThat(rare.at(10).ndcg()).isCloseTo((1.0 + 0.5) / 2, within(1e-9));
        // the rows come whole protocol first, then the parts in order
        assertThat(cold.rows()).extracting(r -> r.slice).containsExactly(Evaluation.COLD_ONLY,
                Evaluation.COLD_UNSEEN, Evaluation.COLD_RARE);
        // and so does the report's table, each row naming its part and its own users
        Evaluation.Result result = new Evaluation.Result();
        result.coldRows.addAll(cold.rows());
        result.coldCandidates.put("after", cold.candidates());
        // (graph, cold targets, method, users: the first four cells of each row)
        assertThat(EvaluationReport.coldTable(result).lines().skip(2))
                .extracting(line -> String.join(" | ", List.of(line.split(" \\| ")).subList(0, 4)))
                .containsExactly("| after update | all | m | 3",
                        "| after update | no interaction before the cut | m | 2",
                        "| after update | 1-4 interactions before the cut | m | 2");
    }

    /** "hot" rated by u, a, b, c and d (warm: 5), "c2" by a and b, "c1" by {@code c1Rater}. */
    private static List<UserAction> hotC2AndC1RatedBy(String c1Rater) {
        List<UserAction> beforeCut = new ArrayList<>();
        for (String user : List.of("u", "a", "b", "c", "d")) {
            rate(beforeCut, user, "hot");
        }
        rate(beforeCut, "a", "c2");
        rate(beforeCut, "b", "c2");
        rate(beforeCut, c1Rater, "c1");
        return beforeCut;
    }

    private static Evaluation.Row row(Evaluation.ColdRanking cold, String method, String part) {
        return cold.rows().stream().filter(r -> r.method.equals(method) && r.slice.equals(part))
                .findFirst().orElseThrow();
    }
}
