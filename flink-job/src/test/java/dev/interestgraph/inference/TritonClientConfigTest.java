package dev.interestgraph.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.interestgraph.embed.EmbeddingClient;
import dev.interestgraph.embed.EmbeddingClientFactory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class TritonClientConfigTest {

    @Test
    void defaultsFollowTheContract() {
        TritonClientConfig config = TritonClientConfig.builder().endpoint("triton:8001").build();

        assertThat(config.host()).isEqualTo("triton");
        assertThat(config.port()).isEqualTo(8001);
        assertThat(config.modelName()).isEqualTo("item_encoder");
        assertThat(config.modelVersion()).isEmpty();
        assertThat(config.requestTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.tlsTrustCertPath()).isEmpty();
        assertThat(config.expectedDimension()).isEqualTo(384);
    }

    @Test
    void ipv6EndpointsNeedBrackets() {
        TritonClientConfig config = TritonClientConfig.builder().endpoint("[::1]:8001").build();

        assertThat(config.host()).isEqualTo("::1");
        assertThat(config.endpoint()).isEqualTo("[::1]:8001");
        assertThatThrownBy(() -> TritonClientConfig.builder().endpoint("::1:8001"))
                .hasMessageContaining("write IPv6 addresses as [addr]:port");
    }

    @Test
    void badValuesAreRejectedNamingTheSetting() {
        assertThatThrownBy(() -> TritonClientConfig.builder().endpoint("x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("triton.endpoint must be host:port, got 'x'");
        assertThatThrownBy(() -> TritonClientConfig.builder().endpoint("host:port"))
                .hasMessage("triton.endpoint must be host:port, got 'host:port' (the port is not a number)");
        assertThatThrownBy(() -> TritonClientConfig.builder().endpoint("host:70000"))
                .hasMessageContaining("(the port must be 1..65535)");
        assertThatThrownBy(() -> TritonClientConfig.builder().endpoint(":8001"))
                .hasMessage("triton.endpoint must be host:port, got ':8001'");
        assertThatThrownBy(() -> TritonClientConfig.builder().build())
                .hasMessageContaining("triton.endpoint is required");
        assertThatThrownBy(() -> TritonClientConfig.builder().modelName(" "))
                .hasMessage("triton.model must not be blank");
        assertThatThrownBy(() -> TritonClientConfig.builder().modelVersion("latest"))
                .hasMessage("triton.model-version must be empty (latest) or a positive integer, got 'latest'");
        assertThatThrownBy(() -> TritonClientConfig.builder().requestTimeout(Duration.ZERO))
                .hasMessage("triton.request-timeout must be positive, got PT0S");
        assertThatThrownBy(() -> TritonClientConfig.builder().expectedDimension(0))
                .hasMessage("triton.dimension must be positive, got 0");
        assertThatThrownBy(() -> TritonClientConfig.builder().tlsTrustCertPath(""))
                .hasMessageContaining("triton.tls.trust-cert must be a path to a PEM file");
    }

    @Test
    void anUnreadableTrustFileIsReportedWhenTheClientOpens() {
        TritonClientConfig config = TritonClientConfig.builder()
                .endpoint("localhost:8001").tlsTrustCertPath("/nonexistent/ca.pem").build();

        assertThatThrownBy(() -> new TritonEmbeddingClient(config))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("triton.tls.trust-cert: cannot read PEM certificates from '/nonexistent/ca.pem'")
                .hasMessageContaining("localhost:8001");
    }

    @Test
    void theFactorySurvivesJavaSerialisationAndOpensAClient() throws Exception {
        TritonClientFactory factory = new TritonClientFactory(TritonClientConfig.builder()
                .endpoint("10.0.0.5:8001").modelName("enc").modelVersion("3")
                .requestTimeout(Duration.ofMillis(1500)).expectedDimension(768).build());

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(factory);
        }
        EmbeddingClientFactory copy;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy = (EmbeddingClientFactory) in.readObject();
        }

        TritonClientConfig config = ((TritonClientFactory) copy).config();
        assertThat(config.endpoint()).isEqualTo("10.0.0.5:8001");
        assertThat(config.modelName()).isEqualTo("enc");
        assertThat(config.modelVersion()).isEqualTo("3");
        assertThat(config.requestTimeout()).isEqualTo(Duration.ofMillis(1500));
        try (EmbeddingClient client = copy.create()) {
            assertThat(client).isInstanceOf(TritonEmbeddingClient.class);
            assertThat(client.dimension()).isEqualTo(768);
        }
    }
}
