package dev.interestgraph.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.interestgraph.embed.EmbeddingBatch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded server with TLS, a self-signed certificate made by the JDK's keytool. */
class TlsRoundTripTest {
    private static final char[] PASSWORD = "changeit".toCharArray();

    @TempDir
    static Path dir;

    private static Path certificate;
    private static EmbeddedInferenceServer server;

    @BeforeAll
    static void start() throws Exception {
        KeyStore store = selfSigned("server");
        certificate = pem(dir.resolve("server.crt"), "CERTIFICATE", store.getCertificate("server").getEncoded());
        // PKCS#8, which is what getEncoded() gives for an RSA private key and what the server reads.
        Path privateKey = pem(dir.resolve("server.key"), "PRIVATE KEY", store.getKey("server", PASSWORD).getEncoded());

        server = EmbeddedInferenceServer.builder().tls(certificate.toFile(), privateKey.toFile()).build();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** A new RSA key and a certificate for 127.0.0.1, made by keytool, as a loaded keystore. */
    private static KeyStore selfSigned(String alias) throws Exception {
        Path file = dir.resolve(alias + ".p12");
        // The client dials 127.0.0.1, so the certificate must name that address.
        Process keytool = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", alias, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
                "-storetype", "PKCS12", "-keystore", file.toString(),
                "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD))
                .redirectErrorStream(true)
                .start();
        String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).as("keytool finished").isTrue();
        assertThat(keytool.exitValue()).as("keytool: %s", output).isZero();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            store.load(in, PASSWORD);
        }
        return store;
    }

    private static Path pem(Path file, String type, byte[] der) throws IOException {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return Files.writeString(file, "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n");
    }

    @Test
    void aClientTrustingTheCertificateRoundTrips() throws Exception {
        TritonClientConfig config = TritonClientConfig.builder()
                .endpoint(server.endpoint()).tlsTrustCertPath(certificate.toString()).build();
        try (TritonEmbeddingClient client = new TritonEmbeddingClient(config);
                MiniLmEncoder encoder = MiniLmEncoder.load()) {
            client.checkReady();
            EmbeddingBatch batch = client.embed(List.of("encrypted on the wire")).get(30, TimeUnit.SECONDS);

            float[] expected = encoder.encode(List.of("encrypted on the wire"))[0];
            assertThat(batch.vectors().get(0)).containsExactly(expected, within(1e-6f));
        }
    }

    @Test
    void aPlaintextClientCannotTalkToATlsServer() {
        TritonClientConfig config = TritonClientConfig.builder().endpoint(server.endpoint()).build();
        try (TritonEmbeddingClient client = new TritonEmbeddingClient(config)) {
            assertThatThrownBy(client::checkReady)
                    .isInstanceOf(InferenceException.class)
                    .hasMessageContaining("cannot reach Triton at " + server.endpoint());
        }
    }

    @Test
    void aClientTrustingAnotherCertificateIsRejected() throws Exception {
        // A certificate for the same address, but of another key than the server's.
        Path other = pem(dir.resolve("other.crt"), "CERTIFICATE", selfSigned("other").getCertificate("other").getEncoded());

        TritonClientConfig config = TritonClientConfig.builder()
                .endpoint(server.endpoint()).tlsTrustCertPath(other.toString()).build();
        try (TritonEmbeddingClient client = new TritonEmbeddingClient(config)) {
            assertThatThrownBy(client::checkReady)
                    .isInstanceOf(InferenceException.class)
                    .hasMessageContaining("cannot reach Triton at " + server.endpoint());
        }
    }
}
