package dev.interestgraph.bench;

import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.management.InstanceNotFoundException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.ReplicaInfo;

/**
 * How many bytes a topic takes on the broker, measured by the broker itself, whatever the records
 * hold (the benchmarks only ever see them as {@code byte[]}, so the figures survive a change of
 * the delta format).
 *
 * <ul>
 *   <li>{@link #appendedBytes}: the broker's own counter of bytes appended to the topic's logs
 *       since it was created ({@code kafka.server:type=BrokerTopicMetrics,name=BytesInPerSec,
 *       topic=…}, attribute {@code Count}, read over JMX from the in-process broker): record
 *       batches as stored, headers and per-record overhead included, not reduced by retention.
 *       This is what a run writes; the delta topics of the throughput runs are capped by
 *       {@code retention.bytes}, so their size on disk is not.
 *   <li>{@link #logDirBytes}: what the topic's partitions hold on disk now ({@code
 *       Admin.describeLogDirs}, what {@code kafka-log-dirs.sh} / {@code LogDirsCommand} shows):
 *       the measure the figures were taken with, exact for a topic nothing deleted from.
 * </ul>
 */
final class TopicVolume {
    private TopicVolume() {}

    /** Bytes and records a topic received since it was created, per the broker's meters. */
    static final class Appended {
        final long bytes;
        final long records;

        Appended(long bytes, long records) {
            this.bytes = bytes;
            this.records = records;
        }

        Appended minus(Appended earlier) {
            return new Appended(bytes - earlier.bytes, records - earlier.records);
        }
    }

    /** The broker's BytesIn / MessagesIn counts of the topic; 0 before its first record. */
    static Appended appendedBytes(String topic) {
        return new Appended(meterCount("BytesInPerSec", topic),
                meterCount("MessagesInPerSec", topic));
    }

    private static long meterCount(String meter, String topic) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            ObjectName name = new ObjectName("kafka.server:type=BrokerTopicMetrics,name=" + meter
                    + ",topic=" + topic); // topic names need no quoting: [a-zA-Z0-9._-]
            return ((Number) server.getAttribute(name, "Count")).longValue();
        } catch (InstanceNotFoundException notYet) {
            return 0; // the broker registers a topic's meters at its first append
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the broker's " + meter + " of " + topic
                    + " over JMX (in-process broker?)", e);
        }
    }

    /** Bytes the topic's partitions hold in the broker's log directories now. */
    static long logDirBytes(Admin admin, String topic) {
        try {
            Map<Integer, Map<String, LogDirDescription>> dirs = admin
                    .describeLogDirs(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)
                            .stream().map(node -> node.id()).toList())
                    .allDescriptions().get(30, TimeUnit.SECONDS);
            long bytes = 0;
            for (Map<String, LogDirDescription> broker : dirs.values()) {
                for (LogDirDescription dir : broker.values()) {
                    for (Map.Entry<org.apache.kafka.common.TopicPartition, ReplicaInfo> replica
                            : dir.replicaInfos().entrySet()) {
                        if (replica.getKey().topic().equals(topic)) {
                            bytes += replica.getValue().size();
                        }
                    }
                }
            }
            return bytes;
        } catch (Exception e) {
            throw new IllegalStateException("describeLogDirs failed for " + topic, e);
        }
    }
}
