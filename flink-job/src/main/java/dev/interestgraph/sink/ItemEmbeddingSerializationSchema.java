package dev.interestgraph.sink;

import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.proto.v1.ItemEmbedding;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Item embeddings as protobuf {@code ItemEmbedding}, keyed by item id (a compacted topic). */
public final class ItemEmbeddingSerializationSchema
        implements KafkaRecordSerializationSchema<ItemVersion> {
    private static final long serialVersionUID = 1L;

    private final String topic;

    public ItemEmbeddingSerializationSchema(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(ItemVersion item, KafkaSinkContext context,
            Long timestamp) {
        ItemEmbedding.Builder message = ItemEmbedding.newBuilder()
                .setItemId(item.itemId)
                .setUpdatedMs(item.updatedMs)
                .setModelVersion(item.modelVersion);
        for (float value : item.embedding) {
            message.addEmbedding(value);
        }
        return new ProducerRecord<>(topic, null, item.updatedMs,
                item.itemId.getBytes(StandardCharsets.UTF_8), message.build().toByteArray());
    }
}
