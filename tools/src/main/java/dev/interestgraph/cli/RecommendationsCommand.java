package dev.interestgraph.cli;

import dev.interestgraph.local.Topics;
import dev.interestgraph.proto.v1.RecommendedItem;
import dev.interestgraph.proto.v1.Recommendations;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code interest-graph recommendations}: each user's latest list on the recommendations topic
 * (read_committed, to its end), with why each item is there.
 */
@Command(name = "recommendations", mixinStandardHelpOptions = true,
        description = "Show users' latest recommendations (the job's recommendations topic).")
public final class RecommendationsCommand implements Callable<Integer> {
    @Mixin
    KafkaConnection kafka = new KafkaConnection();

    @Option(names = "--kafka.topic.recommendations", defaultValue = "recommendations",
            description = "The recommendations topic (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--user", paramLabel = "ID", description = "Only this user.")
    String user;

    @Option(names = "--limit", defaultValue = "10",
            description = "Users to show at most (default: ${DEFAULT-VALUE}; 0: all).")
    int limit;

    PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        Map<String, Recommendations> latest = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> record :
                Topics.readAll(kafka.bootstrap, topic, kafka.properties())) {
            String key = new String(record.key(), StandardCharsets.UTF_8);
            if (record.value() == null) {
                latest.remove(key); // erased or expired
            } else {
                latest.put(key, Recommendations.parseFrom(record.value()));
            }
        }
        if (user != null) {
            Recommendations list = latest.get(user);
            if (list == null) {
                out.println("no recommendations for user " + user + " in " + topic);
                return 1;
            }
            print(list);
            return 0;
        }
        out.printf("%,d users with recommendations in %s%n", latest.size(), topic);
        latest.values().stream().limit(limit == 0 ? Long.MAX_VALUE : limit).forEach(this::print);
        return 0;
    }

    private void print(Recommendations list) {
        out.printf("user %s (analytics run %d):%n", list.getUserId(), list.getAnalyticsRunId());
        for (RecommendedItem item : list.getItemsList()) {
            String why = switch (item.getSource()) {
                case NEIGHBORS -> "like " + item.getBecauseOf();
                case COMMUNITY -> "popular in community " + item.getCommunityId();
                default -> "popular";
            };
            out.printf("  %-24s %.3f  %s%n", item.getItemId(), item.getScore(), why);
        }
    }
}
