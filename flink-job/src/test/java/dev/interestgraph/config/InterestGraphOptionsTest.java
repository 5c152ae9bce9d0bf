package dev.interestgraph.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.model.Action;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.junit.jupiter.api.Test;

class InterestGraphOptionsTest {

    private static Configuration valid() {
        return InterestGraphOptions.fromArgs(new String[] {"--kafka.bootstrap", "broker:9092"});
    }

    private static String validationMessage(Configuration config) {
        try {
            InterestGraphOptions.validate(config);
        } catch (IllegalConfigurationException e) {
            return e.getMessage();
        }
        throw new AssertionError("expected validate() to reject " + config);
    }

    private static int occurrences(String text, String part) {
        int count = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
            count++;
        }
        return count;
    }

    @Test
    void fromArgsReadsKeyValuePairs() {
        Configuration config = InterestGraphOptions.fromArgs(new String[] {
            "--kafka.bootstrap", "a:9092,b:9093", "--graph.max-interests", "8"});

        assertThat(config.get(InterestGraphOptions.KAFKA_BOOTSTRAP)).isEqualTo("a:9092,b:9093");
        assertThat(config.get(InterestGraphOptions.MAX_INTERESTS)).isEqualTo(8);
    }

    @Test
    void fromArgsReadsKeyEqualsValueKeepingLaterEqualsSigns() {
        Configuration config = InterestGraphOptions.fromArgs(new String[] {
            "--graph.half-life=12 h", "--kafka.properties.sasl.jaas.config=a=b"});

        assertThat(config.get(InterestGraphOptions.EDGE_HALF_LIFE)).isEqualTo(Duration.ofHours(12));
        assertThat(config.toMap()).containsEntry("kafka.properties.sasl.jaas.config", "a=b");
    }

    @Test
    void fromArgsTreatsBareFlagAsTrue() {
        Configuration config = InterestGraphOptions.fromArgs(new String[] {
            "--kafka.bounded", "--kafka.bootstrap", "h:1"});

        assertThat(config.get(InterestGraphOptions.KAFKA_BOUNDED)).isTrue();
        assertThat(config.get(InterestGraphOptions.KAFKA_BOOTSTRAP)).isEqualTo("h:1");
    }

    @Test
    void fromArgsTreatsTrailingBareFlagAsTrue() {
        Configuration config = InterestGraphOptions.fromArgs(new String[] {"--kafka.bounded"});

        assertThat(config.get(InterestGraphOptions.KAFKA_BOUNDED)).isTrue();
    }

    @Test
    void fromArgsAcceptsNegativeNumberAsValue() {
        Configuration config = InterestGraphOptions.fromArgs(new String[] {
            "--graph.action-weight.dislike", "-2.5"});

        assertThat(config.get(InterestGraphOptions.WEIGHT_DISLIKE)).isEqualTo(-2.5);
    }

    @Test
    void fromArgsRejectsUnexpectedPositionalArgumentWithHelpfulMessage() {
        assertThatThrownBy(() -> InterestGraphOptions.fromArgs(new String[] {
            "--kafka.bootstrap", "h:1", "extra", "--x", "y"}))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("'extra'")
                .hasMessageContaining("--key value");
        assertThatThrownBy(() -> InterestGraphOptions.fromArgs(new String[] {"positional"}))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("'positional'");
        assertThatThrownBy(() -> InterestGraphOptions.fromArgs(new String[] {"--"}))
                .isInstanceOf(IllegalConfigurationException.class);
    }

    @Test
    void validConfigurationWithDefaultsPasses() {
        assertThatCode(() -> InterestGraphOptions.validate(valid())).doesNotThrowAnyException();
    }

    @Test
    void fullyConfiguredValidConfigurationPasses() {
        Configuration config = InterestGraphOptions.fromArgs(new String[] {
            "--kafka.bootstrap", "k1:9092,k2:9092", "--kafka.topic.events", "ev",
            "--kafka.topic.items", "it", "--kafka.topic.deltas", "de",
            "--kafka.topic.dead-letters", "dl", "--kafka.group-id", "g",
            "--kafka.starting-offsets", "LATEST", "--kafka.bounded", "true",
            "--kafka.transactional-id-prefix", "ig-prod", "--kafka.transaction-timeout", "5 min",
            "--input.format", "PROTOBUF", "--input.max-id-length", "64",
            "--input.max-text-length", "1000", "--input.max-future-skew", "1 h",
            "--watermark.max-out-of-orderness", "10 s", "--watermark.idleness", "1 min",
            "--graph.half-life", "7 d", "--graph.prune-threshold", "0.01",
            "--graph.max-edges-per-user", "500", "--graph.max-interests", "10",
            "--graph.interest-join-threshold", "0.6", "--graph.interest-top-items", "3",
            "--profile.long-term-half-life", "60 d", "--profile.short-term-half-life", "2 d",
            "--graph.flush-interval", "500 ms", "--graph.sweep-interval", "6 h",
            "--graph.idle-ttl", "90 d", "--graph.action-weight.view", "0.2",
            "--graph.action-weight.dislike", "-2", "--job.max-parallelism", "256",
            "--embedding.max-in-flight", "16", "--embedding.timeout", "10 s",
            "--kafka.properties.security.protocol", "SASL_SSL"});

        assertThatCode(() -> InterestGraphOptions.validate(config)).doesNotThrowAnyException();
        assertThat(config.get(InterestGraphOptions.INPUT_FORMAT))
                .isEqualTo(InterestGraphOptions.InputFormat.PROTOBUF);
        assertThat(config.get(InterestGraphOptions.PROFILE_SHORT_HALF_LIFE))
                .isEqualTo(Duration.ofDays(2));
    }

    @Test
    void missingBootstrapIsReported() {
        String message = validationMessage(new Configuration());

        assertThat(message).contains("kafka.bootstrap is required");
    }

    @Test
    void bootstrapWithoutPortIsReported() {
        Configuration config = valid();
        config.setString("kafka.bootstrap", "broker");

        assertThat(validationMessage(config)).contains("kafka.bootstrap").contains("host:port");
    }

    @Test
    void maxInterestsZeroNamesKeyAndRange() {
        Configuration config = valid();
        config.setString("graph.max-interests", "0");

        assertThat(validationMessage(config))
                .contains("graph.max-interests must be in [1, 64], got 0");
    }

    @Test
    void negativePruneThresholdNamesKeyAndRange() {
        Configuration config = valid();
        config.setString("graph.prune-threshold", "-1");

        assertThat(validationMessage(config))
                .contains("graph.prune-threshold must be in [0.0, 100.0], got -1.0");
    }

    @Test
    void interestJoinThresholdAboveOneNamesKeyAndRange() {
        Configuration config = valid();
        config.setString("graph.interest-join-threshold", "2");

        assertThat(validationMessage(config))
                .contains("graph.interest-join-threshold must be in [-1.0, 1.0], got 2.0");
    }

    @Test
    void nanDoubleIsOutOfRange() {
        Configuration config = valid();
        config.setString("graph.prune-threshold", "NaN");

        assertThat(validationMessage(config)).contains("graph.prune-threshold");
    }

    @Test
    void everyOutOfRangeValueIsReportedAtOnce() {
        Configuration config = valid();
        config.setString("graph.max-interests", "0");
        config.setString("graph.prune-threshold", "-1");
        config.setString("graph.interest-join-threshold", "2");

        assertThat(validationMessage(config)).contains("graph.max-interests")
                .contains("graph.prune-threshold").contains("graph.interest-join-threshold");
    }

    @Test
    void unparsableDurationNamesKeyExactlyOnce() {
        Configuration config = valid();
        config.setString("graph.half-life", "soon");

        String message = validationMessage(config);

        assertThat(message).contains("graph.half-life");
        assertThat(occurrences(message, "graph.half-life")).isEqualTo(1);
    }

    @Test
    void unparsableIntegerFromBareFlagNamesKey() {
        Configuration config = InterestGraphOptions.fromArgs(new String[] {
            "--kafka.bootstrap", "h:1", "--graph.max-interests"});

        assertThat(validationMessage(config)).contains("graph.max-interests");
    }

    @Test
    void durationOutOfRangeNamesKeyAndBounds() {
        Configuration config = valid();
        config.setString("graph.emit-interval", "2 d");

        assertThat(validationMessage(config)).contains("graph.emit-interval must be between");
    }

    @Test
    void theEmitIntervalIsStillReadFromItsFormerKey() {
        Configuration config = valid();
        config.setString("graph.flush-interval", "2 s");

        InterestGraphOptions.validate(config); // a known key, not a typo
        assertThat(config.get(InterestGraphOptions.EMIT_INTERVAL)).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void shortTermHalfLifeLongerThanLongTermIsReported() {
        Configuration config = valid();
        config.setString("profile.short-term-half-life", "90 d");

        assertThat(validationMessage(config)).contains("profile.short-term-half-life")
                .contains("profile.long-term-half-life");
    }

    @Test
    void invalidTopicNameIsReported() {
        Configuration config = valid();
        config.setString("kafka.topic.events", "bad topic!");

        assertThat(validationMessage(config)).contains("kafka.topic.events");
    }

    @Test
    void unparsableInputFormatIsReportedNamingTheKey() {
        Configuration config = valid();
        config.setString("input.format", "XML");

        assertThat(validationMessage(config)).contains("input.format");
    }

    @Test
    void kafkaPropertiesArePassedThroughWithPrefixStripped() {
        Configuration config = InterestGraphOptions.fromArgs(new String[] {
            "--kafka.bootstrap", "h:1",
            "--kafka.properties.security.protocol", "SASL_SSL",
            "--kafka.properties.sasl.mechanism=PLAIN"});

        Properties properties = InterestGraphOptions.kafkaClientProperties(config);

        assertThat(properties).hasSize(2)
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "PLAIN");
    }

    @Test
    void fineTuningNamesWhatItIsMissingAtStartUp() {
        Configuration embedded = InterestGraphOptions.fromArgs(new String[] {
            "--kafka.bootstrap", "h:1", "--fine-tune.enabled", "true",
            "--triton.model-version", "2"});
        assertThatThrownBy(() -> InterestGraphOptions.validate(embedded))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("unset triton.model-version")
                .hasMessageContaining("embedded.model-repository")
                .hasMessageContaining("fine-tune.tuner.endpoint");

        Configuration following = InterestGraphOptions.fromArgs(new String[] {
            "--kafka.bootstrap", "h:1", "--fine-tune.enabled", "true",
            "--fine-tune.training.enabled", "false", "--embedded.model-repository", "/tmp/m"});
        InterestGraphOptions.validate(following);

        Configuration withTriton = InterestGraphOptions.fromArgs(new String[] {
            "--kafka.bootstrap", "h:1", "--fine-tune.enabled", "true",
            "--triton.endpoint", "triton:8001", "--fine-tune.batch-size", "1"});
        assertThatThrownBy(() -> InterestGraphOptions.validate(withTriton))
                .hasMessageContaining("fine-tune.batch-size");
        withTriton.set(InterestGraphOptions.FINE_TUNE_BATCH_SIZE, 16);
        InterestGraphOptions.validate(withTriton); // the tuner defaults to triton.endpoint
        withTriton.set(InterestGraphOptions.FINE_TUNE_BATCH_WINDOW, Duration.ofMillis(1500));
        assertThatThrownBy(() -> InterestGraphOptions.validate(withTriton))
                .hasMessageContaining("multiple of graph.emit-interval");
    }

    @Test
    void theCoresGraphDefaultsAreTheOptionsDefaults() throws Exception {
        // the core cannot read ConfigOptions: its builder repeats their defaults, kept equal here
        GraphParameters fromOptions = InterestGraphOptions.graphParameters(new Configuration());
        GraphParameters core = GraphParameters.defaults();
        for (Field field : GraphParameters.class.getFields()) {
            if (!Modifier.isStatic(field.getModifiers())) {
                assertThat(field.get(fromOptions)).as(field.getName()).isEqualTo(field.get(core));
            }
        }
        for (Action action : Action.values()) {
            assertThat(fromOptions.actionWeight(action, 4.0)).as(action.name())
                    .isEqualTo(core.actionWeight(action, 4.0));
        }
    }

    @Test
    void graphParametersFollowTheOptions() {
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.MAX_INTERESTS, 3);
        config.set(InterestGraphOptions.WEIGHT_VIEW, 0.25);
        GraphParameters parameters = InterestGraphOptions.graphParameters(config);
        assertThat(parameters.maxInterests).isEqualTo(3);
        assertThat(parameters.actionWeight(Action.VIEW, 0)).isEqualTo(0.25);
    }

    @Test
    void recommenderWeightsComeFromTheOptionsWithTheRecommendersDefaults() {
        dev.interestgraph.recommend.Recommender.Weights defaults =
                new dev.interestgraph.recommend.Recommender.Weights();
        dev.interestgraph.recommend.Recommender.Weights unset =
                InterestGraphOptions.recommenderWeights(valid());
        assertThat(unset.neighbours).isEqualTo(defaults.neighbours);
        assertThat(unset.community).isEqualTo(defaults.community);
        assertThat(unset.popularity).isEqualTo(defaults.popularity);
        assertThat(unset.interests).isEqualTo(defaults.interests);
        assertThat(unset.shortTerm).isEqualTo(defaults.shortTerm);

        Configuration config = InterestGraphOptions.fromArgs(new String[] {
            "--kafka.bootstrap", "broker:9092", "--recommend.weight.community", "0.25",
            "--recommend.weight.neighbours", "2", "--recommend.cold-start-edges", "5",
            "--graph.half-life", "7 d"});
        InterestGraphOptions.validate(config);
        dev.interestgraph.recommend.Recommender.Weights set =
                InterestGraphOptions.recommenderWeights(config);
        assertThat(set.community).isEqualTo(0.25);
        assertThat(set.neighbours).isEqualTo(2.0);
        assertThat(set.coldStartEdges).isEqualTo(5);
        assertThat(set.halfLifeMs).isEqualTo(Duration.ofDays(7).toMillis());

        Configuration negative = valid();
        negative.setString("recommend.weight.popularity", "-1");
        assertThat(validationMessage(negative)).contains("recommend.weight.popularity");
    }
    @Test
    void graphOrderingReadsBothSpellingsAndDefaultsToEventTime() {
        assertThat(valid().get(InterestGraphOptions.GRAPH_ORDERING))
                .isEqualTo(InterestGraphOptions.GraphOrdering.EVENT_TIME);
        Configuration arrival = InterestGraphOptions.fromArgs(new String[] {
            "--kafka.bootstrap", "broker:9092", "--graph.ordering", "arrival",
            "--graph.emit-interval", "0 ms"});
        InterestGraphOptions.validate(arrival); // 0: a delta per action, arrival order only
        assertThat(arrival.get(InterestGraphOptions.GRAPH_ORDERING))
                .isEqualTo(InterestGraphOptions.GraphOrdering.ARRIVAL);
        // the event-time slots still need a positive width for maintenance ticks
        assertThat(InterestGraphOptions.graphParameters(arrival).flushIntervalMs).isEqualTo(1);
    }

    @Test
    void arrivalOrderWithFineTuningFailsNamingBothKeys() {
        Configuration config = valid();
        config.setString("graph.ordering", "arrival");
        config.setString("fine-tune.enabled", "true");
        assertThat(validationMessage(config)).contains("graph.ordering arrival")
                .contains("fine-tune.enabled").contains("--graph.ordering event-time");
    }

    @Test
    void anEmitIntervalOfZeroNeedsArrivalOrder() {
        Configuration config = valid();
        config.setString("graph.emit-interval", "0 ms");
        assertThat(validationMessage(config)).contains("graph.emit-interval 0")
                .contains("--graph.ordering arrival");
    }

    @Test
    void anUnknownOrderingIsReportedWithItsKey() {
        Configuration config = valid();
        config.setString("graph.ordering", "processing-time");
        assertThat(validationMessage(config)).contains("graph.ordering");
    }
}
