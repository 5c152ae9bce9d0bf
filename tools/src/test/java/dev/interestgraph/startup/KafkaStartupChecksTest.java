package dev.interestgraph.startup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.interestgraph.InterestGraphPipeline;
import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.local.LocalKafkaBroker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The start-up checks against the real in-process broker: a missing topic, the job creating the
 * missing topics, a transaction timeout above the broker's limit, checkpoints that could outlive
 * their transactions, and security settings that reach the admin client.
 */
class KafkaStartupChecksTest {

    private static LocalKafkaBroker kafka;

    @BeforeAll
    static void start() {
        // what a production broker has by default (15 min), not the 1 h of the local broker
        kafka = LocalKafkaBroker.builder()
                .brokerConfig("transaction.max.timeout.ms", String.valueOf(15 * 60_000)).start();
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }

    /** The job's configuration after main's defaults, on topics of its own. */
    private static Configuration job(String prefix) {
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.KAFKA_BOOTSTRAP, kafka.bootstrapServers());
        InterestGraphOptions.prefixTopics(config, prefix);
        InterestGraphPipeline.applyRuntimeDefaults(config);
        InterestGraphOptions.validate(config);
        return config;
    }

    /** Every topic as a deployment has it (deploy/: LogAppendTime deltas, compacted tables). */
    private static void createAll(String prefix, String... except) {
        for (String topic : List.of("user-events", "item-catalog", "dead-letters")) {
            if (!List.of(except).contains(topic)) {
                kafka.createTopic(prefix + topic, 1);
            }
        }
        if (!List.of(except).contains("graph-deltas")) {
            kafka.createTopic(prefix + "graph-deltas", 1,
                    Map.of("message.timestamp.type", "LogAppendTime"));
        }
        for (String topic : List.of("item-embeddings", "recommendations")) {
            if (!List.of(except).contains(topic)) {
                kafka.createCompactedTopic(prefix + topic, 1);
            }
        }
    }

    @Test
    void everyTopicInPlacePassesAndTheDefaultTimeoutsFitTheBroker() {
        createAll("ok-");
        KafkaStartupChecks.Result result = KafkaStartupChecks.check(job("ok-"));
        assertThat(result.created()).isEmpty();
        assertThat(result.transactionMaxTimeoutMs()).containsValue(15 * 60_000L);
    }

    @Test
    void aMissingOutputTopicFailsBeforeSubmissionNamingTheTopicTheOptionAndTheFix() {
        createAll("missing-", "graph-deltas");
        assertThatThrownBy(() -> KafkaStartupChecks.check(job("missing-")))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("'missing-graph-deltas' (kafka.topic.deltas, output) does "
                        + "not exist at " + kafka.bootstrapServers())
                .hasMessageContaining("kafka-topics.sh --bootstrap-server "
                        + kafka.bootstrapServers() + " --create --topic missing-graph-deltas "
                        + "--partitions 4 --config message.timestamp.type=LogAppendTime")
                .hasMessageContaining("--kafka.topics.create-missing true")
                .hasMessageContaining("--kafka.topic.deltas")
                // only the missing one
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("missing-user-events"));
    }

    /** What `flink run ... --kafka.topic.deltas graph-deltas-cluster` did: now it stops at once. */
    @Test
    void theJobsMainFailsBeforeSubmissionOnAMissingTopic() {
        createAll("main-", "graph-deltas");
        assertThatThrownBy(() -> dev.interestgraph.InterestGraphJob.main(new String[] {
                "--kafka.bootstrap", kafka.bootstrapServers(),
                "--kafka.topic.events", "main-user-events",
                "--kafka.topic.items", "main-item-catalog",
                "--kafka.topic.deltas", "main-graph-deltas-cluster",
                "--kafka.topic.dead-letters", "main-dead-letters",
                "--kafka.topic.item-embeddings", "main-item-embeddings",
                "--kafka.topic.recommendations", "main-recommendations"}))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("'main-graph-deltas-cluster' (kafka.topic.deltas, output)")
                .hasMessageContaining("--kafka.topics.create-missing true");
    }

    /**
     * The loss that KafkaClusterFaultsIT once showed: deltas stamped with 2023 event times on a
     * CreateTime topic with the default 7-day retention were committed, then deleted by the
     * broker's retention check. Such a topic now stops the job before submission; the same
     * topic with LogAppendTime, or without time retention, passes.
     */
    @Test
    void anOutputTopicWhoseRetentionWouldDeleteOldEventsOutputFailsNamingTheFix() {
        createAll("retention-", "graph-deltas");
        kafka.createTopic("retention-graph-deltas", 1); // the broker's defaults: CreateTime, 7 d
        assertThatThrownBy(() -> KafkaStartupChecks.check(job("retention-")))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("'retention-graph-deltas' (kafka.topic.deltas) has "
                        + "message.timestamp.type=CreateTime and time retention "
                        + "(cleanup.policy=delete, retention.ms=604800000)")
                .hasMessageContaining("older than 7 d")
                .hasMessageContaining("kafka-configs.sh --bootstrap-server "
                        + kafka.bootstrapServers() + " --alter --entity-type topics "
                        + "--entity-name retention-graph-deltas --add-config "
                        + "message.timestamp.type=LogAppendTime")
                .hasMessageContaining("retention.ms=-1");

        createAll("forever-", "graph-deltas");
        kafka.createTopic("forever-graph-deltas", 1, Map.of("retention.ms", "-1"));
        assertThat(KafkaStartupChecks.check(job("forever-")).created()).isEmpty();
    }

    @Test
    void missingInputTopicsAreListedTogether() {
        createAll("inputs-", "user-events", "item-catalog");
        assertThatThrownBy(() -> KafkaStartupChecks.check(job("inputs-")))
                .hasMessageContaining("'inputs-user-events' (kafka.topic.events, input)")
                .hasMessageContaining("'inputs-item-catalog' (kafka.topic.items, input)")
                .hasMessageContaining("do not exist");
    }

    @Test
    void withCreateMissingTheJobCreatesTheTopicsWithTheirSettings() throws Exception {
        createAll("create-", "graph-deltas", "recommendations");
        Configuration config = job("create-");
        config.set(InterestGraphOptions.KAFKA_TOPICS_CREATE_MISSING, true);
        config.set(InterestGraphOptions.KAFKA_TOPICS_PARTITIONS, 3);
        config.set(InterestGraphOptions.KAFKA_TOPICS_REPLICATION_FACTOR, 1);
        InterestGraphOptions.validate(config);

        KafkaStartupChecks.Result result = KafkaStartupChecks.check(config);

        assertThat(result.created()).containsExactlyInAnyOrder("create-graph-deltas",
                "create-recommendations");
        try (Admin admin = kafka.newAdmin()) {
            Map<String, TopicDescription> topics = admin.describeTopics(
                    Set.of("create-graph-deltas", "create-recommendations")).allTopicNames()
                    .get(10, TimeUnit.SECONDS);
            assertThat(topics.values()).allSatisfy(t -> assertThat(t.partitions()).hasSize(3));
            Map<ConfigResource, Config> configs = admin.describeConfigs(List.of(
                    new ConfigResource(ConfigResource.Type.TOPIC, "create-graph-deltas"),
                    new ConfigResource(ConfigResource.Type.TOPIC, "create-recommendations")))
                    .all().get(10, TimeUnit.SECONDS);
            assertThat(configs.get(new ConfigResource(ConfigResource.Type.TOPIC,
                    "create-graph-deltas")).get("message.timestamp.type").value())
                    .isEqualTo("LogAppendTime");
            assertThat(configs.get(new ConfigResource(ConfigResource.Type.TOPIC,
                    "create-recommendations")).get("cleanup.policy").value())
                    .isEqualTo("compact");
        }
        // a second start finds them
        assertThat(KafkaStartupChecks.check(config).created()).isEmpty();
    }

    @Test
    void aTransactionTimeoutTheBrokerWouldRejectFailsNamingTheKeyAndTheFix() {
        createAll("txn-");
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.KAFKA_BOOTSTRAP, kafka.bootstrapServers());
        InterestGraphOptions.prefixTopics(config, "txn-");
        config.set(InterestGraphOptions.KAFKA_TRANSACTION_TIMEOUT, Duration.ofMinutes(20));
        InterestGraphPipeline.applyRuntimeDefaults(config);
        InterestGraphOptions.validate(config); // within the job's own range (10 s .. 24 h)

        assertThatThrownBy(() -> KafkaStartupChecks.check(config))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("kafka.transaction-timeout (20 min")
                .hasMessageContaining("exceeds the brokers' transaction.max.timeout.ms (15 min")
                .hasMessageContaining("InvalidTxnTimeoutException")
                .hasMessageContaining("Fix: pass --kafka.transaction-timeout '15 min' or less")
                .hasMessageContaining("or raise transaction.max.timeout.ms on the brokers");
    }

    @Test
    void checkpointsThatCouldOutliveTheirTransactionsAreRejectedAndTheDefaultsAreNot() {
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.KAFKA_TRANSACTION_TIMEOUT, Duration.ofMinutes(1));
        config.setString("execution.checkpointing.interval", "10 s");
        config.setString("execution.checkpointing.timeout", "30 s");
        // 10 s + 2 × 30 s = 70 s > 1 min
        assertThatThrownBy(() -> KafkaStartupChecks.checkCheckpointsEndBeforeTransactions(config))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("kafka.transaction-timeout (1 min) must exceed "
                        + "execution.checkpointing.interval + "
                        + "(execution.checkpointing.tolerable-failed-checkpoints + 2) × "
                        + "execution.checkpointing.timeout = 10 s + 2 × 30 s = 70 s")
                .hasMessageContaining("lower --execution.checkpointing.timeout")
                .hasMessageContaining("raise --kafka.transaction-timeout");

        // the default checkpoint timeout is derived from the transaction timeout: it passes
        Configuration defaults = new Configuration();
        defaults.set(InterestGraphOptions.KAFKA_TRANSACTION_TIMEOUT, Duration.ofMinutes(1));
        defaults.setString("execution.checkpointing.interval", "10 s");
        InterestGraphPipeline.applyRuntimeDefaults(defaults);
        KafkaStartupChecks.checkCheckpointsEndBeforeTransactions(defaults);
        assertThat(defaults.get(org.apache.flink.configuration.CheckpointingOptions
                .CHECKPOINTING_TIMEOUT)).isEqualTo(Duration.ofMillis(16_666));
    }

    /**
     * The admin client gets the job's kafka.properties.* as the sources and sinks do: SSL
     * towards the plaintext listener cannot list the topics, and the message says where to look.
     */
    @Test
    void securitySettingsReachTheAdminClient() {
        Configuration config = job("secure-");
        config.setString("kafka.properties.security.protocol", "SSL");
        config.setString("kafka.properties.default.api.timeout.ms", "3000");
        config.setString("kafka.properties.request.timeout.ms", "2000");
        assertThat(KafkaStartupChecks.adminProperties(config))
                .containsEntry("security.protocol", "SSL")
                .containsEntry("bootstrap.servers", kafka.bootstrapServers())
                .containsEntry("default.api.timeout.ms", "3000");

        assertThatThrownBy(() -> KafkaStartupChecks.check(config))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("Cannot list the topics at " + kafka.bootstrapServers()
                        + " (kafka.bootstrap)")
                .hasMessageContaining("kafka.properties.security.protocol");
    }
}
