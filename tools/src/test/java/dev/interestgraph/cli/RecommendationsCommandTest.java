package dev.interestgraph.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.local.Topics;
import dev.interestgraph.proto.v1.RecommendedItem;
import dev.interestgraph.proto.v1.Recommendations;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** The recommendations command against a real broker: latest list per user, tombstones honoured. */
class RecommendationsCommandTest {

    private static byte[] list(String user, String item, RecommendedItem.Source source) {
        return Recommendations.newBuilder().setUserId(user).setAnalyticsRunId(3)
                .addItems(RecommendedItem.newBuilder().setItemId(item).setScore(0.5f)
                        .setSource(source).setBecauseOf("seen").setCommunityId(9))
                .build().toByteArray();
    }

    @Test
    void showsEachUsersLatestListAndForgetsErasedUsers() throws Exception {
        try (LocalKafkaBroker kafka = LocalKafkaBroker.start()) {
            kafka.createCompactedTopic("recommendations", 1);
            try (KafkaProducer<byte[], byte[]> producer =
                    Topics.producer(kafka.bootstrapServers())) {
                byte[] u1 = "u1".getBytes(StandardCharsets.UTF_8);
                byte[] u2 = "u2".getBytes(StandardCharsets.UTF_8);
                producer.send(new ProducerRecord<>("recommendations", u1,
                        list("u1", "old", RecommendedItem.Source.NEIGHBORS)));
                producer.send(new ProducerRecord<>("recommendations", u1,
                        list("u1", "new", RecommendedItem.Source.NEIGHBORS)));
                producer.send(new ProducerRecord<>("recommendations", u2,
                        list("u2", "x", RecommendedItem.Source.COMMUNITY)));
                producer.send(new ProducerRecord<>("recommendations", u2, null)); // erased
            }
            RecommendationsCommand command = new RecommendationsCommand();
            ByteArrayOutputStream printed = new ByteArrayOutputStream();
            command.out = new PrintStream(printed, true, StandardCharsets.UTF_8);
            command.kafka.bootstrap = kafka.bootstrapServers();
            command.topic = "recommendations";
            command.limit = 0;

            assertThat(command.call()).isZero();
            String text = printed.toString(StandardCharsets.UTF_8);
            assertThat(text).contains("1 users with recommendations")
                    .contains("user u1 (analytics run 3)").contains("new").contains("like seen")
                    .doesNotContain("old").doesNotContain("user u2");

            command.user = "u2";
            assertThat(command.call()).isEqualTo(1);
        }
    }
}
