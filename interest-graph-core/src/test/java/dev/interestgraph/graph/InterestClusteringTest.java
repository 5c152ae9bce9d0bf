package dev.interestgraph.graph;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class InterestClusteringTest {
    private static float[] unit(double angleDegrees) {
        double a = Math.toRadians(angleDegrees);
        return new float[] {(float) Math.cos(a), (float) Math.sin(a), 0f};
    }

    @Test
    void wardMergesCloseClustersAndNeverUnrelatedOnes() {
        // two tight groups 90° apart (cosine 0) and a loner at 180°
        List<float[]> vectors = List.of(unit(0), unit(10), unit(90), unit(5), unit(95),
                unit(180));
        double[] weights = {1, 1, 1, 1, 1, 1};
        List<List<Integer>> clusters = InterestClustering.ward(vectors, weights, 0.9);
        assertThat(clusters).containsExactly(List.of(0, 1, 3), List.of(2, 4), List.of(5));
        // with the cut below every cosine everything merges: the threshold is what separates
        assertThat(InterestClustering.ward(vectors, weights, -1.0)).hasSize(1);
    }

    @Test
    void wardPrefersThePairWhoseMergeCostsLeast() {
        // 0 and 1 are 4° apart, 1 and 2 are 5° apart: the nearest pair is (0, 1), but 0 is
        // heavy, and Ward's cost wa·wb/(wa+wb)·d² makes (1, 2) the cheaper merge; the merged
        // 1+2 (at 6.5°) is then beyond the 5.5° cut from 0, so the clusters show the order
        List<float[]> vectors = List.of(unit(0), unit(4), unit(9));
        List<List<Integer>> clusters = InterestClustering.ward(vectors,
                new double[] {100, 0.1, 0.1}, Math.cos(Math.toRadians(5.5)));
        assertThat(clusters).containsExactly(List.of(0), List.of(1, 2));
    }

    @Test
    void idsSurviveAReclusteringWhenMembershipBarelyChanged() {
        List<Set<String>> before = List.of(Set.of("a", "b", "c", "d"), Set.of("x", "y", "z"),
                Set.of("p", "q"));
        int[] ids = {4, 9, 12};
        // one item moved from 4 to 9, 12 dissolved into 9, and a brand-new cluster appeared
        List<Set<String>> after = List.of(Set.of("m", "n"), Set.of("x", "y", "z", "d", "p", "q"),
                Set.of("a", "b", "c"));
        assertThat(InterestClustering.matchIds(before, ids, after)).containsExactly(-1, 9, 4);
    }

    @Test
    void anOldIdGoesToOneNewClusterOnly() {
        List<Set<String>> before = List.of(Set.of("a", "b", "c", "d"));
        List<Set<String>> after = List.of(Set.of("a", "b"), Set.of("c", "d"));
        // ties go to the earlier new cluster; the other gets a new id
        assertThat(InterestClustering.matchIds(before, new int[] {3}, after))
                .containsExactly(3, -1);
    }
}
