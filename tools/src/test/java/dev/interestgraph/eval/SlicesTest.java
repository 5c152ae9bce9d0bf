package dev.interestgraph.eval;

import static org.assertj.core.api.Assertions.assertThat;

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
}
