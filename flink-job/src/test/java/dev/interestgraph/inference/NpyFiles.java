package dev.interestgraph.inference;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * TEST SUPPORT: writes a 2-D float32 {@code .npy} file byte for byte as numpy 1.26's {@code
 * np.save} does (format 1.0, header padded with spaces to a multiple of 64 bytes). {@link NpyTest}
 * checks it against files numpy wrote, so tests can publish adapters without Python.
 */
final class NpyFiles {
    private NpyFiles() {}

    static byte[] float32Matrix(int rows, int cols, float[] data) {
        if (data.length != rows * cols) {
            throw new IllegalArgumentException(data.length + " values for a " + rows + "x" + cols + " matrix");
        }
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
        int unpadded = 6 + 2 + 2 + dict.length() + 1; // magic, version, length, dict, '\n'
        String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
        ByteBuffer buffer = ByteBuffer.allocate(10 + header.length() + data.length * Float.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        buffer.putShort((short) header.length());
        buffer.put(header.getBytes(StandardCharsets.US_ASCII));
        buffer.asFloatBuffer().put(data);
        return buffer.array();
    }

    static void writeFloat32Matrix(Path file, int rows, int cols, float[] data) throws IOException {
        Files.write(file, float32Matrix(rows, cols, data));
    }
}
