package dev.interestgraph.bench;

import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.graph.GraphUpdater;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v1.InterestUpsert;
import dev.interestgraph.proto.v1.ProfileUpdate;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.proto.v2.VectorEncoding;
import dev.interestgraph.vector.HalfFloats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What the vectors of a delta cost and what a consumer loses by the ones not sent (issue 16:
 * choose the send threshold and the encoding from measured recall of cosine rankings): the
 * {@link CoalescingSweep} workload through {@link GraphUpdater} in the operator's flush slots,
 * every delta applied by a {@link DeltaMaterializer} as a consumer would, once per setting. At
 * every {@code sampleEvery}-th flush of the measured half (the second half of the events) each
 * vector of the flushed user — long-term and short-term profile, every published interest's
 * centroid — is compared with the consumer's: recall@10 of the catalogue ranked by cosine with
 * the consumer's vector against the ranking by the operator's own, and their cosine distance.
 * The consumer's vector is stale by up to the send threshold and quantised by the encoding; the
 * recall counts both, as a ranking consumer sees them.
 *
 * <p>Maintenance sweeps are left out: the workload spans minutes of event time and the sweep
 * runs daily, so the operator would run none either.
 *
 * <p>From {@code tools/} with the bench classpath: {@code java -cp
 * target/test-classes:target/classes:$(cat target/bench-classpath.txt)
 * dev.interestgraph.bench.VectorSendSweep [users] [eventsPerSecond] [events]
 * [min distances,...] [encodings,...] [max ages in s,...]}.
 */
public final class VectorSendSweep {
    private static final int K = 10;
    private static final int SAMPLE_EVERY = 20;

    private VectorSendSweep() {}

    public static void main(String[] args) {
        int users = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
        int events = args.length > 2 ? Integer.parseInt(args[2]) : 200_000;
        String distances = args.length > 3 ? args[3] : "0.01,0.015,0.02,0.03";
        String encodings = args.length > 4 ? args[4] : "INT8,INT6";
        String maxAges = args.length > 5 ? args[5] : "604800";
        List<EnrichedAction> input = CoalescingSweep.enriched(
                new E2EWorkload(users, 100, events, rate, 42), events);
        float[][] catalogue = catalogue(input);
        long measuredFrom = input.get(events / 2).eventTimeMs;
        System.out.printf(Locale.ROOT, "VECTORS %,d events over %,d users at %,d ev/s, catalogue "
                + "of %,d items, graph.emit-interval 1 s; recall@%d of the consumer's ranking vs "
                + "the operator's, every %d-th flush of the second half%n", events, users, rate,
                catalogue.length, K, SAMPLE_EVERY);
        System.out.println("| encoding | min distance | max age | payload B / event | vector B "
                + "/ event | recall@10 long-term | short-term | centroids | mean cosine "
                + "distance long / short / centroids |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---|");
        for (String encoding : encodings.split(",")) {
            for (String maxAge : maxAges.split(",")) {
                for (String distance : distances.split(",")) {
                    GraphParameters params = GraphParameters.builder()
                            .vectorEncoding(VectorEncoding.valueOf(encoding.trim()))
                            .vectorMinDistance(Double.parseDouble(distance.trim()))
                            .vectorMaxAge(Duration.ofSeconds(Long.parseLong(maxAge.trim())))
                            .build();
                    Figures f = run(params, input, catalogue, measuredFrom);
                    long measured = events - events / 2;
                    System.out.printf(Locale.ROOT, "| %s | %s | %s s | %.0f | %.0f | %.4f | %.4f "
                            + "| %.4f | %.4f / %.4f / %.4f |%n", encoding, distance, maxAge,
                            (double) f.payload / measured, (double) f.vectorBytes / measured,
                            f.recall[0] / f.samples[0], f.recall[1] / f.samples[1],
                            f.recall[2] / f.samples[2], f.distance[0] / f.samples[0],
                            f.distance[1] / f.samples[1], f.distance[2] / f.samples[2]);
                }
            }
        }
    }

    /** Figures of one setting: bytes, and per vector kind (long, short, centroid) samples. */
    static final class Figures {
        long payload;
        long vectorBytes;
        final double[] samples = new double[3];
        final double[] recall = new double[3];
        final double[] distance = new double[3];
    }

