package dev.interestgraph.local;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.metadata.storage.Formatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real, single-node Kafka 3.9 broker running inside the current JVM, for tests and the local demo.
 *
 * <p>The node runs in KRaft mode as a combined broker and controller on {@code 127.0.0.1}: a
 * {@code PLAINTEXT} listener for clients and a {@code CONTROLLER} listener for the (one-voter)
 * Raft quorum, both on free ports. Storage is formatted programmatically in a fresh temporary
 * directory, which is deleted again by {@link #close()}. Settings are sized for a laptop: internal
 * topics have replication factor 1 and few partitions, consumer groups rebalance without delay,
 * topics are never auto-created (so a typo fails loudly), and {@code transaction.max.timeout.ms}
 * is one hour so that Flink's exactly-once Kafka sink (whose transactions span checkpoints) is
 * accepted.
 *
 * <pre>{@code
 * try (LocalKafkaBroker kafka = LocalKafkaBroker.start()) {
 *     kafka.createTopic("events", 4);
 *     producerProps.put("bootstrap.servers", kafka.bootstrapServers());
 *     ...
 * }
 * }</pre>
 *
 * <p>{@link #stop()} and {@link #restart()} take the broker down and bring it back on the same
 * ports with the same data, for fault-injection tests. Instances are thread-safe in the sense
 * that all lifecycle methods are {@code synchronized}; several brokers may run in one JVM.
 *
 * <p>Needs {@code org.apache.kafka:kafka_2.13} (3.9.x, not 4.x) on the classpath; it is a
 * {@code provided} dependency, so this class is not usable inside the job JAR on a cluster.
 */
public final class LocalKafkaBroker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalKafkaBroker.class);

    static final String HOST = "127.0.0.1";
    private static final int DEFAULT_NODE_ID = 1;
    private static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration TOPIC_TIMEOUT = Duration.ofSeconds(30);

    private final int brokerPort;
    private final int controllerPort;
    private final Path dataDir;
    private final boolean deleteDataDirOnClose;
    private final Properties serverProps;
    private final Duration startTimeout;
    /**
     * Fixed per instance (a restart must find the same cluster id in meta.properties), shared by
     * the nodes of a {@link LocalKafkaCluster}.
     */
    private final String clusterId;
    private final int nodeId;
    /** {@code controller.quorum.voters}: this node alone, or the nodes of a cluster. */
    private final String quorumVoters;

    private KafkaRaftServer server; // null while stopped
    private boolean closed;
    private long lastStartMillis;

    private LocalKafkaBroker(Builder builder) throws IOException {
        this.brokerPort = builder.port > 0 ? builder.port : freePort();
        int ctrl = builder.controllerPort > 0 ? builder.controllerPort : freePort();
        // freePort() may hand out the same number twice when asked back to back.
        while (ctrl == brokerPort) {
            ctrl = freePort();
        }
        this.controllerPort = ctrl;
        this.nodeId = builder.nodeId;
        this.clusterId = builder.clusterId != null ? builder.clusterId
                : Uuid.randomUuid().toString();
        this.quorumVoters = builder.quorumVoters != null ? builder.quorumVoters
                : nodeId + "@" + HOST + ":" + controllerPort;
        if (builder.dataDir != null) {
            this.dataDir = builder.dataDir;
            this.deleteDataDirOnClose = false;
            Files.createDirectories(dataDir);
        } else {
            this.dataDir = Files.createTempDirectory("local-kafka-");
            this.deleteDataDirOnClose = true;
        }
        this.startTimeout = builder.startTimeout;
        this.serverProps = serverProperties(builder);
    }

    /** Starts a broker with default settings; blocks until it accepts requests. */
    public static LocalKafkaBroker start() {
        return builder().start();
    }

    /** A builder for a broker with a fixed port, a given data directory or other settings. */
    public static Builder builder() {
        return new Builder();
    }

    /** {@code host:port} of the PLAINTEXT listener, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return HOST + ":" + brokerPort;
    }

    /** The directory holding the metadata and topic logs. */
    public Path dataDir() {
        return dataDir;
    }

    /** How long the last (re)start took until the broker answered requests, in milliseconds. */
    public synchronized long lastStartMillis() {
        return lastStartMillis;
    }

    /** Whether the broker process is currently up (started and not stopped or closed). */
    public synchronized boolean isRunning() {
        return server != null;
    }

    /**
     * Creates a topic with replication factor 1 and returns once every partition has a leader,
     * so producers and consumers can use it straight away.
     */
    public void createTopic(String name, int partitions) {
        createTopic(name, partitions, Map.of());
    }

    /** Creates a log-compacted topic ({@code cleanup.policy=compact}); see {@link #createTopic}. */
    public void createCompactedTopic(String name, int partitions) {
        createTopic(name, partitions, Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
    }

    /** Creates a topic with the given topic-level configs; see {@link #createTopic(String, int)}. */
    public void createTopic(String name, int partitions, Map<String, String> configs) {
        Objects.requireNonNull(name, "name");
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
        }
        try (Admin admin = newAdmin()) {
            NewTopic topic = new NewTopic(name, partitions, (short) 1).configs(configs);
            admin.createTopics(List.of(topic)).all().get(TOPIC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            // CreateTopics returns when the controller has committed the topic; the broker's
            // metadata cache (what clients see) catches up a moment later.
            awaitCondition("topic " + name + " with " + partitions + " led partitions", TOPIC_TIMEOUT,
                    () -> allPartitionsLed(admin, name, partitions));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
                throw new IllegalStateException("Topic already exists: " + name, e.getCause());
            }
            throw new IllegalStateException("Could not create topic " + name, e.getCause());
        } catch (Exception e) {
            throw asUnchecked("Could not create topic " + name, e);
        }
    }

    /**
     * An {@link Admin} client connected to this broker. The caller closes it. Extra properties
     * override the defaults.
     */
    public Admin newAdmin(Map<String, Object> overrides) {
        Map<String, Object> props = new HashMap<>();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        // Fail fast while the broker is still coming up, so the readiness loop can retry.
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        props.putAll(overrides);
        return Admin.create(props);
    }

    /** An {@link Admin} client connected to this broker. The caller closes it. */
    public Admin newAdmin() {
        return newAdmin(Map.of());
    }

    /**
     * Shuts the broker down but keeps its data directory and ports, so {@link #restart()} brings
     * back the same broker with the same data. Clients see the broker as unreachable meanwhile.
     */
    public synchronized void stop() {
        if (server == null) {
            return;
        }
        KafkaRaftServer s = server;
        server = null;
        s.shutdown();
        s.awaitShutdown();
        LOG.info("Kafka broker at {} stopped", bootstrapServers());
    }

    /** Starts the broker again after {@link #stop()} (or stops and starts it if running). */
    public synchronized void restart() {
        ensureOpen();
        stop();
        startServer();
    }

    /** Shuts the broker down and deletes its temporary data directory. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            stop();
        } finally {
            if (deleteDataDirOnClose) {
                try {
                    Utils.delete(dataDir.toFile());
                } catch (IOException e) {
                    LOG.warn("Could not delete Kafka data directory {}", dataDir, e);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    private synchronized void startServer() {
        ensureOpen();
        if (server != null) {
            return;
        }
        long t0 = System.nanoTime();
        KafkaConfig config = KafkaConfig.fromProps(serverProps, false);
        formatStorageIfNeeded(config);
        KafkaRaftServer s = new KafkaRaftServer(config, Time.SYSTEM);
        try {
            s.startup();
            server = s;
            awaitBrokerReady();
        } catch (RuntimeException | Error e) {
            server = null;
            shutdownQuietly(s);
            throw e;
        }
        lastStartMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        LOG.info("Kafka broker at {} ready in {} ms (data in {})", bootstrapServers(), lastStartMillis, dataDir);
    }

    /**
     * Does what {@code kafka-storage.sh format} does: writes meta.properties and the bootstrap
     * metadata checkpoint. Directories that are already formatted (restart, or a caller-provided
     * directory reused across runs) are left alone.
     */
    private void formatStorageIfNeeded(KafkaConfig config) {
        // Formatter's ignoreFormatted still verifies the cluster id against ours, which fails for a
        // caller-provided directory formatted by an earlier run; so skip formatted storage here.
        if (Files.exists(Path.of(config.metadataLogDir(), "meta.properties"))) {
            return;
        }
        Formatter formatter = new Formatter()
                // the formatter prints "Formatting ..." lines to stdout; keep test output clean
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setNodeId(nodeId)
                .setClusterId(clusterId)
                .setIgnoreFormatted(true)
                .setControllerListenerName("CONTROLLER")
                .setMetadataLogDirectory(config.metadataLogDir());
        // Static quorum (controller.quorum.voters) => no initial-controllers argument needed.
        scala.jdk.javaapi.CollectionConverters.asJava(config.logDirs()).forEach(formatter::addDirectory);
        try {
            formatter.run();
        } catch (Exception e) {
            throw asUnchecked("Could not format Kafka storage in " + dataDir, e);
        }
    }

    /**
     * startup() returns before the broker has registered with the controller and been unfenced;
     * until then clients get no brokers in metadata. Wait until describeCluster lists our node.
     */
    private void awaitBrokerReady() {
        try (Admin admin = newAdmin()) {
            awaitCondition("Kafka broker at " + bootstrapServers() + " to become ready", startTimeout, () -> {
                try {
                    Collection<org.apache.kafka.common.Node> nodes =
                            admin.describeCluster().nodes().get(2, TimeUnit.SECONDS);
                    return nodes.stream().anyMatch(n -> n.id() == nodeId);
                } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                    return false; // not listening / not registered yet
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("Interrupted while waiting for Kafka", e);
                }
            });
        }
    }

    private static boolean allPartitionsLed(Admin admin, String topic, int partitions) {
        try {
            TopicDescription d = admin.describeTopics(Set.of(topic)).allTopicNames()
                    .get(2, TimeUnit.SECONDS).get(topic);
            return d != null
                    && d.partitions().size() == partitions
                    && d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty());
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            return false; // UnknownTopicOrPartition until the metadata has propagated
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for topic " + topic, e);
        }
    }

    /** Polls {@code condition} until it holds; throws if {@code timeout} passes first. */
    static void awaitCondition(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pauseMillis = 10;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("Timed out after " + timeout + " waiting for " + what);
            }
            try {
                // back-off between polls, not a synchronisation sleep: the condition decides
                Thread.sleep(pauseMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for " + what, e);
            }
            pauseMillis = Math.min(pauseMillis * 2, 200);
        }
    }

    private Properties serverProperties(Builder b) {
        Properties p = new Properties();
        // --- identity and listeners: combined KRaft node with a one-voter static quorum
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(nodeId));
        p.put("controller.quorum.voters", quorumVoters);
        p.put("listeners", "PLAINTEXT://" + HOST + ":" + brokerPort + ",CONTROLLER://" + HOST + ":" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + brokerPort);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", dataDir.resolve("logs").toString());

        // --- one node: internal topics cannot have more than one replica; few partitions keep
        // the first consumer-group / transactional request fast (each partition is a log to load)
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "4");
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        p.put("num.partitions", String.valueOf(b.defaultPartitions));

        // --- behaviour for tests and the demo
        p.put("auto.create.topics.enable", "false");       // a misspelt topic should fail, not appear
        p.put("group.initial.rebalance.delay.ms", "0");     // default 3 s would delay every first poll
        p.put("transaction.max.timeout.ms", String.valueOf(Duration.ofHours(1).toMillis())); // Flink EOS sink
        // Heartbeats unfence the broker; a shorter interval shortens start-up and restart.
        p.put("broker.heartbeat.interval.ms", "500");
        // Nothing else runs against this node: keep threads and memory small for a laptop.
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "4");
        p.put("background.threads", "2");
        p.put("num.recovery.threads.per.data.dir", "1");
        p.put("log.cleaner.threads", "1");
        p.put("log.cleaner.dedupe.buffer.size", String.valueOf(8 * 1024 * 1024)); // default 128 MiB

        p.putAll(b.overrides);
        return p;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("LocalKafkaBroker is closed");
        }
    }

    private static void shutdownQuietly(KafkaRaftServer s) {
        try {
            s.shutdown();
            s.awaitShutdown();
        } catch (RuntimeException e) {
            LOG.debug("Ignoring error while shutting down a failed Kafka start", e);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getByName(HOST))) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    private static RuntimeException asUnchecked(String message, Exception e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        if (e instanceof RuntimeException re) {
            return re;
        }
        if (e instanceof IOException io) {
            return new UncheckedIOException(message, io);
        }
        return new IllegalStateException(message, e);
    }

    /** Options for a {@link LocalKafkaBroker}; every setting is optional. */
    public static final class Builder {
        private int port;
        private Path dataDir;
        private int defaultPartitions = 1;
        private Duration startTimeout = DEFAULT_START_TIMEOUT;
        private final Map<String, String> overrides = new HashMap<>();
        private int nodeId = DEFAULT_NODE_ID;
        private int controllerPort;
        private String clusterId;
        private String quorumVoters;

        private Builder() {
        }

        /**
         * Makes this node one of a multi-node KRaft quorum ({@link LocalKafkaCluster}): its id,
         * its controller port, the cluster id all nodes share, and every voter
         * ({@code id@host:port,...}).
         */
        Builder clusterNode(int nodeId, int controllerPort, String clusterId,
                String quorumVoters) {
            this.nodeId = nodeId;
            this.controllerPort = controllerPort;
            this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
            this.quorumVoters = Objects.requireNonNull(quorumVoters, "quorumVoters");
            return this;
        }

        /** A fixed PLAINTEXT port instead of a free one (e.g. 9092 for the demo). */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
            this.port = port;
            return this;
        }

        /**
         * Keep data in this directory instead of a fresh temporary one. It is formatted on first
         * use, reused as is when already formatted, and NOT deleted on close.
         */
        public Builder dataDir(Path dataDir) {
            this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
            return this;
        }

        /** {@code num.partitions}: partitions of topics created without an explicit count. */
        public Builder defaultPartitions(int partitions) {
            if (partitions < 1) {
                throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
            }
            this.defaultPartitions = partitions;
            return this;
        }

        /** How long {@link #start()} waits for the broker to become ready (default 60 s). */
        public Builder startTimeout(Duration timeout) {
            this.startTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /** Any broker config, overriding the defaults chosen by this class. */
        public Builder brokerConfig(String key, String value) {
            overrides.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** Formats storage, starts the broker and blocks until it accepts requests. */
        public LocalKafkaBroker start() {
            LocalKafkaBroker broker;
            try {
                broker = new LocalKafkaBroker(this);
            } catch (IOException e) {
                throw new UncheckedIOException("Could not prepare Kafka data directory", e);
            }
            try {
                broker.startServer();
            } catch (RuntimeException | Error e) {
                broker.close(); // remove the temp dir of a broker that never came up
                throw e;
            }
            return broker;
        }
    }
}
