package dev.interestgraph.cli;

import dev.interestgraph.analytics.AnalyticsOutput;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.local.Topics;
import dev.interestgraph.proto.v1.AnalyticsRecord;
import dev.interestgraph.proto.v1.DeltaOp;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v1.GraphDelta;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code make analytics ARGS="--kafka.bootstrap ..."} against a real broker: the graph comes from
 * the delta topic, labels from the catalogue topic, the result goes to item-neighbors.
 */
class AnalyticsMainTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static GraphDelta delta(String user, String... items) {
        GraphDelta.Builder delta = GraphDelta.newBuilder().setUserId(user).setEpoch(1).setSeq(1)
                .setEventTimeMs(1_700_000_000_000L);
        for (String item : items) {
            delta.addOps(DeltaOp.newBuilder().setEdgeUpsert(EdgeUpsert.newBuilder()
                    .setItemId(item).setWeight(1.0).setLastMs(1_700_000_000_000L)));
        }
        return delta.build();
    }

    @Test
    void readsTheDeltaTopicAndPublishesTheRunBack(@TempDir Path out) throws Exception {
        try (LocalKafkaBroker kafka = LocalKafkaBroker.start()) {
            kafka.createTopic("graph-deltas", 2);
            kafka.createTopic("item-catalog", 1);
            kafka.createCompactedTopic("item-neighbors", 1);
            try (KafkaProducer<byte[], byte[]> producer =
                    Topics.producer(kafka.bootstrapServers())) {
                for (int u = 0; u < 4; u++) {
                    producer.send(new ProducerRecord<>("graph-deltas", bytes("u" + u),
                            delta("u" + u, "a", "b").toByteArray()));
                }
                producer.send(new ProducerRecord<>("graph-deltas", bytes("loner"),
                        delta("loner", "c").toByteArray()));
                for (String item : new String[] {"a", "b", "c"}) {
                    producer.send(new ProducerRecord<>("item-catalog", bytes(item), bytes(
                            "{\"item_id\":\"" + item + "\",\"title\":\"sea shanty " + item
                                    + "\",\"updated_ms\":1600000000000}")));
                }
            }

            int exit = AnalyticsMain.run("--kafka.bootstrap", kafka.bootstrapServers(),
                    "--analytics.out", out.toString(), "--analytics.run-id", "7",
                    "--analytics.parallelism", "1");

            assertThat(exit).isZero();
            Map<String, AnalyticsRecord> published = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> record :
                    Topics.readAll(kafka.bootstrapServers(), "item-neighbors")) {
                published.put(new String(record.key(), StandardCharsets.UTF_8),
                        AnalyticsRecord.parseFrom(record.value()));
            }
            assertThat(published.get("run").getRun().getRunId()).isEqualTo(7);
            assertThat(published.get("item/a").getItemNeighbors().getNeighbors(0).getItemId())
                    .isEqualTo("b");
            assertThat(published.get("item/a").getItemNeighbors().getDegree()).isEqualTo(4);
            assertThat(published.get("item/c").getItemNeighbors().getNeighborsCount()).isZero();
            long community = published.get("item/a").getItemNeighbors().getCommunityId();
            assertThat(published.get("community/" + community).getCommunity().getLabel())
                    .isEqualTo("sea, shanty");
            assertThat(out.resolve("results").resolve(AnalyticsOutput.HEALTH_FILE)).exists();
        }
    }

    @Test
    void badOptionsNameTheKeyAndTheChoices() {
        assertThatThrownBy(() -> AnalyticsMain.run("--analytics.graph", "yesterday"))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("analytics.graph").hasMessageContaining("evaluation");
        assertThatThrownBy(() -> AnalyticsMain.run("--analytics.min-suport", "2"))
                .hasMessageContaining("unknown option 'analytics.min-suport'")
                .hasMessageContaining("analytics.min-support");
        assertThatThrownBy(() -> AnalyticsMain.run("--analytics.neighbors-per-item", "0"))
                .hasMessageContaining("--analytics.neighbors-per-item is 0");
        assertThatThrownBy(() -> AnalyticsMain.run("--analytics.neighbours", "svd"))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("analytics.neighbours (gelly|ease)");
        assertThatThrownBy(() -> AnalyticsMain.run("--analytics.neighbours", "ease",
                "--analytics.ease.lambda", "0"))
                .hasMessageContaining("--analytics.ease.lambda is 0.0");
    }
}
