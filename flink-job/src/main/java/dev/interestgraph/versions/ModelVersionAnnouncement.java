package dev.interestgraph.versions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * "Version {@link #version} of {@link #model} applies to records with event time at or after
 * {@link #appliesFromMs}": one record of the {@code model-versions} topic, written by the tuner
 * (triton-models/encoder/tuner.py) as JSON {@code {"model", "version", "applies_from_ms", "step"}}.
 */
public class ModelVersionAnnouncement {
    public String model;
    public String version;
    public long appliesFromMs;
    public long step;

    public ModelVersionAnnouncement() {}

    public ModelVersionAnnouncement(String model, String version, long appliesFromMs, long step) {
        this.model = model;
        this.version = version;
        this.appliesFromMs = appliesFromMs;
        this.step = step;
    }

    /** The announcement as the tuner writes it. */
    public String toJson() {
        return MAPPER.createObjectNode().put("model", model).put("version", version)
                .put("applies_from_ms", appliesFromMs).put("step", step).toString();
    }

    @Override
    public String toString() {
        return "ModelVersionAnnouncement{" + model + " " + version + " from " + appliesFromMs
                + ", step " + step + "}";
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * Reads the topic, keeping the announcements of one model. The topic is a control channel
     * written by one tuner, not data: a record that is not an announcement is logged (it carries
     * no personal data) and skipped instead of stopping the job.
     */
    public static final class Deserializer
            implements KafkaRecordDeserializationSchema<ModelVersionAnnouncement> {
        private static final long serialVersionUID = 1L;
        private static final Logger LOG = LoggerFactory.getLogger(Deserializer.class);

        private final String model;

        public Deserializer(String model) {
            this.model = model;
        }

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record,
                Collector<ModelVersionAnnouncement> out) throws IOException {
            ModelVersionAnnouncement announcement = parse(record.value());
            if (announcement == null) {
                LOG.warn("Skipped a record of {} at partition {} offset {}: not a model-version "
                        + "announcement {{model, version, applies_from_ms}}", record.topic(),
                        record.partition(), record.offset());
            } else if (model.equals(announcement.model)) {
                out.collect(announcement);
            }
        }

        /** The announcement, or null when the bytes are not one. */
        public static ModelVersionAnnouncement parse(byte[] value) {
            if (value == null) {
                return null;
            }
            try {
                JsonNode json = MAPPER.readTree(value);
                JsonNode model = json.get("model");
                JsonNode version = json.get("version");
                JsonNode appliesFrom = json.get("applies_from_ms");
                if (model == null || !model.isTextual() || version == null
                        || version.asText().isBlank() || appliesFrom == null
                        || !appliesFrom.canConvertToLong()) {
                    return null;
                }
                // Triton versions are positive integers; "02" would be asked for as 02 and
                // answered as 2, and the job would refuse the answer
                long number = Long.parseLong(version.asText().trim());
                if (number < 1) {
                    return null;
                }
                return new ModelVersionAnnouncement(model.asText(), Long.toString(number),
                        appliesFrom.asLong(), json.path("step").asLong(0));
            } catch (IOException | NumberFormatException e) {
                return null;
            }
        }

        @Override
        public TypeInformation<ModelVersionAnnouncement> getProducedType() {
            return TypeInformation.of(ModelVersionAnnouncement.class);
        }
    }
}
