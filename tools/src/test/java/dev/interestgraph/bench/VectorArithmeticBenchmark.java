package dev.interestgraph.bench;

import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.vector.VectorMath;
import dev.interestgraph.model.EnrichedAction;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The arithmetic floor of the user-graph operator (issue 16): over the same pre-generated events
 * as {@link UserGraphBenchmark}, only the vector arithmetic those events need, with nothing
 * else — no Flink, no state backend, no timers, no deltas, no half-float conversion, no
 * allocation per event.
 *
 * <p>Per event with a positive weight (the events that move vectors in {@code GraphUpdater}): the
 * item vector's norm, one dot product with each of the user's interest centroids (cosine with a
 * cached centroid norm) to pick the interest it joins ({@code graph.interest-join-threshold}, at
 * most {@code graph.max-interests}), then three decayed-mean additions — into that centroid (edge
 * half-life), the long-term and the short-term profile — and the joined centroid's new norm. Dot
 * products and norms are the project's own {@link VectorMath} (what the operator calls), so a
 * faster {@code VectorMath} moves the floor and the operator alike. A new interest copies the
 * item's vector; when the interests are full the floor replaces the weakest one (the operator
 * merges the two closest, which costs more dot products: the floor takes the cheapest way the same
 * decision could be made). Weights and decay factors are the job's defaults ({@link
 * GraphParameters#defaults()}), so the same events open, join and weigh interests as they do in
 * the operator, up to the merge rule and half-float rounding.
 *
 * <p>One invocation = one pass over all events from empty per-user vectors (reset outside the
 * timing). {@link BenchMain} turns the pass time into events/s and prints the user-graph's heap
 * rate divided by this one: the share of the floor the operator reaches.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 10)
@Measurement(iterations = 10)
public class VectorArithmeticBenchmark {
    @Param({"300"})
    public int users;

    @Param({"100"})
    public int eventsPerUser;

    @Param({"200"})
    public int itemsPerTopic;

    private int[] userOf;
    private float[][] vectorOf;
    private double[] amountOf;
    private long[] timeOf;
    private UserVectors[] state;
    private GraphParameters params;

    @Setup(Level.Trial)
    public void generate() {
        params = GraphParameters.defaults();
        List<EnrichedAction> events = BenchData.events(users, eventsPerUser, itemsPerTopic, 42);
        int n = events.size();
        userOf = new int[n];
        vectorOf = new float[n][];
        amountOf = new double[n];
        timeOf = new long[n];
        Map<String, Integer> userIndex = new HashMap<>();
        Map<String, float[]> itemVectors = new HashMap<>();
        for (int i = 0; i < n; i++) {
            EnrichedAction event = events.get(i);
            userOf[i] = userIndex.computeIfAbsent(event.userId, u -> userIndex.size());
            // one float copy per item, shared by its events: the operator's half-float decoding
            // is a storage format cost, not arithmetic the event needs
            vectorOf[i] = event.hasVector() ? itemVectors.computeIfAbsent(event.itemId,
                    item -> HalfFloats.toFloats(event.vector)) : null;
            amountOf[i] = params.actionWeight(event.action, event.value);
            timeOf[i] = event.eventTimeMs;
        }
        state = new UserVectors[userIndex.size()];
    }

    @Setup(Level.Iteration)
    public void reset() {
        for (int u = 0; u < state.length; u++) {
            state[u] = new UserVectors(params, BenchData.DIMENSION);
        }
    }

    @Benchmark
    public long arithmetic() {
        long interests = 0;
        for (int i = 0; i < userOf.length; i++) {
            float[] vector = vectorOf[i];
            if (amountOf[i] > 0 && vector != null) {
                interests += state[userOf[i]].apply(vector, amountOf[i], timeOf[i]);
            }
        }
        return interests; // returned to JMH, so that nothing is optimised away
    }

    /** One user's vectors: interest centroids and the two profiles, as plain floats. */
    static final class UserVectors {
        private final GraphParameters params;
        private final int dimension;
        private final float[][] centroids;
        private final double[] centroidNorms;
        private final double[] centroidWeights;
        private final long[] centroidTimes;
        private int interests;
        private final Mean longTerm;
        private final Mean shortTerm;

        UserVectors(GraphParameters params, int dimension) {
            this.params = params;
            this.dimension = dimension;
            centroids = new float[params.maxInterests][dimension];
            centroidNorms = new double[params.maxInterests];
            centroidWeights = new double[params.maxInterests];
            centroidTimes = new long[params.maxInterests];
            longTerm = new Mean(dimension, params.longTermHalfLifeMs);
            shortTerm = new Mean(dimension, params.shortTermHalfLifeMs);
        }

        /** Applies one positive event; returns the number of interests after it. */
        int apply(float[] x, double amount, long atMs) {
            double norm = VectorMath.norm(x);
            int best = -1;
            double bestSimilarity = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < interests; i++) {
                double denominator = centroidNorms[i] * norm;
                double similarity = denominator == 0 ? 0
                        : VectorMath.dot(centroids[i], x) / denominator;
                if (similarity > bestSimilarity) {
                    best = i;
                    bestSimilarity = similarity;
                }
            }
            if (best < 0 || bestSimilarity < params.interestJoinThreshold) {
                best = interests < centroids.length ? interests++ : weakest(atMs);
                System.arraycopy(x, 0, centroids[best], 0, dimension);
                centroidNorms[best] = norm;
                centroidWeights[best] = amount;
                centroidTimes[best] = atMs;
            } else {
                centroidWeights[best] = addDecayed(centroids[best], centroidWeights[best],
                        centroidTimes[best], x, amount, atMs, params.edgeHalfLifeMs);
                centroidTimes[best] = Math.max(centroidTimes[best], atMs);
                centroidNorms[best] = VectorMath.norm(centroids[best]);
            }
            longTerm.add(x, amount, atMs);
            shortTerm.add(x, amount, atMs);
            return interests;
        }

        private int weakest(long atMs) {
            int weakest = 0;
            double weight = Double.POSITIVE_INFINITY;
            for (int i = 0; i < interests; i++) {
                double w = centroidWeights[i]
                        * VectorMath.decay(Math.max(0, atMs - centroidTimes[i]),
                                params.edgeHalfLifeMs);
                if (w < weight) {
                    weight = w;
                    weakest = i;
                }
            }
            return weakest;
        }
    }

    /** A decayed mean of vectors, updated in place. */
    static final class Mean {
        private final float[] mean;
        private final long halfLifeMs;
        private double weight;
        private long lastMs;

        Mean(int dimension, long halfLifeMs) {
            this.mean = new float[dimension];
            this.halfLifeMs = halfLifeMs;
        }

        void add(float[] x, double amount, long atMs) {
            weight = addDecayed(mean, weight, lastMs, x, amount, atMs, halfLifeMs);
            lastMs = Math.max(lastMs, atMs);
        }
    }

    /** mean ← (mean·w·decay + x·amount) / (w·decay + amount) in place; returns the weight. */
    static double addDecayed(float[] mean, double weight, long lastMs, float[] x, double amount,
            long atMs, long halfLifeMs) {
        double old = weight == 0 ? 0
                : weight * VectorMath.decay(Math.max(0, atMs - lastMs), halfLifeMs);
        double total = old + amount;
        float a = (float) (old / total);
        float b = (float) (amount / total);
        for (int d = 0; d < mean.length; d++) {
            mean[d] = mean[d] * a + x[d] * b;
        }
        return total;
    }
}
