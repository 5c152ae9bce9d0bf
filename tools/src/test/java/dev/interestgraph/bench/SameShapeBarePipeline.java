package dev.interestgraph.bench;

import dev.interestgraph.config.InterestGraphOptions.InputFormat;
import dev.interestgraph.ingest.InputDeserializationSchema;
import dev.interestgraph.ingest.InputLimits;
import dev.interestgraph.ingest.InputRecord;
import dev.interestgraph.ingest.SplitDeadLetters;
import dev.interestgraph.model.EnrichedAction;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.LongAdder;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The bare Flink pipeline of the job's shape (issue 16's "same-shape" baseline): what the job's
 * dataflow costs with none of its own work in it.
 *
 * <pre>
 * user-events source ─ parse + validate ─ keyBy(item) ┐
 *                                                     ├ item join (keyed: item ValueState read)
 * item-catalog source ─ parse + validate ─ keyBy(item) ┘        │
 *                                     keyBy(user) ─ keyed read-modify-write (ValueState) ─
 *                                     EXACTLY_ONCE Kafka sink, one 100-byte record per event
 * </pre>
 *
 * The same two Kafka sources with the job's deserializers, watermark strategy and parse/validate
 * functions; the same two keyBys (item, then user) with the same record type between them
 * ({@link EnrichedAction}, without a vector); one keyed {@code ValueState<Long>} read-modify-write
 * per event; and an exactly-once (or at-least-once) {@link KafkaSink} writing one record per event
 * of {@link #RECORD_BYTES} bytes — the job's delta topic with deltas of the size the issue aims
 * at (the goal is ≤ 500 B; a few bytes of ids and counters is the least a per-event output
 * carries). Left out on purpose, because they are the job's own work: the embedding calls, the
 * temporal buffering of item-enrich and the user-graph's vectors and timers.
 *
 * <p>The item join reads the item's state and forwards the event at once, joined or not (the
 * catalogue is small and read first in practice); it stores an item's first tag as its state.
 */
final class SameShapeBarePipeline {
    /** Bytes of the value of each output record: event time, count, action, ids, padding. */
    static final int RECORD_BYTES = 100;
    /** Events through the keyed read-modify-write (all subtasks, this JVM): the rate's counter. */
    static final LongAdder EVENTS = new LongAdder();

    private SameShapeBarePipeline() {}

    /** Where to read and write, and how. */
    static final class Settings {
        String bootstrap;
        String eventsTopic;
        String itemsTopic;
        String outputTopic;
        String transactionalIdPrefix;
        /** End offsets of the events topic; null: unbounded. */
        Map<org.apache.kafka.common.TopicPartition, Long> eventsEnd;
        boolean exactlyOnce = true;
        Duration outOfOrderness = Duration.ofSeconds(5);
        Duration idleness = Duration.ofHours(1);
        Duration transactionTimeout = Duration.ofMinutes(5);
    }

    /** Adds the pipeline to the environment. */
    static void build(StreamExecutionEnvironment env, Configuration config, Settings s) {
        InputLimits limits = InputLimits.from(config);
        KafkaSourceBuilder<InputRecord> events = source(s, s.eventsTopic, InputDeserializationSchema
                .forUserEvents(InputFormat.PROTOBUF, limits));
        KafkaSourceBuilder<InputRecord> items = source(s, s.itemsTopic, InputDeserializationSchema
                .forItems(InputFormat.PROTOBUF, limits));
        if (s.eventsEnd != null) {
            events.setBounded(OffsetsInitializer.offsets(s.eventsEnd));
            items.setBounded(OffsetsInitializer.latest());
        }
        DataStream<UserAction> actions = env
                .fromSource(events.build(), watermarks(s), "user-events source")
                .process(SplitDeadLetters.userEvents()).name("parse + validate user events");
        DataStream<ItemVersion> catalogue = env
                .fromSource(items.build(), watermarks(s), "item-catalog source")
                .process(SplitDeadLetters.items()).name("parse + validate items");
        Properties producer = new Properties();
        producer.setProperty("transaction.timeout.ms",
                String.valueOf(s.transactionTimeout.toMillis()));
        actions.keyBy(action -> action.itemId)
                .connect(catalogue.keyBy(item -> item.itemId))
                .process(new ItemJoin()).name("bare item join (keyed)")
                .keyBy(action -> action.userId)
                .process(new ReadModifyWrite()).name("bare keyed read-modify-write")
                .sinkTo(KafkaSink.<Out>builder()
                        .setBootstrapServers(s.bootstrap)
                        .setRecordSerializer(new OutSerializer(s.outputTopic))
                        .setDeliveryGuarantee(s.exactlyOnce ? DeliveryGuarantee.EXACTLY_ONCE
                                : DeliveryGuarantee.AT_LEAST_ONCE)
                        .setTransactionalIdPrefix(s.transactionalIdPrefix)
                        .setKafkaProducerConfig(producer)
                        .build())
                .name("bare sink (" + RECORD_BYTES + " B per event)");
    }

