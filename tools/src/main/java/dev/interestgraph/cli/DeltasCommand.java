package dev.interestgraph.cli;

import dev.interestgraph.inspect.DeltaFollower;
import dev.interestgraph.inspect.UserGraphText;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.delta.DeltaMaterializer.UserView;
import dev.interestgraph.local.Topics;
import dev.interestgraph.proto.v1.GraphDelta;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code interest-graph deltas}: consumes the delta topic (read_committed), applies every delta
 * with the {@link DeltaMaterializer} and prints the users' current graphs; with {@code --follow}
 * it keeps going and prints a user's graph again each time a delta changes it.
 */
@Command(name = "deltas", mixinStandardHelpOptions = true,
        description = "Consume the delta topic and show the users' current interest graphs.")
public final class DeltasCommand implements Callable<Integer> {

    @Mixin
    KafkaConnection kafka = new KafkaConnection();

    @Option(names = "--kafka.topic.deltas", defaultValue = "graph-deltas",
            description = "The delta topic (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--kafka.topic.items", defaultValue = "item-catalog",
            description = "Catalogue topic whose titles name the items; empty: show ids only.")
    String itemsTopic;


    @Option(names = {"-f", "--follow"}, description = "Keep consuming; print each change.")
    boolean follow;

    @Option(names = "--user", paramLabel = "ID", description = "Only this user.")
    String user;

    @Option(names = "--json", description = "One JSON object per user instead of text.")
    boolean json;

    @Option(names = "--limit", defaultValue = "0",
            description = "Show at most this many users at catch-up (0: all).")
    int limit;

    @Option(names = "--timeout", defaultValue = "PT60S",
            description = "How long to wait for the topic's end at catch-up (default: 60 s).")
    Duration timeout;

    /** Where output goes; tests replace it. */
    PrintStream out = System.out;
    /** Tells a follow loop to stop; tests replace it, Ctrl-C ends the JVM otherwise. */
    BooleanSupplier stopped = () -> Thread.currentThread().isInterrupted();

    @Override
    public Integer call() {
        String bootstrap = kafka.bootstrap;
        Properties props = kafka.properties();
        Map<String, String> titles = itemsTopic.isBlank() ? Map.of()
                : readTitles(bootstrap, itemsTopic, props);
        UserGraphText view = new UserGraphText(id -> titles.getOrDefault(id, id), 5);
        try (DeltaFollower follower = new DeltaFollower(bootstrap, topic, props)) {
            catchUp(follower);
            int shown = follower.read(graphs -> printAll(graphs, view));
            if (!follow) {
                if (user != null && shown == 0) {
                    out.println("no graph for user " + user + " in " + topic);
                    return 1;
                }
                return 0;
            }
            out.printf("-- following %s at %s (Ctrl-C to stop)%n", topic, bootstrap);
            while (!stopped.getAsBoolean()) {
                for (GraphDelta delta : follower.poll(Duration.ofMillis(500))) {
                    if (user != null && !user.equals(delta.getUserId())) {
                        continue;
                    }
                    Optional<UserView> now = follower.read(g -> g.user(delta.getUserId()));
                    if (now.isPresent()) {
                        out.print(json ? view.json(now.get()) + System.lineSeparator()
                                : view.text(now.get(), "seq " + delta.getSeq() + ", "
                                        + delta.getOpsCount() + " ops"));
                    } else if (!json) {
                        out.printf("  user %s: graph removed (erased or expired)%n",
                                delta.getUserId());
                    }
                }
            }
        }
        return 0;
    }

    private void catchUp(DeltaFollower follower) {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            follower.poll(Duration.ofMillis(200));
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("could not read " + topic + " to its end within "
                        + timeout);
            }
        } while (!follower.caughtUp());
    }

    private int printAll(DeltaMaterializer graphs, UserGraphText view) {
        List<UserView> users = user != null
                ? graphs.user(user).stream().toList()
                : graphs.users().values().stream().sorted(USER_ORDER)
                        .limit(limit > 0 ? limit : Long.MAX_VALUE).toList();
        if (!json) {
            out.printf("%s: %,d deltas applied, %,d users%n", topic, graphs.appliedCount(),
                    graphs.users().size());
        }
        for (UserView u : users) {
            out.print(json ? view.json(u) + System.lineSeparator() : view.text(u, ""));
        }
        return users.size();
    }

    /** Numeric ids in numeric order (MovieLens), the rest by string. */
    static final Comparator<UserView> USER_ORDER = Comparator
            .comparing((UserView u) -> u.userId.length()).thenComparing(u -> u.userId);

    /** Item id → title from the catalogue topic as it is now (JSON items); empty when absent. */
    static Map<String, String> readTitles(String bootstrap, String topic, Properties extra) {
        Map<String, String> titles = new HashMap<>();
        ObjectMapper mapper = new ObjectMapper();
        try {
            for (ConsumerRecord<byte[], byte[]> record : Topics.readAll(bootstrap, topic, extra)) {
                try {
                    JsonNode item = mapper.readTree(record.value());
                    if (item.hasNonNull("item_id") && item.hasNonNull("title")) {
                        titles.put(item.get("item_id").asText(), item.get("title").asText());
                    }
                } catch (Exception e) {
                    // protobuf items or bad records: titles are a nicety, ids still show
                }
            }
        } catch (RuntimeException e) {
            // no catalogue topic, no rights on it, or it could not be read in time: show ids
        }
        return titles;
    }
}
