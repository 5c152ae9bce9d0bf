package dev.interestgraph.inference;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * TEST SUPPORT: publishes item_encoder versions into a model repository as the tuner does: a
 * complete ONNX model and its tokenizer per version folder, assembled under a hidden name and
 * renamed into place. The model is the frozen one (no Java code writes a fine-tuned ONNX model;
 * the pytest suite checks versions the PyTorch tuner exported against the JVM server).
 */
final class ModelRepositories {
    private static Path frozenFiles;

    private ModelRepositories() {}

    /** The classpath's model files, written once per JVM; versions hard-link them where possible. */
    private static synchronized Path frozenFiles() throws IOException {
        if (frozenFiles == null) {
            Path dir = Files.createTempDirectory("item-encoder-frozen-");
            dir.toFile().deleteOnExit();
            MiniLmEncoder.writeModelFiles(dir);
            frozenFiles = dir;
        }
        return frozenFiles;
    }

    static Path publish(Path repository, int version) throws IOException {
        Path staging = staging(repository, version);
        for (String name : new String[] {MiniLmEncoder.MODEL_FILE, MiniLmEncoder.TOKENIZER_FILE}) {
            Path source = frozenFiles().resolve(name);
            try {
                Files.createLink(staging.resolve(name), source);
            } catch (IOException | UnsupportedOperationException e) {
                Files.copy(source, staging.resolve(name));
            }
        }
        return rename(staging, version);
    }

    /** A version whose model file is not an ONNX model. */
    static Path publishBroken(Path repository, int version) throws IOException {
        Path staging = staging(repository, version);
        Files.writeString(staging.resolve(MiniLmEncoder.MODEL_FILE), "not an ONNX model");
        Files.copy(frozenFiles().resolve(MiniLmEncoder.TOKENIZER_FILE), staging.resolve(MiniLmEncoder.TOKENIZER_FILE));
        return rename(staging, version);
    }

    private static Path staging(Path repository, int version) throws IOException {
        Path model = Files.createDirectories(repository.resolve("item_encoder"));
        return Files.createDirectories(model.resolve(".staging-" + version));
    }

    private static Path rename(Path staging, int version) throws IOException {
        Path target = staging.resolveSibling(Integer.toString(version));
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }
}
