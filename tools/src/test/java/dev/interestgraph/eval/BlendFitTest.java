package dev.interestgraph.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.recommend.Recommender;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BlendFitTest {

    /**
     * Planted structure: every signal is random, and what users go on to like is the top 3 by
     * neighbours + 0.3·interests; short-term, community and popularity are noise. Only the
     * planted combination of the grid ranks every user's liked items first.
     */
    @Test
    void choosesThePlantedWeights() {
        Random random = new Random(7);
        List<BlendFit.Case> cases = new ArrayList<>();
        for (int user = 0; user < 150; user++) {
            List<String> items = new ArrayList<>();
            float[][] values = new float[40][];
            double[] truth = new double[40];
            for (int c = 0; c < 40; c++) {
                items.add("u" + user + "-i" + c);
                values[c] = new float[5];
                for (int s = 0; s < 5; s++) {
                    values[c][s] = random.nextFloat();
                }
                truth[c] = values[c][Recommender.Signal.NEIGHBOURS.ordinal()]
                        + 0.3 * values[c][Recommender.Signal.INTERESTS.ordinal()];
            }
            Set<String> liked = IntStream.range(0, 40).boxed()
                    .sorted(Comparator.comparingDouble(c -> -truth[c])).limit(3)
                    .map(items::get).collect(Collectors.toCollection(HashSet::new));
            cases.add(new BlendFit.Case(new Recommender.Signals(items, values), liked));
        }
        BlendFit.Grid grid = new BlendFit.Grid(new double[] {0, 0.1, 0.3, 1},
                new double[] {0, 0.3}, new double[] {1}, new double[] {0, 0.5},
                new double[] {0, 0.1, 0.3});
        Recommender.Weights base = new Recommender.Weights();
        base.coldStartEdges = 7;

        BlendFit.Result fit = BlendFit.fit(cases, grid, base, 10);

        assertThat(fit.weights().interests).isEqualTo(0.3);
        assertThat(fit.weights().shortTerm).isZero();
        assertThat(fit.weights().neighbours).isEqualTo(1.0);
        assertThat(fit.weights().community).isZero();
        assertThat(fit.weights().popularity).isZero();
        assertThat(fit.ndcg()).isEqualTo(1.0, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(fit.baseNdcg()).isLessThan(fit.ndcg());
        assertThat(fit.combinations()).isEqualTo(4 * 2 * 2 * 3);
        assertThat(fit.weights().coldStartEdges).as("structural settings kept").isEqualTo(7);
    }

    @Test
    void topKBackfillsAsTheRecommenderDoes() {
        // columns: interests, short-term, neighbours, community, popularity
        Recommender.Signals signals = new Recommender.Signals(List.of("a", "b", "c", "d"),
                new float[][] {
                    {0, 0, 0, 0, 0.9f}, // popular only
                    {0, 0, 0.5f, 0, 0.1f}, // a neighbour
                    {0, 0, 0, 0.3f, 0.2f}, // the user's community
                    {0, 0, 0, 0, 0.5f},
                });
        double[] neighboursOnly = {0.03, 0.01, 1, 0, 0};
        // b the only positive score; then c by community, then a and d by popularity (not by id)
        assertThat(BlendFit.topK(signals, neighboursOnly, 4)).containsExactly("b", "c", "a", "d");
        assertThat(BlendFit.topK(signals, neighboursOnly, 2)).containsExactly("b", "c");
        // with popularity weighted, every candidate scores: the plain linear ranking
        assertThat(BlendFit.topK(signals, new double[] {0, 0, 1, 0, 1}, 4))
                .containsExactly("a", "b", "d", "c");
    }
}
