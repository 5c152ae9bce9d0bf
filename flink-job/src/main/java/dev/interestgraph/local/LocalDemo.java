package dev.interestgraph.local;

import dev.interestgraph.InterestGraphPipeline;
import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.EventJson;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.inference.EmbeddingBackends;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v1.GraphDelta;
import dev.interestgraph.proto.v1.InterestUpsert;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * {@code make demo}: the whole product on one machine. Starts a real in-process Kafka broker, runs
 * the job on a local cluster with the Flink web dashboard (the job starts the embedded inference
 * server with the real MiniLM model), replays a generated dataset with planted interests and drift,
 * and prints a summary of the resulting interest graphs read back from the delta topic.
 *
 * <p>Options: {@code --demo.users N}, {@code --demo.events-per-user N}, {@code --demo.port P}
 * (dashboard, default 8081); any job option ({@code --graph.max-interests 4}) passes through.
 */
public final class LocalDemo {
    private LocalDemo() {}

    public static void main(String[] args) throws Exception {
        Configuration options = InterestGraphOptions.fromArgs(args);
        int users = options.getInteger("demo.users", 200);
        int eventsPerUser = options.getInteger("demo.events-per-user", 60);
        int port = options.getInteger("demo.port", 8081);

        try (LocalKafkaBroker kafka = LocalKafkaBroker.start()) {
            System.out.printf("Kafka broker (in-process, KRaft): %s%n", kafka.bootstrapServers());
            for (String topic : List.of("user-events", "item-catalog", "graph-deltas",
                    "dead-letters")) {
                kafka.createTopic(topic, 2);
            }
            kafka.createCompactedTopic("item-embeddings", 2);
            System.out.println("Topics: user-events, item-catalog -> graph-deltas, dead-letters, "
                    + "item-embeddings");

            SyntheticDataset data = SyntheticDataset.builder()
                    .users(users).eventsPerUser(eventsPerUser).spanMs(60L * 24 * 3600 * 1000)
                    .build();
            replay(kafka.bootstrapServers(), data);
            System.out.printf("Replayed %,d items and %,d events (generated: planted interests "
                    + "with a drift half-way)%n", data.items().size(), data.events().size());

            Configuration config = new Configuration();
            config.addAll(options);
            config.set(InterestGraphOptions.KAFKA_BOOTSTRAP, kafka.bootstrapServers());
            config.set(InterestGraphOptions.KAFKA_BOUNDED, true);
            config.setString("execution.checkpointing.interval", "2 s");
            config.setString("state.backend.type", "hashmap");
            config.set(RestOptions.PORT, port);
            InterestGraphPipeline.applyRuntimeDefaults(config);

            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(config);
            env.setParallelism(2);
            new InterestGraphPipeline(config, EmbeddingBackends.fromConfig(config)).build(env);
            System.out.printf("Flink dashboard: http://localhost:%d%n", port);
            System.out.println("Running the job (embedded inference server: all-MiniLM-L6-v2 "
                    + "on ONNX Runtime, over gRPC) ...");
            long start = System.nanoTime();
            env.execute("interest-graph demo");
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("Job finished in %.1f s (%,.0f events/s)%n", seconds,
                    data.events().size() / seconds);
            summarize(kafka.bootstrapServers(), data);
        }
    }

    private static void replay(String bootstrap, SyntheticDataset data) {
        try (KafkaProducer<byte[], byte[]> producer = Topics.producer(bootstrap)) {
            for (ItemVersion item : data.items()) {
                producer.send(new ProducerRecord<>("item-catalog", bytes(item.itemId),
                        EventJson.toJson(item)));
            }
            for (UserAction event : data.events()) {
                producer.send(new ProducerRecord<>("user-events", bytes(event.userId),
                        EventJson.toJson(event)));
            }
        }
    }

    private static void summarize(String bootstrap, SyntheticDataset data) throws Exception {
        DeltaMaterializer graphs = new DeltaMaterializer();
        long deltas = 0;
        for (ConsumerRecord<byte[], byte[]> record : Topics.readAll(bootstrap, "graph-deltas")) {
            graphs.apply(GraphDelta.parseFrom(record.value()));
            deltas++;
        }
        int deadLetters = Topics.readAll(bootstrap, "dead-letters").size();
        Map<String, DeltaMaterializer.UserView> users = graphs.users();
        int edges = users.values().stream().mapToInt(u -> u.edges().size()).sum();
        int interests = users.values().stream().mapToInt(u -> u.interests().size()).sum();
        System.out.println();
        System.out.println("Summary (materialised from the graph-deltas topic, read_committed)");
        System.out.printf("  deltas %,d | users %,d | edges %,d (%.1f per user) | interests %.1f "
                + "per user | dead letters %d%n", deltas, users.size(), edges,
                (double) edges / Math.max(1, users.size()),
                (double) interests / Math.max(1, users.size()), deadLetters);
        users.keySet().stream().sorted(Comparator.comparingInt(
                (String id) -> Integer.parseInt(id.substring("user-".length())))).limit(3)
                .forEach(id -> printUser(users.get(id), data));
    }

    private static void printUser(DeltaMaterializer.UserView user, SyntheticDataset data) {
        System.out.printf("%n  %s (planted: %s, drifted to %s)%n", user.userId,
                data.topicBefore(user.userId), data.topicAfter(user.userId));
        List<InterestUpsert> interests = new ArrayList<>(user.interests().values());
        interests.sort(Comparator.comparingDouble(InterestUpsert::getWeight).reversed());
        for (InterestUpsert interest : interests) {
            System.out.printf("    interest %-2d %-28s weight %5.2f  items %d  top: %s%n",
                    interest.getInterestId(), '"' + interest.getLabel() + '"',
                    interest.getWeight(), interest.getSize(),
                    String.join(", ", interest.getTopItemsList().subList(0,
                            Math.min(3, interest.getTopItemsCount()))));
        }
        List<EdgeUpsert> strongest = user.edges().values().stream()
                .sorted(Comparator.comparingDouble(EdgeUpsert::getWeight).reversed()).limit(5)
                .collect(Collectors.toList());
        System.out.printf("    strongest items: %s%n", strongest.stream()
                .map(e -> String.format("%s (%.2f)", e.getItemId(), e.getWeight()))
                .collect(Collectors.joining(", ")));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
