package dev.interestgraph.inference;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.embed.EmbeddingBatch;
import dev.interestgraph.embed.EmbeddingClient;
import dev.interestgraph.embed.EmbeddingClientFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddingBackendsTest {

    @Test
    void theEmbeddedServerServesTheVersionsOfEmbeddedModelRepository(@TempDir Path repository) throws Exception {
        ModelRepositories.publish(repository, 2);
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.EMBEDDED_MODEL_REPOSITORY, repository.toString());
        EmbeddingClientFactory factory = EmbeddingBackends.fromConfig(config);

        try (EmbeddingClient client = factory.create()) {
            client.checkReady();
            EmbeddingBatch two = client.embed(List.of("jazz quartet"), "2").get(60, TimeUnit.SECONDS);
            EmbeddingBatch one = client.embed(List.of("jazz quartet"), "1").get(60, TimeUnit.SECONDS);
            EmbeddingBatch latest = client.embed(List.of("jazz quartet")).get(60, TimeUnit.SECONDS);

            assertThat(two.modelVersion()).isEqualTo("2");
            assertThat(one.modelVersion()).isEqualTo("1");
            assertThat(latest.modelVersion()).isEqualTo("2");
            assertThat(latest.vectors().get(0)).containsExactly(two.vectors().get(0));
            // version 2 is a copy of the frozen model here: its own ONNX session, the same vectors
            assertThat(MiniLmEncoderTest.cosine(one.vectors().get(0), two.vectors().get(0))).isGreaterThan(0.99999);
        }
    }
}
