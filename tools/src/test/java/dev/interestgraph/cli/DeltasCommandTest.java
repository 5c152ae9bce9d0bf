package dev.interestgraph.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.local.Topics;
import dev.interestgraph.proto.v1.DeltaOp;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v1.GraphDelta;
import dev.interestgraph.proto.v1.InterestUpsert;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code interest-graph deltas} against a real broker with a few deltas in the topic. */
class DeltasCommandTest {
    private static LocalKafkaBroker kafka;

    @BeforeAll
    static void start() throws Exception {
        kafka = LocalKafkaBroker.start();
        kafka.createTopic("graph-deltas", 2);
        kafka.createTopic("item-catalog", 1);
        kafka.createTopic("follow-deltas", 1); // the follow test's own, so tests stay apart
        try (KafkaProducer<byte[], byte[]> producer = Topics.producer(kafka.bootstrapServers())) {
            producer.send(new ProducerRecord<>("item-catalog", bytes("m1"),
                    bytes("{\"item_id\":\"m1\",\"title\":\"Toy Story (1995)\",\"tags\":[],"
                            + "\"updated_ms\":1}")));
            send(producer, delta("u1", 1, edge("m1", 2.0), interest(0, "animation", 2.0)));
            send(producer, delta("u2", 1, edge("m2", 1.0), interest(0, "drama", 1.0)));
            send(producer, delta("u1", 2, edge("m2", 0.5)));
            send(producer, delta("u1", 2, edge("m9", 9.0))); // a duplicate: skipped
        }
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    @Test
    void printsEveryUsersGraphWithTitles() {
        Run run = run("--kafka.bootstrap", kafka.bootstrapServers());
        assertThat(run.code).isZero();
        assertThat(run.out).contains("graph-deltas: 3 deltas applied, 2 users", "user u1",
                "user u2", "\"animation\"", "Toy Story (1995) (2.00)", "m2 (0.50)")
                .doesNotContain("m9");
    }

    @Test
    void showsOneUserAsJson() throws Exception {
        Run run = run("--kafka.bootstrap", kafka.bootstrapServers(), "--user", "u1", "--json");
        assertThat(run.code).isZero();
        JsonNode json = new ObjectMapper().readTree(run.out.trim());
        assertThat(json.get("user_id").asText()).isEqualTo("u1");
        assertThat(json.get("seq").asLong()).isEqualTo(2);
        assertThat(json.get("edges")).hasSize(2);
        assertThat(json.get("edges").get(0).get("title").asText()).isEqualTo("Toy Story (1995)");
        assertThat(json.get("interests").get(0).get("label").asText()).isEqualTo("animation");
    }

    @Test
    void anUnknownUserIsAnError() {
        Run run = run("--kafka.bootstrap", kafka.bootstrapServers(), "--user", "nobody");
        assertThat(run.code).isEqualTo(1);
        assertThat(run.out).contains("no graph for user nobody");
    }

    @Test
    void followPrintsChangesAsTheyArrive() throws Exception {
        DeltasCommand command = new DeltasCommand();
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        command.out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        AtomicBoolean stop = new AtomicBoolean();
        command.stopped = stop::get;
        new CommandLine(command).parseArgs("--kafka.bootstrap", kafka.bootstrapServers(),
                "--kafka.topic.deltas", "follow-deltas", "--follow", "--user", "u3");
        Thread follow = new Thread(command::call);
        follow.start();
        try (KafkaProducer<byte[], byte[]> producer = Topics.producer(kafka.bootstrapServers())) {
            awaitOutput(buffer, "-- following follow-deltas");
            send(producer, "follow-deltas", delta("u3", 1, edge("m7", 3.0), interest(0, "western", 3.0)));
            awaitOutput(buffer, "\"western\"");
        } finally {
            stop.set(true);
            follow.join(10_000);
        }
        assertThat(follow.isAlive()).isFalse();
        assertThat(buffer.toString(StandardCharsets.UTF_8)).contains("user u3 seq 1, 2 ops",
                "m7 (3.00)");
    }

    private static void awaitOutput(ByteArrayOutputStream buffer, String text)
            throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!buffer.toString(StandardCharsets.UTF_8).contains(text)) {
            assertThat(System.nanoTime()).as("waiting for '%s'", text).isLessThan(deadline);
            Thread.sleep(50); // polling the condition, not a synchronisation sleep
        }
    }

    private record Run(int code, String out) {}

    private static Run run(String... args) {
        DeltasCommand command = new DeltasCommand();
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        command.out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        int code = new CommandLine(command).execute(args);
        return new Run(code, buffer.toString(StandardCharsets.UTF_8));
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, GraphDelta delta) {
        send(producer, "graph-deltas", delta);
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, String topic,
            GraphDelta delta) {
        producer.send(new ProducerRecord<>(topic, bytes(delta.getUserId()),
                delta.toByteArray()));
        producer.flush();
    }

    private static GraphDelta delta(String user, long seq, DeltaOp... ops) {
        GraphDelta.Builder delta = GraphDelta.newBuilder().setUserId(user).setEpoch(1)
                .setSeq(seq).setEventTimeMs(1_000_000_000_000L + seq);
        for (DeltaOp op : ops) {
            delta.addOps(op);
        }
        return delta.build();
    }

    private static DeltaOp edge(String item, double weight) {
        return DeltaOp.newBuilder().setEdgeUpsert(EdgeUpsert.newBuilder().setItemId(item)
                .setWeight(weight).setInterestId(0)).build();
    }

    private static DeltaOp interest(int id, String label, double weight) {
        return DeltaOp.newBuilder().setInterestUpsert(InterestUpsert.newBuilder()
                .setInterestId(id).setLabel(label).setWeight(weight).setSize(1)
                .addTopItems("m1")).build();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
