package dev.interestgraph.inference;

import java.io.Serializable;
import java.time.Duration;
import java.util.Optional;

/**
 * Where and how {@link TritonEmbeddingClient} reaches a Triton (or any Open Inference Protocol)
 * server. Immutable and serialisable, so that it travels inside the job graph; build it with
 * {@link #builder()}, which rejects bad values with a message naming the setting.
 */
public final class TritonClientConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final String host;
    private final int port;
    private final String modelName;
    private final String modelVersion;
    private final Duration requestTimeout;
    private final String tlsTrustCertPath;
    private final int expectedDimension;

    private TritonClientConfig(Builder builder) {
        this.host = builder.host;
        this.port = builder.port;
        this.modelName = builder.modelName;
        this.modelVersion = builder.modelVersion;
        this.requestTimeout = builder.requestTimeout;
        this.tlsTrustCertPath = builder.tlsTrustCertPath;
        this.expectedDimension = builder.expectedDimension;
    }

    public static Builder builder() {
        return new Builder();
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** {@code host:port} as configured, for messages. */
    public String endpoint() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    public String modelName() {
        return modelName;
    }

    /** The requested model version; empty means whatever the server considers latest. */
    public String modelVersion() {
        return modelVersion;
    }

    /** The deadline of each call, readiness checks included. */
    public Duration requestTimeout() {
        return requestTimeout;
    }

    /** A PEM file of certificates to trust; present iff the connection uses TLS. */
    public Optional<String> tlsTrustCertPath() {
        return Optional.ofNullable(tlsTrustCertPath);
    }

    public int expectedDimension() {
        return expectedDimension;
    }

    @Override
    public String toString() {
        return "TritonClientConfig{endpoint=" + endpoint() + ", model=" + modelName
                + ", version=" + (modelVersion.isEmpty() ? "latest" : modelVersion)
                + ", requestTimeout=" + requestTimeout + ", tls=" + (tlsTrustCertPath != null)
                + ", dimension=" + expectedDimension + "}";
    }

    /** Builds a {@link TritonClientConfig}; only the endpoint is required. */
    public static final class Builder {
        private String host;
        private int port;
        private String modelName = InferenceContract.MODEL_NAME;
        private String modelVersion = "";
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private String tlsTrustCertPath;
        private int expectedDimension = MiniLmEncoder.DIMENSION;

        private Builder() {}

        /** {@code host:port} of Triton's gRPC port (8001 by default); IPv6 as {@code [::1]:8001}. */
        public Builder endpoint(String endpoint) {
            String bad = "triton.endpoint must be host:port, got '" + endpoint + "'";
            if (endpoint == null) {
                throw new IllegalArgumentException(bad);
            }
            String trimmed = endpoint.trim();
            int colon = trimmed.lastIndexOf(':');
            if (colon <= 0 || colon == trimmed.length() - 1) {
                throw new IllegalArgumentException(bad);
            }
            String hostPart = trimmed.substring(0, colon);
            if (hostPart.startsWith("[") && hostPart.endsWith("]")) {
                hostPart = hostPart.substring(1, hostPart.length() - 1);
            } else if (hostPart.contains(":")) {
                throw new IllegalArgumentException(bad + " (write IPv6 addresses as [addr]:port)");
            }
            if (hostPart.isBlank() || hostPart.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException(bad);
            }
            int parsedPort;
            try {
                parsedPort = Integer.parseInt(trimmed.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(bad + " (the port is not a number)");
            }
            if (parsedPort < 1 || parsedPort > 65535) {
                throw new IllegalArgumentException(bad + " (the port must be 1..65535)");
            }
            this.host = hostPart;
            this.port = parsedPort;
            return this;
        }

        /** Defaults to {@value InferenceContract#MODEL_NAME}. */
        public Builder modelName(String modelName) {
            if (modelName == null || modelName.isBlank()) {
                throw new IllegalArgumentException("triton.model must not be blank");
            }
            this.modelName = modelName.trim();
            return this;
        }

        /** A positive integer, or empty (the default) for the latest version the server has. */
        public Builder modelVersion(String modelVersion) {
            String version = modelVersion == null ? "" : modelVersion.trim();
            if (!version.isEmpty() && !version.matches("[1-9][0-9]{0,18}")) {
                throw new IllegalArgumentException("triton.model-version must be empty (latest) or a"
                        + " positive integer, got '" + modelVersion + "'");
            }
            this.modelVersion = version;
            return this;
        }

        /** The deadline of each call; defaults to 10 s. */
        public Builder requestTimeout(Duration requestTimeout) {
            if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
                throw new IllegalArgumentException("triton.request-timeout must be positive, got " + requestTimeout);
            }
            this.requestTimeout = requestTimeout;
            return this;
        }

        /**
         * Connects with TLS, trusting the certificates in this PEM file. The file is read when the
         * client opens (on the task manager), so it is not checked here.
         */
        public Builder tlsTrustCertPath(String path) {
            if (path == null || path.isBlank()) {
                throw new IllegalArgumentException("triton.tls.trust-cert must be a path to a PEM file, got '"
                        + path + "'");
            }
            this.tlsTrustCertPath = path.trim();
            return this;
        }

        /** The vector length the model must produce; defaults to {@value MiniLmEncoder#DIMENSION}. */
        public Builder expectedDimension(int expectedDimension) {
            if (expectedDimension < 1) {
                throw new IllegalArgumentException("triton.dimension must be positive, got " + expectedDimension);
            }
            this.expectedDimension = expectedDimension;
            return this;
        }

        public TritonClientConfig build() {
            if (host == null) {
                throw new IllegalArgumentException("triton.endpoint is required (host:port of Triton's gRPC port,"
                        + " e.g. localhost:8001)");
            }
            return new TritonClientConfig(this);
        }
    }
}
