package dev.interestgraph.inspect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.graph.GraphUpdater;
import dev.interestgraph.graph.UserGraph;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.vector.VectorMath;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The downstream consumer docs/architecture.md shows ("Consuming the delta topic"), run as it is
 * written against a real broker: what a service that adds only interest-graph-core and
 * kafka-clients gets. Deltas come from the core's GraphUpdater, written as the job's sink writes
 * them (key = user id, the format header).
 */
class DeltaConsumerExampleTest {
    private static final String TOPIC = "graph-deltas";

    @Test
    void theDocumentedConsumerMaterialisesTheGraphs() throws Exception {
        List<GraphDelta> written = deltas();
        DeltaMaterializer expected = new DeltaMaterializer();
        written.forEach(expected::apply);
        try (LocalKafkaBroker kafka = LocalKafkaBroker.start()) {
            kafka.createTopic(TOPIC, 2);
            produce(kafka.bootstrapServers(), written);

            String bootstrap = kafka.bootstrapServers();
            int[] consumed = {0};
            // ---- as in docs/architecture.md ----
            Properties props = new Properties();
            props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            props.put(ConsumerConfig.GROUP_ID_CONFIG, "my-service");
            props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"); // committed only
            DeltaMaterializer graphs = new DeltaMaterializer();
            try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props,
                    new StringDeserializer(), new ByteArrayDeserializer())) {
                consumer.subscribe(List.of(TOPIC));
                while (consumed[0] < written.size()) { // a service: while (running)
                    for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofSeconds(1))) {
                        Header format = record.headers().lastHeader(DeltaRecord.FORMAT_HEADER);
                        graphs.applyRecord(format == null ? null : new String(format.value(), UTF_8),
                                record.value());
                        consumed[0]++;
                    }
                }
            }
            // ---- end ----
            assertThat(graphs.users().keySet()).containsExactlyInAnyOrder("user-1", "user-2");
            for (String user : List.of("user-1", "user-2")) {
                DeltaMaterializer.UserView got = graphs.user(user).orElseThrow();
                DeltaMaterializer.UserView want = expected.user(user).orElseThrow();
                assertThat(got.seq()).isEqualTo(want.seq()).isGreaterThan(1);
                assertThat(got.edges()).isEqualTo(want.edges());
                assertThat(got.interests()).isEqualTo(want.interests());
                assertThat(got.profile()).isEqualTo(want.profile());
            }
        }
    }

    /** Two users' deltas over three flushes each, from the core's updater. */
    private static List<GraphDelta> deltas() {
        GraphUpdater updater = new GraphUpdater(GraphParameters.defaults());
        List<GraphDelta> deltas = new ArrayList<>();
        long t0 = 1_700_000_000_000L;
        for (String user : List.of("user-1", "user-2")) {
            UserGraph graph = null;
            for (int flush = 0; flush < 3; flush++) {
                List<EnrichedAction> events = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    EnrichedAction event = new EnrichedAction();
                    event.eventId = user + "-" + flush + "-" + i;
                    event.userId = user;
                    event.itemId = "item-" + (flush * 2 + i);
                    event.action = Action.PURCHASE;
                    event.eventTimeMs = t0 + flush * 60_000L + i;
                    float[] vector = new float[8];
                    vector[(flush + i) % 8] = 1f;
                    vector[(flush + i + 1) % 8] = 0.5f;
                    event.vector = HalfFloats.fromFloats(VectorMath.normalized(vector));
                    event.modelVersion = "1";
                    event.terms = new String[] {"topic" + flush};
                    events.add(event);
                }
                GraphUpdater.Result result = updater.flush(graph, user, events);
                graph = result.graph;
                deltas.addAll(result.deltas);
            }
        }
        return deltas;
    }

    private static void produce(String bootstrap, List<GraphDelta> deltas) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props,
                new StringSerializer(), new ByteArraySerializer())) {
            for (GraphDelta delta : deltas) {
                ProducerRecord<String, byte[]> record = new ProducerRecord<>(TOPIC,
                        delta.getUserId(), delta.toByteArray());
                record.headers().add(DeltaRecord.FORMAT_HEADER, DeltaRecord.FORMAT_V2.getBytes(UTF_8));
                producer.send(record);
            }
        }
    }
}
