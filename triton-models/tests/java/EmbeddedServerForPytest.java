// The JVM's embedded inference server for triton-models/tests/test_embedded_server.py: serves
// item_encoder from the model repository given as the argument (version 1 built in, every
// published version from its ONNX model). Launched as a single-file source program:
// java -cp <tools classes + test classpath> EmbeddedServerForPytest.java <repository>
// Prints "EMBEDDED_READY <host:port>" and runs until stdin closes.
import dev.interestgraph.inference.EmbeddedInferenceServer;
import java.nio.file.Path;

public class EmbeddedServerForPytest {
    public static void main(String[] args) throws Exception {
        try (EmbeddedInferenceServer server = EmbeddedInferenceServer.builder()
                .modelRepository(Path.of(args[0])).workerThreads(2).build()) {
            System.out.println("EMBEDDED_READY " + server.endpoint());
            System.out.flush();
            while (System.in.read() >= 0) {
                // until the parent closes stdin (or dies)
            }
        }
    }
}
