package dev.interestgraph.delta;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.vector.VectorMath;
import dev.interestgraph.inference.MiniLmEncoder;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.proto.v2.VectorEncoding;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The measurement behind delta contract v2's vector encoding and send threshold
 * (docs/architecture.md): recall@10 of cosine rankings over the generated dataset's catalogue,
 * embedded by the real all-MiniLM-L6-v2, when the query vector (an interest centroid or a profile,
 * as a consumer holds it) is quantised (FLOAT16, INT8, INT6, INT5, INT4) or stale by a cosine
 * distance d (the vector last sent, which moved less than {@code
 * graph.delta.vector-min-distance}). Reference: the float32 query. Prints the table; asserts
 * the floors the documented defaults rely on.
 */
class VectorQuantisationRecallTest {
    private static final int K = 10;
    private static MiniLmEncoder encoder;
    private static float[][] items;
    private static List<float[]> queries;

    @BeforeAll
    static void embed() {
        encoder = MiniLmEncoder.load();
        List<String> texts = new ArrayList<>();
        for (ItemVersion item : SyntheticDataset.builder().itemsPerTopic(30).build().items()) {
            texts.add(item.text());
        }
        items = new float[texts.size()][];
        for (int from = 0; from < texts.size(); from += 32) {
            float[][] batch = encoder.encode(texts.subList(from, Math.min(texts.size(), from + 32)));
            System.arraycopy(batch, 0, items, from, batch.length);
        }
        // queries like the delta's vectors: single items, and means of a few items (centroids,
        // profiles), normalised
        Random random = new Random(7);
        queries = new ArrayList<>();
        for (int q = 0; q < 400; q++) {
            int members = q % 4 == 0 ? 1 : 2 + random.nextInt(8);
            float[] sum = new float[items[0].length];
            int anchor = random.nextInt(items.length);
            for (int m = 0; m < members; m++) {
                // mostly items near the anchor (one topic), like an interest
                float[] item = items[m == 0 ? anchor
                        : Math.floorMod(anchor + random.nextInt(30) - 15, items.length)];
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += item[i];
                }
            }
            queries.add(VectorMath.normalized(sum));
        }
    }

    @AfterAll
    static void close() {
        encoder.close();
    }

    @Test
    void int8AndFloat16KeepTheCosineRankingsAndStalenessCostsMore() {
        double fp16 = recall(q -> VectorCodec.decode(VectorCodec.encode(q, VectorEncoding.FLOAT16, 0)));
        double int8 = recall(q -> VectorCodec.decode(VectorCodec.encode(q, VectorEncoding.INT8, 0)));
        System.out.printf("recall@%d vs float32 over %d items, %d queries (MiniLM):%n", K,
                items.length, queries.size());
        System.out.printf("  FLOAT16 (768 B)  %.4f%n  INT8    (388 B)  %.4f%n", fp16, int8);
        Map<VectorEncoding, Double> packed = new LinkedHashMap<>();
        for (VectorEncoding encoding : List.of(VectorEncoding.INT6, VectorEncoding.INT5,
                VectorEncoding.INT4)) {
            packed.put(encoding, recall(q -> VectorCodec.decode(VectorCodec.encode(q, encoding,
                    0))));
            System.out.printf("  %-7s (%d B)  %.4f   mean cosine distance %.5f%n", encoding,
                    VectorCodec.valueBytes(encoding, items[0].length) + 4, packed.get(encoding),
                    distance(encoding));
        }
        System.out.printf("  INT8 mean cosine distance %.5f%n", distance(VectorEncoding.INT8));
        Random random = new Random(11);
        double[] distances = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05};
        double[] stale = new double[distances.length];
        for (int d = 0; d < distances.length; d++) {
            double distance = distances[d];
            stale[d] = recall(q -> VectorCodec.decode(VectorCodec.encode(
                    rotated(q, distance, random), VectorEncoding.INT8, 0)));
            System.out.printf("  INT8, stale by cosine distance %.3f  %.4f%n", distance, stale[d]);
        }
        // floors the documented defaults rely on (INT6, min distance 0.015)
        assertThat(fp16).isGreaterThanOrEqualTo(0.99);
        assertThat(int8).isGreaterThanOrEqualTo(0.97);
        assertThat(packed.get(VectorEncoding.INT6)).isGreaterThanOrEqualTo(0.99);
        // each bit fewer costs recall: the choice among them is a trade, made in VectorSendSweep
        assertThat(packed.get(VectorEncoding.INT6)).isLessThanOrEqualTo(int8);
        assertThat(packed.get(VectorEncoding.INT4)).isLessThan(packed.get(VectorEncoding.INT6));
        assertThat(stale[3]).isGreaterThanOrEqualTo(0.85);
        // staleness is the larger error: quantising is not what bounds a consumer's rankings
        assertThat(stale[distances.length - 1]).isLessThan(int8);
    }

    /** Mean cosine distance of the queries from their quantised selves. */
    private static double distance(VectorEncoding encoding) {
        double sum = 0;
        for (float[] query : queries) {
            sum += 1 - VectorMath.dot(query, VectorCodec.decode(VectorCodec.encode(query,
                    encoding, 0)));
        }
        return sum / queries.size();
    }

    /** A unit vector at exactly cosine distance {@code d} from {@code q}, in a random direction. */
    private static float[] rotated(float[] q, double d, Random random) {
        float[] noise = new float[q.length];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = (float) random.nextGaussian();
        }
        double along = VectorMath.dot(noise, q);
        for (int i = 0; i < noise.length; i++) {
            noise[i] -= (float) (along * q[i]);
        }
        float[] orthogonal = VectorMath.normalized(noise);
        double cos = 1 - d;
        double sin = Math.sqrt(1 - cos * cos);
        float[] out = new float[q.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (cos * q[i] + sin * orthogonal[i]);
        }
        return out;
    }

    private static double recall(UnaryOperator<float[]> transform) {
        double sum = 0;
        for (float[] query : queries) {
            Set<Integer> truth = new HashSet<>(topK(query));
            List<Integer> found = topK(transform.apply(query));
            sum += found.stream().filter(truth::contains).count() / (double) K;
        }
        return sum / queries.size();
    }

    private static List<Integer> topK(float[] query) {
        Integer[] order = new Integer[items.length];
        double[] score = new double[items.length];
        for (int i = 0; i < items.length; i++) {
            order[i] = i;
            score[i] = VectorMath.dot(items[i], query);
        }
        Arrays.sort(order, (a, b) -> Double.compare(score[b], score[a]));
        return Arrays.asList(order).subList(0, K);
    }
}
