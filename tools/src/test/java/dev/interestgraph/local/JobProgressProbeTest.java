package dev.interestgraph.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.InterestGraphPipeline;
import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.EventJson;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.testing.HashingTestEmbedder;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * The demo's live progress comes from the running job (Flink's REST API), not from commits: with
 * no checkpoint yet (so nothing committed: no consumer offsets, no readable delta), the probe
 * already reports events consumed, actions processed and deltas emitted.
 */
class JobProgressProbeTest {

    @Test
    void reportsWhatTheJobProcessedBeforeAnythingIsCommitted() throws Exception {
        try (LocalKafkaBroker kafka = LocalKafkaBroker.start()) {
            String prefix = "progress-";
            for (String topic : new String[] {"user-events", "item-catalog", "graph-deltas",
                    "dead-letters"}) {
                kafka.createTopic(prefix + topic, 1);
            }
            SyntheticDataset data = SyntheticDataset.builder().users(5).itemsPerTopic(3)
                    .eventsPerUser(8).seed(3).build();
            try (KafkaProducer<byte[], byte[]> producer =
                    Topics.producer(kafka.bootstrapServers())) {
                for (ItemVersion item : data.items()) {
                    producer.send(new ProducerRecord<>(prefix + "item-catalog",
                            bytes(item.itemId), EventJson.toJson(item)));
                }
                for (UserAction event : data.events()) {
                    producer.send(new ProducerRecord<>(prefix + "user-events",
                            bytes(event.userId), EventJson.toJson(event)));
                }
                // A catalogue update later than every event, as a live catalogue has. Without
                // it the test was flaky: both inputs go idle once read (watermark.idleness), and
                // in Flink 1.20 a two-input operator whose inputs are all idle keeps the event
                // time it had. When the events' input went idle first, that was the catalogue's
                // watermark, below every event: the temporal join held all of them for good.
                long last = data.events().stream().mapToLong(e -> e.eventTimeMs).max()
                        .orElseThrow();
                ItemVersion later = new ItemVersion("heartbeat-item", "heartbeat", "",
                        new String[] {"heartbeat"}, last + TimeUnit.HOURS.toMillis(1));
                producer.send(new ProducerRecord<>(prefix + "item-catalog",
                        bytes(later.itemId), EventJson.toJson(later)));
            }

            Configuration config = new Configuration();
            config.set(InterestGraphOptions.KAFKA_BOOTSTRAP, kafka.bootstrapServers());
            InterestGraphOptions.prefixTopics(config, prefix);
            config.set(InterestGraphOptions.TOPIC_ITEM_EMBEDDINGS, "");
            config.set(InterestGraphOptions.WATERMARK_IDLENESS, Duration.ofMillis(500));
            int port;
            try (ServerSocket socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
            config.set(RestOptions.PORT, port);
            config.setString("metrics.fetcher.update-interval", "500");
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(config);
            env.setParallelism(1);
            // the first checkpoint (and with it the first commit) is an hour away
            env.enableCheckpointing(TimeUnit.HOURS.toMillis(1));
            new InterestGraphPipeline(config, HashingTestEmbedder.factory()).build(env);
            JobClient job = env.executeAsync("progress");
            try {
                JobProgressProbe probe = new JobProgressProbe("http://localhost:" + port);
                String id = job.getJobID().toString();
                int events = data.events().size();
                // the temporal join holds the last events until event time passes them: every
                // event read, some processed by the user-graph, some of its deltas emitted
                try {
                    LocalKafkaBroker.awaitCondition("the job's metrics", Duration.ofSeconds(150),
                            () -> {
                                JobProgressProbe.Progress p = probe.read(id);
                                return p.consumed() == events && p.processed() > 0
                                        && p.deltasEmitted() > 0;
                            });
                } catch (IllegalStateException e) {
                    throw new AssertionError("expected every one of " + events + " events read, "
                            + "actions processed and deltas emitted; the job's metrics said "
                            + probe.last(), e);
                }
                assertThat(probe.last().processed()).isLessThanOrEqualTo(events);
                // nothing is committed yet: no deltas readable, no consumer offsets
                assertThat(Topics.readAll(kafka.bootstrapServers(), prefix + "graph-deltas"))
                        .isEmpty();
                try (Admin admin = kafka.newAdmin()) {
                    assertThat(admin.listConsumerGroupOffsets(prefix + "interest-graph")
                            .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS)
                            .values()).allMatch(offset -> offset == null);
                }
            } finally {
                job.cancel().get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
