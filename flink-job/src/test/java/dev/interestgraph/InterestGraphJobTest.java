package dev.interestgraph;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.junit.jupiter.api.Test;

/** What a user sees when the job cannot start. */
class InterestGraphJobTest {

    @Test
    void anUnreachableInferenceServerFailsTheStartNamingTheEndpoint() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        String endpoint = "127.0.0.1:" + closedPort;
        assertThatThrownBy(() -> InterestGraphJob.main(new String[] {
                "--kafka.bootstrap", "127.0.0.1:9092", "--triton.endpoint", endpoint}))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot reach")
                .hasMessageContaining(endpoint)
                .hasMessageContaining("--triton.endpoint");
    }

    @Test
    void badConfigurationFailsTheStartNamingEveryKey() {
        assertThatThrownBy(() -> InterestGraphJob.main(new String[] {
                "--graph.max-interests", "0", "--graph.halflife", "3 d"}))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("kafka.bootstrap is required")
                .hasMessageContaining("graph.max-interests must be in [1, 64], got 0")
                .hasMessageContaining("unknown option 'graph.halflife'")
                .hasMessageContaining("graph.half-life");
    }
}
