package dev.interestgraph.startup;

import static dev.interestgraph.config.InterestGraphOptions.*;

import dev.interestgraph.config.InterestGraphOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.util.TimeUtils;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before the job is submitted, what would otherwise only show on the cluster as an
 * endless restart loop: every input and output topic the configuration names exists (or is
 * created, with {@code kafka.topics.create-missing}), the brokers accept the sinks'
 * {@code transaction.timeout.ms}, and a stalled checkpoint is declared failed before its Kafka
 * transaction can time out (which would lose the transaction's records at commit).
 *
 * <p>The admin client gets the same {@code kafka.properties.*} (security settings among them) as
 * the job's sources and sinks. Every failure is one {@link IllegalConfigurationException} whose
 * message names the topic or setting, the option key and the fix.
 */
public final class KafkaStartupChecks {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaStartupChecks.class);
    /** How long the checks wait for the brokers' answers. */
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final String BROKER_TRANSACTION_MAX = "transaction.max.timeout.ms";

    private KafkaStartupChecks() {}

    /** A topic the job reads or writes, the option that names it and how it is created. */
    public record RequiredTopic(ConfigOption<String> option, String name, boolean input,
            Map<String, String> configs) {
        String describe() {
            return "'" + name + "' (" + option.key() + ", " + (input ? "input" : "output") + ")";
        }
    }

    /** What the checks found; the topics they created, if any. */
    public record Result(List<String> created, Map<Integer, Long> transactionMaxTimeoutMs) {}

    /**
     * Runs every check against the brokers at {@code kafka.bootstrap}. Call it with the
     * configuration the job will run with (after {@code applyRuntimeDefaults}).
     */
    public static Result check(Configuration config) {
        checkCheckpointsEndBeforeTransactions(config);
        try (Admin admin = Admin.create(adminProperties(config))) {
            Set<String> existing = listTopics(admin, config);
            List<String> created = checkTopics(admin, config, existing);
            checkRetentionKeepsOldEvents(admin, config, existing);
            Map<Integer, Long> maxTimeouts = checkTransactionTimeout(admin, config);
            return new Result(created, maxTimeouts);
        }
    }

    /**
     * The admin client's properties: {@code kafka.bootstrap} and every
     * {@code kafka.properties.*}, as the job's Kafka sources and sinks get them, with timeouts
     * that fail within {@link #TIMEOUT} unless the user set them.
     */
    public static Properties adminProperties(Configuration config) {
        Properties props = InterestGraphOptions.kafkaClientProperties(config);
        props.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.get(KAFKA_BOOTSTRAP));
        props.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        props.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                String.valueOf(TIMEOUT.toMillis()));
        return props;
    }

    /**
     * The topics this configuration reads and writes. The analytics' item neighbours and the
     * encoder versions are left out: the job waits for them (a topic pattern), and a bounded run
     * leaves out what they feed.
     */
    public static List<RequiredTopic> requiredTopics(Configuration config,
            Set<String> existing) {
        Map<String, String> appendTime = Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG,
                "LogAppendTime");
        Map<String, String> compacted = Map.of(TopicConfig.CLEANUP_POLICY_CONFIG,
                TopicConfig.CLEANUP_POLICY_COMPACT);
        List<RequiredTopic> topics = new ArrayList<>();
        topics.add(new RequiredTopic(TOPIC_EVENTS, config.get(TOPIC_EVENTS), true, Map.of()));
        topics.add(new RequiredTopic(TOPIC_ITEMS, config.get(TOPIC_ITEMS), true, Map.of()));
        // the sinks stamp records with their event time: with CreateTime, time retention would
        // delete the deltas of old events at once (docs/cluster.md)
        topics.add(new RequiredTopic(TOPIC_DELTAS, config.get(TOPIC_DELTAS), false, appendTime));
        topics.add(new RequiredTopic(TOPIC_DEAD_LETTERS, config.get(TOPIC_DEAD_LETTERS), false,
                appendTime));
        if (!config.get(TOPIC_ITEM_EMBEDDINGS).isBlank()) {
            topics.add(new RequiredTopic(TOPIC_ITEM_EMBEDDINGS, config.get(TOPIC_ITEM_EMBEDDINGS),
                    false, compacted));
        }
        // a bounded run without the analytics topic leaves the recommender out (the pipeline)
        boolean recommends = config.get(RECOMMEND_ENABLED) && (!config.get(KAFKA_BOUNDED)
                || existing.contains(config.get(TOPIC_ITEM_NEIGHBORS)));
        if (recommends) {
            topics.add(new RequiredTopic(TOPIC_RECOMMENDATIONS,
                    config.get(TOPIC_RECOMMENDATIONS), false, compacted));
        }
        return topics;
    }

    private static Set<String> listTopics(Admin admin, Configuration config) {
        try {
            return admin.listTopics().names().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalConfigurationException("Cannot list the topics at "
                    + config.get(KAFKA_BOOTSTRAP) + " (" + KAFKA_BOOTSTRAP.key() + ") within "
                    + TimeUtils.formatWithHighestUnit(TIMEOUT) + ": " + rootMessage(e)
                    + ". Check the address and the security settings (kafka.properties."
                    + "security.protocol, kafka.properties.sasl.*, kafka.properties.ssl.*), and "
                    + "that this principal may describe topics.", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while listing topics", e);
        }
    }

    private static List<String> checkTopics(Admin admin, Configuration config,
            Set<String> existing) {
        List<RequiredTopic> missing = new ArrayList<>();
        for (RequiredTopic topic : requiredTopics(config, existing)) {
            if (!existing.contains(topic.name())
                    && missing.stream().noneMatch(m -> m.name().equals(topic.name()))) {
                missing.add(topic);
            }
        }
        if (missing.isEmpty()) {
            return List.of();
        }
        int partitions = config.get(KAFKA_TOPICS_PARTITIONS);
        int replication = config.get(KAFKA_TOPICS_REPLICATION_FACTOR);
        if (!config.get(KAFKA_TOPICS_CREATE_MISSING)) {
            throw new IllegalConfigurationException(missingTopicsMessage(config, missing,
                    partitions, replication));
        }
        List<String> created = new ArrayList<>();
        for (RequiredTopic topic : missing) {
            NewTopic request = new NewTopic(topic.name(), java.util.Optional.of(partitions),
                    replication < 0 ? java.util.Optional.empty()
                            : java.util.Optional.of((short) replication))
                    .configs(topic.configs());
            try {
                admin.createTopics(List.of(request)).all()
                        .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                created.add(topic.name());
                LOG.info("Created Kafka topic {} ({}, {} partitions, replication {}, {})",
                        topic.name(), topic.option().key(), partitions,
                        replication < 0 ? "broker default" : replication, topic.configs());
            } catch (ExecutionException e) {
                if (e.getCause() instanceof TopicExistsException) {
                    continue; // created meanwhile by someone else: what we wanted
                }
                throw new IllegalConfigurationException("Cannot create the Kafka topic "
                        + topic.describe() + " with " + partitions + " partitions and "
                        + "replication factor " + (replication < 0 ? "(broker default)"
                                : replication) + " (" + KAFKA_TOPICS_CREATE_MISSING.key() + "): "
                        + rootMessage(e) + ". Fix " + KAFKA_TOPICS_PARTITIONS.key() + " / "
                        + KAFKA_TOPICS_REPLICATION_FACTOR.key() + ", grant this principal "
                        + "CREATE on the cluster, or create the topic yourself.", e);
            } catch (TimeoutException e) {
                throw new IllegalConfigurationException("Creating the Kafka topic "
                        + topic.describe() + " timed out after "
                        + TimeUtils.formatWithHighestUnit(TIMEOUT), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while creating topics", e);
            }
        }
        awaitLed(admin, created);
        return created;
    }

    /**
     * CreateTopics returns once the controller has the topics; the brokers' metadata (what the
     * job's clients see) follows a moment later. Wait for a leader on every partition, so that
     * the job starts on topics its clients can use.
     */
    private static void awaitLed(Admin admin, List<String> topics) {
        if (topics.isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        long pauseMs = 20;
        while (true) {
            try {
                Map<String, org.apache.kafka.clients.admin.TopicDescription> described = admin
                        .describeTopics(topics).allTopicNames().get(5, TimeUnit.SECONDS);
                if (described.values().stream().allMatch(d -> d.partitions().stream()
                        .allMatch(p -> p.leader() != null && !p.leader().isEmpty()))) {
                    return;
                }
            } catch (ExecutionException | TimeoutException e) {
                // not propagated yet: asked again below
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for topics", e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalConfigurationException("The topics " + topics + " were created "
                        + "but have no leader after " + TimeUtils.formatWithHighestUnit(TIMEOUT)
                        + ": check the brokers");
            }
            try {
                Thread.sleep(pauseMs); // back-off between polls; the condition decides
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for topics", e);
            }
            pauseMs = Math.min(pauseMs * 2, 500);
        }
    }

    static String missingTopicsMessage(Configuration config, List<RequiredTopic> missing,
            int partitions, int replication) {
        StringBuilder message = new StringBuilder("Kafka topic").append(missing.size() > 1
                ? "s " : " ");
        List<String> names = new ArrayList<>();
        missing.forEach(t -> names.add(t.describe()));
        message.append(String.join(", ", names)).append(missing.size() > 1 ? " do" : " does")
                .append(" not exist at ").append(config.get(KAFKA_BOOTSTRAP))
                .append(". The job would restart forever waiting for ")
                .append(missing.size() > 1 ? "them" : "it").append(". Fix one of:");
        message.append("\n  - create ").append(missing.size() > 1 ? "them" : "it").append(":");
        String bootstrap = config.get(KAFKA_BOOTSTRAP);
        for (RequiredTopic topic : missing) {
            message.append("\n      kafka-topics.sh --bootstrap-server ").append(bootstrap)
                    .append(" --create --topic ").append(topic.name()).append(" --partitions ")
                    .append(partitions);
            if (replication > 0) {
                message.append(" --replication-factor ").append(replication);
            }
            topic.configs().forEach((k, v) -> message.append(" --config ").append(k)
                    .append('=').append(v));
        }
        message.append("\n  - or let the job create them: --").append(KAFKA_TOPICS_CREATE_MISSING
                .key()).append(" true (with --").append(KAFKA_TOPICS_PARTITIONS.key())
                .append(' ').append(partitions).append(" --")
                .append(KAFKA_TOPICS_REPLICATION_FACTOR.key()).append(' ').append(replication)
                .append(')');
        message.append("\n  - or point the option");
        message.append(missing.size() > 1 ? "s (" : " (");
        List<String> keys = new ArrayList<>();
        missing.forEach(t -> keys.add("--" + t.option().key()));
        message.append(String.join(", ", keys)).append(") at existing topics");
        return message.toString();
    }

    /**
     * The delta sink stamps each record with its event time (and the recommendations and
     * item-embeddings sinks theirs). On a topic with {@code message.timestamp.type=CreateTime}
     * and time retention, the broker measures retention from that timestamp: the output of
     * events older than {@code retention.ms} (a backfill, a replay, a job catching up) is
     * committed, then deleted at the next retention check, with no error anywhere. Such a topic
     * fails the start-up instead, naming the fix.
     */
    private static void checkRetentionKeepsOldEvents(Admin admin, Configuration config,
            Set<String> existing) {
        // the outputs this run writes (the dead letters carry the time they were written)
        Set<ConfigOption<String>> stamped = Set.of(TOPIC_DELTAS, TOPIC_RECOMMENDATIONS,
                TOPIC_ITEM_EMBEDDINGS);
        Map<ConfigResource, ConfigOption<String>> resources = new LinkedHashMap<>();
        for (RequiredTopic topic : requiredTopics(config, existing)) {
            if (stamped.contains(topic.option())) {
                resources.putIfAbsent(new ConfigResource(ConfigResource.Type.TOPIC,
                        topic.name()), topic.option());
            }
        }
        Map<ConfigResource, Config> described;
        try {
            described = admin.describeConfigs(resources.keySet()).all()
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // a principal that may not describe topic configurations: not judged here
            LOG.warn("Could not read the retention settings of {}: {}. Make sure that time "
                    + "retention cannot delete the output of old events (docs/reliability.md).",
                    resources.keySet(), rootMessage(e));
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading topic configurations", e);
        }
        for (Map.Entry<ConfigResource, Config> topic : described.entrySet()) {
            Config settings = topic.getValue();
            String timestampType = value(settings, TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG);
            String cleanup = value(settings, TopicConfig.CLEANUP_POLICY_CONFIG);
            String retention = value(settings, TopicConfig.RETENTION_MS_CONFIG);
            if (!"CreateTime".equals(timestampType) || cleanup == null
                    || !cleanup.contains(TopicConfig.CLEANUP_POLICY_DELETE) || retention == null
                    || Long.parseLong(retention) < 0) {
                continue;
            }
            String name = topic.getKey().name();
            ConfigOption<String> option = resources.get(topic.getKey());
            throw new IllegalConfigurationException("Kafka topic '" + name + "' ("
                    + option.key() + ") has message.timestamp.type=CreateTime and time "
                    + "retention (cleanup.policy=" + cleanup + ", retention.ms=" + retention
                    + "): the job stamps its records with their event time, so the broker "
                    + "would delete the committed output of every event older than "
                    + TimeUtils.formatWithHighestUnit(Duration.ofMillis(Long.parseLong(retention)))
                    + " at its next retention check, silently. Fix one of:"
                    + "\n  - kafka-configs.sh --bootstrap-server " + config.get(KAFKA_BOOTSTRAP)
                    + " --alter --entity-type topics --entity-name " + name
                    + " --add-config message.timestamp.type=LogAppendTime"
                    + "\n  - or keep the records without time retention: --add-config "
                    + "retention.ms=-1");
        }
    }

    private static String value(Config settings, String key) {
        ConfigEntry entry = settings.get(key);
        return entry == null ? null : entry.value();
    }

    /**
     * Each broker's {@code transaction.max.timeout.ms} against the sinks' timeout: a larger
     * timeout makes every transactional producer fail with InvalidTxnTimeoutException, over and
     * over after each restart. Brokers that do not let this principal read their configuration
     * are not checked (a warning says so).
     */
    private static Map<Integer, Long> checkTransactionTimeout(Admin admin, Configuration config) {
        long wanted = config.get(KAFKA_TRANSACTION_TIMEOUT).toMillis();
        Map<Integer, Long> maxima = new LinkedHashMap<>();
        try {
            Collection<Node> nodes = admin.describeCluster().nodes()
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            List<ConfigResource> brokers = new ArrayList<>();
            nodes.forEach(n -> brokers.add(new ConfigResource(ConfigResource.Type.BROKER,
                    n.idString())));
            Map<ConfigResource, Config> configs = admin.describeConfigs(brokers).all()
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            configs.forEach((resource, brokerConfig) -> {
                ConfigEntry entry = brokerConfig.get(BROKER_TRANSACTION_MAX);
                if (entry != null && entry.value() != null) {
                    maxima.put(Integer.parseInt(resource.name()), Long.parseLong(entry.value()));
                }
            });
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("Could not read the brokers' {} ({}); {} ({}) is not checked against it",
                    BROKER_TRANSACTION_MAX, rootMessage(e), KAFKA_TRANSACTION_TIMEOUT.key(),
                    TimeUtils.formatWithHighestUnit(config.get(KAFKA_TRANSACTION_TIMEOUT)));
            return maxima;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading broker configs", e);
        }
        long lowest = maxima.values().stream().mapToLong(Long::longValue).min().orElse(Long.MAX_VALUE);
        if (wanted > lowest) {
            throw new IllegalConfigurationException(KAFKA_TRANSACTION_TIMEOUT.key() + " ("
                    + TimeUtils.formatWithHighestUnit(Duration.ofMillis(wanted)) + ", the sinks' "
                    + "transaction.timeout.ms) exceeds the brokers' " + BROKER_TRANSACTION_MAX
                    + " (" + TimeUtils.formatWithHighestUnit(Duration.ofMillis(lowest))
                    + ", per broker: " + maxima + "): every exactly-once sink would fail with "
                    + "InvalidTxnTimeoutException, and the job would restart forever. Fix: pass "
                    + "--" + KAFKA_TRANSACTION_TIMEOUT.key() + " '"
                    + TimeUtils.formatWithHighestUnit(Duration.ofMillis(lowest)) + "' or less "
                    + "(and keep it above the checkpoint interval plus twice the checkpoint "
                    + "timeout), or raise " + BROKER_TRANSACTION_MAX + " on the brokers.");
        }
        return maxima;
    }

    /**
     * A Kafka transaction opens at the first record after one checkpoint and commits when the
     * next one completes. If a checkpoint can take longer than the transaction may stay open,
     * the broker aborts the transaction first and the commit that follows fails: the Kafka
     * connector logs it and drops the records (data loss). The checkpoint timeout is the bound:
     * a checkpoint that stalls longer fails and the job restores (no loss), provided the
     * transaction outlives interval + (tolerable failures + 2) × timeout.
     */
    public static void checkCheckpointsEndBeforeTransactions(Configuration config) {
        Duration transaction = config.get(KAFKA_TRANSACTION_TIMEOUT);
        Duration interval = config.getOptional(CheckpointingOptions.CHECKPOINTING_INTERVAL)
                .orElse(Duration.ZERO);
        Duration timeout = config.get(CheckpointingOptions.CHECKPOINTING_TIMEOUT);
        int tolerable = config.getOptional(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER)
                .orElse(0);
        Duration bound = interval.plus(timeout.multipliedBy(tolerable + 2L));
        if (bound.compareTo(transaction) >= 0) {
            throw new IllegalConfigurationException(KAFKA_TRANSACTION_TIMEOUT.key() + " ("
                    + TimeUtils.formatWithHighestUnit(transaction) + ") must exceed "
                    + CheckpointingOptions.CHECKPOINTING_INTERVAL.key() + " + ("
                    + CheckpointingOptions.TOLERABLE_FAILURE_NUMBER.key() + " + 2) × "
                    + CheckpointingOptions.CHECKPOINTING_TIMEOUT.key() + " = "
                    + TimeUtils.formatWithHighestUnit(interval) + " + " + (tolerable + 2)
                    + " × " + TimeUtils.formatWithHighestUnit(timeout) + " = "
                    + TimeUtils.formatWithHighestUnit(bound) + ": a checkpoint that stalls "
                    + "that long would outlive its Kafka transaction, which the broker then "
                    + "aborts, and the commit after the checkpoint would drop its records. Fix: "
                    + "lower --" + CheckpointingOptions.CHECKPOINTING_TIMEOUT.key() + " (a "
                    + "stalled checkpoint then fails and the job restores without loss), or "
                    + "raise --" + KAFKA_TRANSACTION_TIMEOUT.key()
                    + " (at most the brokers' " + BROKER_TRANSACTION_MAX + ").");
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }
}
