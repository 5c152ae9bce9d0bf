package dev.interestgraph.inference;

import static dev.interestgraph.config.InterestGraphOptions.*;

import dev.interestgraph.embed.EmbeddingBatch;
import dev.interestgraph.embed.EmbeddingClient;
import dev.interestgraph.embed.EmbeddingClientFactory;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.configuration.ReadableConfig;

/**
 * Chooses the embedding backend from the configuration: Triton at {@code --triton.endpoint}, or,
 * when it is not set, the embedded inference server started inside each task manager's JVM. Both
 * are spoken to with the same gRPC client, so the embedded default exercises the same path. The
 * embedded server serves the fine-tuned versions in {@code --embedded.model-repository} when set.
 */
public final class EmbeddingBackends {
    private EmbeddingBackends() {}

    public static EmbeddingClientFactory fromConfig(ReadableConfig config) {
        String endpoint = config.get(TRITON_ENDPOINT);
        if (endpoint == null || endpoint.isBlank()) {
            String repository = config.getOptional(EMBEDDED_MODEL_REPOSITORY)
                    .filter(path -> !path.isBlank()).orElse(null);
            return new EmbeddedServerFactory(clientConfig(config, null), repository);
        }
        return new TritonClientFactory(clientConfig(config, endpoint));
    }

    /**
     * Start-up check: connects once and runs the client's readiness checks (server live and
     * ready, model ready, metadata as expected), failing with the client's message.
     */
    public static void checkReady(EmbeddingClientFactory factory) {
        try (EmbeddingClient client = factory.create()) {
            client.checkReady();
        } catch (Exception e) {
            throw new IllegalStateException("Inference server check failed: " + e.getMessage()
                    + " (set --triton.endpoint to a running Triton, or leave it unset for the "
                    + "embedded server)", e);
        }
    }

    /** Builds the client configuration, turning builder errors into start-up errors. */
    static TritonClientConfig clientConfig(ReadableConfig config, String endpoint) {
        try {
            TritonClientConfig.Builder builder = TritonClientConfig.builder()
                    .endpoint(endpoint == null ? "127.0.0.1:1" : endpoint)
                    .modelName(config.get(TRITON_MODEL))
                    .modelVersion(config.get(TRITON_MODEL_VERSION))
                    .requestTimeout(config.get(TRITON_REQUEST_TIMEOUT))
                    .expectedDimension(config.get(TRITON_DIMENSION));
            config.getOptional(TRITON_TLS_TRUST_CERT).ifPresent(builder::tlsTrustCertPath);
            return builder.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalConfigurationException("Invalid inference configuration: "
                    + e.getMessage(), e);
        }
    }

    /**
     * Starts (once per JVM and model repository) the embedded inference server and connects a gRPC
     * client to it. The server stays up while any client uses it.
     */
    static final class EmbeddedServerFactory implements EmbeddingClientFactory {
        private static final long serialVersionUID = 1L;
        /** Keyed by model repository ("" for none): jobs in one JVM with different ones get their own. */
        private static final Map<String, SharedServer> servers = new HashMap<>();

        private static final class SharedServer {
            final EmbeddedInferenceServer server;
            int users;

            SharedServer(EmbeddedInferenceServer server) {
                this.server = server;
            }
        }

        private final TritonClientConfig template;
        /** The embedded.model-repository folder, or null: version 1 only. */
        private final String modelRepository;

        EmbeddedServerFactory(TritonClientConfig template) {
            this(template, null);
        }

        EmbeddedServerFactory(TritonClientConfig template, String modelRepository) {
            this.template = template;
            this.modelRepository = modelRepository;
        }

        @Override
        public EmbeddingClient create() throws Exception {
            String key = modelRepository == null ? "" : modelRepository;
            String endpoint = acquire(key);
            TritonClientConfig config = TritonClientConfig.builder()
                    .endpoint(endpoint)
                    .modelName(template.modelName())
                    .modelVersion(template.modelVersion())
                    .requestTimeout(template.requestTimeout())
                    .expectedDimension(template.expectedDimension())
                    .build();
            TritonEmbeddingClient client = new TritonEmbeddingClient(config);
            return new EmbeddingClient() {
                @Override
                public void checkReady() throws Exception {
                    client.checkReady();
                }

                @Override
                public int dimension() {
                    return client.dimension();
                }

                @Override
                public CompletableFuture<EmbeddingBatch> embed(List<String> texts) {
                    return client.embed(texts);
                }

                @Override
                public CompletableFuture<EmbeddingBatch> embed(List<String> texts, String modelVersion) {
                    return client.embed(texts, modelVersion);
                }

                @Override
                public void close() {
                    client.close();
                    release(key);
                }
            };
        }

        private static synchronized String acquire(String repository) {
            SharedServer shared = servers.computeIfAbsent(repository, r -> new SharedServer(
                    EmbeddedInferenceServer.builder().modelRepository(r.isEmpty() ? null : Path.of(r)).build()));
            shared.users++;
            return shared.server.endpoint();
        }

        private static synchronized void release(String repository) {
            SharedServer shared = servers.get(repository);
            if (--shared.users == 0) {
                shared.server.close();
                servers.remove(repository);
            }
        }
    }
}
