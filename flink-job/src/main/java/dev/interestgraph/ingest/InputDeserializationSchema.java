package dev.interestgraph.ingest;

import dev.interestgraph.config.InterestGraphOptions.InputFormat;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Parses Kafka records inside the source. Never throws: a record that fails validation becomes a
 * {@link DeadLetter} with its reason and original bytes.
 */
public final class InputDeserializationSchema
        implements KafkaRecordDeserializationSchema<InputRecord> {
    private static final long serialVersionUID = 1L;

    private final UserEventParser userEvents;
    private final ItemEventParser items;

    private InputDeserializationSchema(UserEventParser userEvents, ItemEventParser items) {
        this.userEvents = userEvents;
        this.items = items;
    }

    /** For the {@code user-events} topic. */
    public static InputDeserializationSchema forUserEvents(InputFormat format, InputLimits limits) {
        return new InputDeserializationSchema(new UserEventParser(format, limits), null);
    }

    /** For the {@code item-catalog} topic. */
    public static InputDeserializationSchema forItems(InputFormat format, InputLimits limits) {
        return new InputDeserializationSchema(null, new ItemEventParser(format, limits));
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<InputRecord> out) {
        out.collect(parse(record.topic(), record.partition(), record.offset(), record.key(),
                record.value(), System.currentTimeMillis()));
    }

    /** Parses one record; public so that tests and replay tools share the exact same path. */
    public InputRecord parse(String topic, int partition, long offset, byte[] key, byte[] value,
            long nowMs) {
        try {
            return userEvents != null
                    ? InputRecord.of(userEvents.parse(value, nowMs))
                    : InputRecord.of(items.parse(value, nowMs));
        } catch (InvalidRecordException e) {
            return InputRecord.of(new DeadLetter(topic, partition, offset, e.reason(),
                    e.getMessage(), key, value));
        } catch (RuntimeException e) {
            // A parser bug must not take the job down either; the record is kept for inspection.
            return InputRecord.of(new DeadLetter(topic, partition, offset,
                    DeadLetterReason.WRONG_TYPE, "unexpected " + e.getClass().getSimpleName(), key,
                    value));
        }
    }

    @Override
    public TypeInformation<InputRecord> getProducedType() {
        return TypeInformation.of(InputRecord.class);
    }
}
