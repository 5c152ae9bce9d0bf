package dev.interestgraph.versions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.interestgraph.vector.CosineCalibration;
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
 * (triton-models/encoder/tuner.py) as JSON {@code {"model", "version", "applies_from_ms", "step"}}
 * and, since issue 19, {@code "cosine_calibration": {"base_mean", "base_std", "mean", "std",
 * "pairs"}}: the cosine statistics of version 1 and of this version over all pairs of a fixed
 * sample of item texts ({@link CosineCalibration}). An announcement without them (older tuners),
 * or with statistics that cannot describe a calibration, has none: the user-graph then keeps its
 * thresholds as configured for that version.
 */
public class ModelVersionAnnouncement {
    public String model;
    public String version;
    public long appliesFromMs;
    public long step;
    /** The version's cosine statistics against version 1's; null when announced without them. */
    public CosineCalibration cosineCalibration;

    public ModelVersionAnnouncement() {}

    public ModelVersionAnnouncement(String model, String version, long appliesFromMs, long step) {
        this.model = model;
        this.version = version;
        this.appliesFromMs = appliesFromMs;
        this.step = step;
    }

    public ModelVersionAnnouncement(String model, String version, long appliesFromMs, long step,
            CosineCalibration cosineCalibration) {
        this(model, version, appliesFromMs, step);
        this.cosineCalibration = cosineCalibration;
    }

    /** The announcement as the tuner writes it. */
    public String toJson() {
        ObjectNode json = MAPPER.createObjectNode().put("model", model).put("version", version)
                .put("applies_from_ms", appliesFromMs).put("step", step);
        if (cosineCalibration != null) {
            json.putObject("cosine_calibration").put("base_mean", cosineCalibration.baseMean)
                    .put("base_std", cosineCalibration.baseStd)
                    .put("mean", cosineCalibration.mean).put("std", cosineCalibration.std);
        }
        return json.toString();
    }

    @Override
    public String toString() {
        return "ModelVersionAnnouncement{" + model + " " + version + " from " + appliesFromMs
                + ", step " + step + (cosineCalibration == null ? "" : ", " + cosineCalibration)
                + "}";
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
                        appliesFrom.asLong(), json.path("step").asLong(0),
                        calibration(json.get("cosine_calibration")));
            } catch (IOException | NumberFormatException e) {
                return null;
            }
        }

        /**
         * The announced cosine statistics, or null when absent or unusable (a version is still
         * worth following without them: its thresholds stay as configured).
         */
        static CosineCalibration calibration(JsonNode node) {
            if (node == null || !node.isObject()) {
                return null;
            }
            JsonNode[] fields = {node.get("base_mean"), node.get("base_std"), node.get("mean"),
                    node.get("std")};
            for (JsonNode field : fields) {
                if (field == null || !field.isNumber()) {
                    return null;
                }
            }
            CosineCalibration calibration = CosineCalibration.of(fields[0].asDouble(),
                    fields[1].asDouble(), fields[2].asDouble(), fields[3].asDouble());
            return calibration == CosineCalibration.IDENTITY ? null : calibration;
        }

        @Override
        public TypeInformation<ModelVersionAnnouncement> getProducedType() {
            return TypeInformation.of(ModelVersionAnnouncement.class);
        }
    }
}
