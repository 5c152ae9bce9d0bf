package dev.interestgraph.delta;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.eval.GraphReplay;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.inference.MiniLmEncoder;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.proto.v2.GraphDelta;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Delta bytes per input event on the generated dataset (real all-MiniLM-L6-v2 item vectors),
 * through the operator's own schedule ({@link GraphReplay}, which a test holds equal to the
 * operator): contract v2 at its defaults next to what the v1 contract carried for the same events
 * (every flush of 1 s, every changed vector in float32), and the figures behind the defaults of
 * graph.emit-interval and graph.delta.vector-min-distance (docs/architecture.md). Prints the
 * table; asserts v2 carries under a fifth of v1, and ≤ 500 B per event for session-like users.
 */
class DeltaVolumeTest {
    private static MiniLmEncoder encoder;
    private static List<ItemVersion> catalogue;

    @BeforeAll
    static void embed() {
        encoder = MiniLmEncoder.load();
        catalogue = SyntheticDataset.builder().build().items();
        List<String> texts = new ArrayList<>();
        catalogue.forEach(item -> texts.add(item.text()));
        for (int from = 0; from < texts.size(); from += 32) {
            float[][] batch = encoder.encode(texts.subList(from, Math.min(texts.size(), from + 32)));
            for (int i = 0; i < batch.length; i++) {
                catalogue.get(from + i).embedding = batch[i];
                catalogue.get(from + i).modelVersion = "1";
            }
        }
    }

    @AfterAll
    static void close() {
        encoder.close();
    }

    /** Mean bytes per input event: [v2 wire, the same deltas decoded to self-contained v1]. */
    private static double[] bytesPerEvent(SyntheticDataset data, Configuration config) {
        Map<String, ItemVersion> items = new HashMap<>();
        catalogue.forEach(item -> items.put(item.itemId, item));
        List<EnrichedAction> actions = GraphReplay.enrich(data.events(), items);
        long last = actions.get(actions.size() - 1).eventTimeMs;
        List<GraphDelta> deltas = new GraphReplay(InterestGraphOptions.graphParameters(config))
                .replay(actions, last - 5_001);
        DeltaMaterializer consumer = new DeltaMaterializer();
        long wire = 0;
        long decoded = 0;
        long centroids = 0;
        long longTerm = 0;
        long shortTerm = 0;
        for (GraphDelta delta : deltas) {
            centroids += delta.getInterestUpsertsList().stream()
                    .filter(i -> i.getCentroid().getChange()
                            == dev.interestgraph.proto.v2.VectorChange.SET).count();
            longTerm += delta.getProfile().getLongTerm().getChange()
                    == dev.interestgraph.proto.v2.VectorChange.SET ? 1 : 0;
            shortTerm += delta.getProfile().getShortTerm().getChange()
                    == dev.interestgraph.proto.v2.VectorChange.SET ? 1 : 0;
            wire += delta.getSerializedSize();
            decoded += consumer.decodeAndApply(delta).getSerializedSize();
        }
        return new double[] {(double) wire / actions.size(), (double) decoded / actions.size(),
            deltas.size(), (double) centroids / actions.size(),
            (double) longTerm / actions.size(), (double) shortTerm / actions.size()};
    }

    @Test
    void contractV2CarriesAFractionOfV1() {
        // the generated dataset as the demo replays it (a user's 40 events over 20 days), and the
        // same events squeezed into sessions (a user's 40 events within 10 minutes)
        SyntheticDataset sparse = SyntheticDataset.builder().build();
        SyntheticDataset sessions = SyntheticDataset.builder().spanMs(10 * 60_000L).build();
        System.out.printf("delta bytes per input event (%,d events, MiniLM vectors); SET vectors "
                + "per event: centroids, long-term, short-term%n", sparse.events().size());
        System.out.println("  dataset   emit-interval  min-distance  max-age  v2 wire  decoded(v1)"
                + "  deltas  centroid  long  short");
        double[] v1Like = bytesPerEvent(sparse, config(Duration.ofSeconds(1), 0,
                Duration.ofMillis(1)));
        print("sparse", Duration.ofSeconds(1), 0, Duration.ofMillis(1), v1Like);
        // the send threshold and the maximum age (at the default emit interval)
        for (double distance : new double[] {0.01, 0.015, 0.02, 0.05}) {
            for (Duration age : List.of(Duration.ofDays(1), Duration.ofDays(7))) {
                print("sparse", Duration.ofSeconds(1), distance, age,
                        bytesPerEvent(sparse, config(Duration.ofSeconds(1), distance, age)));
            }
        }
        // coalescing: the emit interval matters where a user's events come seconds apart
        for (Duration interval : List.of(Duration.ofSeconds(1), Duration.ofSeconds(5),
                Duration.ofSeconds(30))) {
            print("sessions", interval, 0.015, Duration.ofDays(7),
                    bytesPerEvent(sessions, config(interval, 0.015, Duration.ofDays(7))));
        }
        double[] defaults = bytesPerEvent(sparse, new Configuration());
        double[] sessionDefaults = bytesPerEvent(sessions, new Configuration());
        System.out.printf("  defaults: %.0f B per event (sparse), %.0f B (sessions); v1 carried "
                + "%.0f B (decoded: float32, every changed vector): %.1f× less%n", defaults[0],
                sessionDefaults[0], v1Like[1], v1Like[1] / defaults[0]);
        // v1's volume, as the issue measured it on the demo (≈ 4.7 KB per event)
        assertThat(v1Like[1]).isGreaterThan(4_000);
        assertThat(defaults[0]).isLessThan(v1Like[1] / 5);
        assertThat(sessionDefaults[0]).isLessThanOrEqualTo(500);
        // the minimum distance and the encoding do what they are for
        assertThat(defaults[3] + defaults[4] + defaults[5]).isLessThan(v1Like[3] + v1Like[4]
                + v1Like[5]);
    }

    private static void print(String name, Duration interval, double distance, Duration age,
            double[] r) {
        System.out.printf("  %-8s  %13s  %12.3f  %7s  %7.0f  %11.0f  %,6d  %8.2f  %4.2f  %5.2f%n",
                name, interval, distance, age, r[0], r[1], (long) r[2], r[3], r[4], r[5]);
    }

    private static Configuration config(Duration emitInterval, double minDistance,
            Duration maxAge) {
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.EMIT_INTERVAL, emitInterval);
        config.set(InterestGraphOptions.DELTA_VECTOR_MIN_DISTANCE, minDistance);
        config.set(InterestGraphOptions.DELTA_VECTOR_MAX_AGE, maxAge);
        return config;
    }
}
