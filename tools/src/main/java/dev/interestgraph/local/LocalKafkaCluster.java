package dev.interestgraph.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;

/**
 * Several real Kafka 3.9 nodes in the current JVM, forming one KRaft cluster: each node is a
 * combined broker and controller ({@link LocalKafkaBroker} with a shared cluster id and a static
 * quorum of all nodes), so that stopping one node leaves a controller majority and the brokers
 * carry on. Topics and the internal topics (offsets, transaction state) are replicated to every
 * node with {@code min.insync.replicas} one less than the nodes: one node may be down and
 * {@code acks=all} writes, transactions included, still succeed.
 *
 * <pre>{@code
 * try (LocalKafkaCluster kafka = LocalKafkaCluster.start(3)) {
 *     kafka.createTopic("events", 2);          // replication factor 3, min.insync.replicas 2
 *     kafka.node(0).stop();                    // a broker goes away; the others lead
 * }
 * }</pre>
 *
 * <p>Test and demo tooling, like {@link LocalKafkaBroker} ({@code kafka_2.13} is a provided
 * dependency).
 */
public final class LocalKafkaCluster implements AutoCloseable {
    private static final Duration TOPIC_TIMEOUT = Duration.ofSeconds(60);

    private final List<LocalKafkaBroker> nodes;

    private LocalKafkaCluster(List<LocalKafkaBroker> nodes) {
        this.nodes = nodes;
    }

    /** Starts {@code size} nodes (at least 3) and returns once every one is a ready broker. */
    public static LocalKafkaCluster start(int size) {
        return start(size, Map.of());
    }

    /** As {@link #start(int)}, with broker settings for every node. */
    public static LocalKafkaCluster start(int size, Map<String, String> brokerConfig) {
        if (size < 3) {
            throw new IllegalArgumentException("a cluster that survives a lost node needs at "
                    + "least 3 nodes, got " + size);
        }
        String clusterId = Uuid.randomUuid().toString();
        int[] controllerPorts = new int[size];
        try {
            for (int i = 0; i < size; i++) {
                int port;
                do {
                    port = LocalKafkaBroker.freePort();
                } while (contains(controllerPorts, port));
                controllerPorts[i] = port;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < size; i++) {
            voters.append(i == 0 ? "" : ",").append(i + 1).append('@')
                    .append(LocalKafkaBroker.HOST).append(':').append(controllerPorts[i]);
        }
        String replicas = String.valueOf(size);
        String minIsr = String.valueOf(size - 1);
        // every node's start blocks until the quorum has a leader: start them side by side
        List<CompletableFuture<LocalKafkaBroker>> starting = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            LocalKafkaBroker.Builder builder = LocalKafkaBroker.builder()
                    .clusterNode(i + 1, controllerPorts[i], clusterId, voters.toString())
                    .brokerConfig("offsets.topic.replication.factor", replicas)
                    .brokerConfig("transaction.state.log.replication.factor", replicas)
                    .brokerConfig("transaction.state.log.min.isr", minIsr)
                    .brokerConfig("default.replication.factor", replicas)
                    .brokerConfig("min.insync.replicas", minIsr)
                    // several brokers share a few cores: a node starved for the default 9 s
                    // would be fenced by the controller although it is alive
                    .brokerConfig("broker.session.timeout.ms", "30000");
            brokerConfig.forEach(builder::brokerConfig);
            starting.add(CompletableFuture.supplyAsync(builder::start));
        }
        List<LocalKafkaBroker> started = new ArrayList<>();
        RuntimeException failure = null;
        for (CompletableFuture<LocalKafkaBroker> node : starting) {
            try {
                started.add(node.get(3, TimeUnit.MINUTES));
            } catch (Exception e) {
                failure = failure != null ? failure
                        : new IllegalStateException("a Kafka node did not start", e);
            }
        }
        if (failure != null) {
            started.forEach(LocalKafkaBroker::close);
            throw failure;
        }
        return new LocalKafkaCluster(List.copyOf(started));
    }

    private static boolean contains(int[] ports, int port) {
        for (int p : ports) {
            if (p == port) {
                return true;
            }
        }
        return false;
    }

    /** Every node's {@code host:port}, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return nodes.stream().map(LocalKafkaBroker::bootstrapServers)
                .collect(Collectors.joining(","));
    }

    /** The {@code i}-th node (0-based; its node id is {@code i + 1}). */
    public LocalKafkaBroker node(int i) {
        return nodes.get(i);
    }

    public int size() {
        return nodes.size();
    }

    /** An admin client on the nodes that are up; the caller closes it. */
    public Admin newAdmin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers(), AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000));
    }

    /**
     * Creates a topic replicated to every node and returns once every partition has a leader and
     * all replicas in sync.
     */
    public void createTopic(String name, int partitions) {
        createTopic(name, partitions, Map.of());
    }

    /** As {@link #createTopic(String, int)}, with topic-level configs. */
    public void createTopic(String name, int partitions, Map<String, String> configs) {
        try (Admin admin = newAdmin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) nodes.size())
                    .configs(configs))).all().get(TOPIC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            LocalKafkaBroker.awaitCondition("topic " + name + " led and fully in sync",
                    TOPIC_TIMEOUT, () -> inSync(admin, name, partitions));
        } catch (ExecutionException e) {
            throw new IllegalStateException("Could not create topic " + name, e.getCause());
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw e instanceof RuntimeException re ? re
                    : new IllegalStateException("Could not create topic " + name, e);
        }
    }

    /** The partitions of a topic as the cluster describes them now (leader, replicas, ISR). */
    public List<TopicPartitionInfo> describe(String topic) {
        try (Admin admin = newAdmin()) {
            return admin.describeTopics(Set.of(topic)).allTopicNames()
                    .get(20, TimeUnit.SECONDS).get(topic).partitions();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("Could not describe " + topic, e);
        }
    }

    private boolean inSync(Admin admin, String topic, int partitions) {
        try {
            TopicDescription d = admin.describeTopics(Set.of(topic)).allTopicNames()
                    .get(2, TimeUnit.SECONDS).get(topic);
            return d != null && d.partitions().size() == partitions
                    && d.partitions().stream().allMatch(p -> p.leader() != null
                            && !p.leader().isEmpty() && p.isr().size() == nodes.size());
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Stops every node and deletes their data. */
    @Override
    public void close() {
        // side by side: a node shutting down alone, after the others, would wait for a
        // controller majority that is gone
        CompletableFuture.allOf(nodes.stream()
                .map(node -> CompletableFuture.runAsync(node::close))
                .toArray(CompletableFuture[]::new)).join();
    }
}
