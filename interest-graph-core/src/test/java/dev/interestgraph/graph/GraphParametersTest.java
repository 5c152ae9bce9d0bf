package dev.interestgraph.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.interestgraph.model.Action;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class GraphParametersTest {
    @Test
    void theBuilderSetsWhatItIsGiven() {
        GraphParameters parameters = GraphParameters.builder().maxInterests(4)
                .flushInterval(Duration.ofMillis(250)).actionWeight(Action.CART, 0.9).build();
        assertThat(parameters.maxInterests).isEqualTo(4);
        assertThat(parameters.flushIntervalMs).isEqualTo(250);
        assertThat(parameters.actionWeight(Action.CART, 0)).isEqualTo(0.9);
        assertThat(parameters.actionWeight(Action.RATE, 5.0)).isEqualTo(1.0);
        assertThat(parameters.actionWeight(Action.RATE, 0.0)).isEqualTo(-1.0);
    }

    @Test
    void theBuilderRejectsWhatTheSemanticsCannotUse() {
        assertThatThrownBy(() -> GraphParameters.builder().flushInterval(Duration.ZERO).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("flush");
        assertThatThrownBy(() -> GraphParameters.builder().maxInterests(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("interests");
        assertThatThrownBy(() -> GraphParameters.builder().interestJoinThreshold(1.5).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cosine");
        assertThatThrownBy(() -> GraphParameters.builder().actionWeight(Action.RATE, 1.0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("RATE");
    }
}