    private static KafkaSourceBuilder<InputRecord> source(Settings s, String topic,
            InputDeserializationSchema schema) {
        return KafkaSource.<InputRecord>builder()
                .setBootstrapServers(s.bootstrap)
                .setTopics(topic)
                .setGroupId(s.transactionalIdPrefix)
                .setDeserializer(schema)
                .setProperty("isolation.level", "read_committed")
                .setStartingOffsets(OffsetsInitializer.earliest());
    }

    /** The job's watermark strategy (InterestGraphPipeline#watermarks). */
    private static WatermarkStrategy<InputRecord> watermarks(Settings s) {
        return WatermarkStrategy.<InputRecord>forBoundedOutOfOrderness(s.outOfOrderness)
                .withTimestampAssigner((record, kafkaTimestamp) -> record.eventTimeMs())
                .withIdleness(s.idleness);
    }

    /** Keyed by item: the catalogue side stores the item's first tag, events read it. */
    static final class ItemJoin
            extends KeyedCoProcessFunction<String, UserAction, ItemVersion, EnrichedAction> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<String> tag;

        @Override
        public void open(Configuration parameters) {
            tag = getRuntimeContext().getState(new ValueStateDescriptor<>("tag", Types.STRING));
        }

        @Override
        public void processElement1(UserAction action, Context ctx,
                Collector<EnrichedAction> out) throws Exception {
            EnrichedAction joined = new EnrichedAction();
            joined.eventId = action.eventId;
            joined.userId = action.userId;
            joined.itemId = action.itemId;
            joined.action = action.action;
            joined.eventTimeMs = action.eventTimeMs;
            joined.value = action.value;
            String itemTag = tag.value();
            joined.terms = itemTag == null ? null : new String[] {itemTag};
            out.collect(joined);
        }

        @Override
        public void processElement2(ItemVersion item, Context ctx,
                Collector<EnrichedAction> out) throws Exception {
            String[] terms = item.labelTerms(1);
            tag.update(terms.length > 0 ? terms[0] : "");
        }
    }

    /** Keyed by user: one ValueState read-modify-write per event, one output per event. */
    static final class ReadModifyWrite extends KeyedProcessFunction<String, EnrichedAction, Out> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> count;

        @Override
        public void open(Configuration parameters) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
        }

        @Override
        public void processElement(EnrichedAction action, Context ctx, Collector<Out> out)
                throws Exception {
            Long current = count.value();
            long next = current == null ? 1L : current + 1;
            count.update(next);
            Out record = new Out();
            record.userId = action.userId;
            record.itemId = action.itemId;
            record.action = action.action.ordinal();
            record.eventTimeMs = action.eventTimeMs;
            record.count = next;
            out.collect(record);
            EVENTS.increment();
        }
    }

    /** The per-event output. */
    public static final class Out {
        public String userId;
        public String itemId;
        public int action;
        public long eventTimeMs;
        public long count;

        public Out() {}
    }

    /**
     * Key: the user id; value: exactly {@link #RECORD_BYTES} bytes, the event time first (the
     * freshness consumer reads it as the first long), then count, action, user and item ids,
     * zero-padded or cut.
     */
    static final class OutSerializer implements KafkaRecordSerializationSchema<Out> {
        private static final long serialVersionUID = 1L;
        private final String topic;

        OutSerializer(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(Out out, KafkaSinkContext context,
                Long timestamp) {
            ByteBuffer value = ByteBuffer.allocate(RECORD_BYTES);
            value.putLong(out.eventTimeMs).putLong(out.count).putInt(out.action);
            byte[] ids = (out.userId + "\u0000" + out.itemId).getBytes(StandardCharsets.UTF_8);
            value.put(ids, 0, Math.min(ids.length, value.remaining()));
            return new ProducerRecord<>(topic, out.userId.getBytes(StandardCharsets.UTF_8),
                    value.array());
        }
    }
}