    static Figures run(GraphParameters params, List<EnrichedAction> input, float[][] catalogue,
            long measuredFrom) {
        GraphUpdater updater = new GraphUpdater(params);
        DeltaMaterializer consumer = new DeltaMaterializer();
        Map<String, UserGraph> graphs = new HashMap<>();
        Figures figures = new Figures();
        long flushes = 0;
        int i = 0;
        while (i < input.size()) {
            // the events of one flush slot, by user: the operator flushes each user once per slot
            long tick = updater.flushTick(input.get(i).eventTimeMs);
            Map<String, List<EnrichedAction>> slot = new LinkedHashMap<>();
            while (i < input.size() && updater.flushTick(input.get(i).eventTimeMs) == tick) {
                EnrichedAction event = input.get(i++);
                slot.computeIfAbsent(event.userId, u -> new ArrayList<>()).add(event);
            }
            for (Map.Entry<String, List<EnrichedAction>> user : slot.entrySet()) {
                GraphUpdater.Result result = updater.flush(graphs.get(user.getKey()),
                        user.getKey(), user.getValue());
                graphs.put(user.getKey(), result.graph);
                boolean measured = tick >= measuredFrom;
                for (GraphDelta delta : result.deltas) {
                    consumer.apply(delta);
                    if (measured) {
                        figures.payload += delta.getSerializedSize();
                        figures.vectorBytes += vectorBytes(delta);
                    }
                }
                if (measured && result.graph != null && ++flushes % SAMPLE_EVERY == 0) {
                    compare(result.graph, consumer.user(user.getKey()), catalogue, figures);
                }
            }
        }
        return figures;
    }

    private static long vectorBytes(GraphDelta delta) {
        long bytes = delta.getProfile().getLongTerm().getValues().size()
                + delta.getProfile().getShortTerm().getValues().size();
        for (var interest : delta.getInterestUpsertsList()) {
            bytes += interest.getCentroid().getValues().size();
        }
        return bytes;
    }

    private static void compare(UserGraph graph, Optional<DeltaMaterializer.UserView> view,
            float[][] catalogue, Figures figures) {
        if (view.isEmpty()) {
            return;
        }
        Optional<ProfileUpdate> profile = view.get().profile();
        if (graph.longTerm != null && profile.isPresent()
                && profile.get().getLongTermCount() > 0) {
            sample(0, graph.longTerm.direction(), floats(profile.get().getLongTermList()),
                    catalogue, figures);
            sample(1, graph.shortTerm.direction(), floats(profile.get().getShortTermList()),
                    catalogue, figures);
        }
        for (UserGraph.Interest interest : graph.interests.values()) {
            InterestUpsert seen = view.get().interests().get(interest.id);
            if (seen != null && seen.getCentroidCount() > 0) {
                sample(2, interest.centroid.direction(), floats(seen.getCentroidList()),
                        catalogue, figures);
            }
        }
    }

    private static void sample(int kind, float[] operator, float[] consumer, float[][] catalogue,
            Figures figures) {
        int[] truth = top(operator, catalogue);
        int[] seen = top(consumer, catalogue);
        int hits = 0;
        for (int a : truth) {
            for (int b : seen) {
                hits += a == b ? 1 : 0;
            }
        }
        figures.samples[kind]++;
        figures.recall[kind] += (double) hits / K;
        figures.distance[kind] += 1 - dot(operator, consumer) / Math.sqrt(
                dot(operator, operator) * dot(consumer, consumer));
    }

    /** Indices of the K catalogue items most similar to {@code query} (all unit vectors). */
    private static int[] top(float[] query, float[][] catalogue) {
        int[] best = new int[K];
        double[] scores = new double[K];
        java.util.Arrays.fill(scores, Double.NEGATIVE_INFINITY);
        for (int item = 0; item < catalogue.length; item++) {
            double score = dot(query, catalogue[item]);
            if (score > scores[K - 1]) {
                int at = K - 1;
                while (at > 0 && scores[at - 1] < score) {
                    scores[at] = scores[at - 1];
                    best[at] = best[at - 1];
                    at--;
                }
                scores[at] = score;
                best[at] = item;
            }
        }
        return best;
    }

    private static double dot(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    private static float[] floats(List<Float> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }

    /** The workload's distinct item vectors, as float unit vectors. */
    private static float[][] catalogue(List<EnrichedAction> input) {
        Map<String, float[]> items = new LinkedHashMap<>();
        for (EnrichedAction event : input) {
            items.computeIfAbsent(event.itemId, id -> HalfFloats.toFloats(event.vector));
        }
        return items.values().toArray(new float[0][]);
    }
}
