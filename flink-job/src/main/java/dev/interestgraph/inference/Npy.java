package dev.interestgraph.inference;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the one kind of numpy {@code .npy} file this project exchanges: a 2-D float32 matrix,
 * little-endian, C (row-major) order — what {@code np.save(path, w.astype(np.float32))} writes for
 * the tuner's {@code adapter.npy} ({@code triton-models/encoder/adapter.py}). Anything else (other
 * dtypes, Fortran order, other ranks, pickles) is refused with a message saying what was found.
 *
 * <p>Format: <a href="https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html">
 * numpy.lib.format</a> — the magic {@code \x93NUMPY}, a major and minor version byte, the header
 * length (2 bytes little-endian in version 1.0, 4 bytes in 2.0 and 3.0), then the header, a Python
 * dict literal such as {@code {'descr': '<f4', 'fortran_order': False, 'shape': (384, 384), }},
 * padded with spaces and ended by a newline, then the raw data.
 *
 * <p>A reader of our own rather than {@code org.jetbrains.bio:npy}: that library's last release is
 * from 2021 and brings the Kotlin 1.4 standard library into the job JAR, for a format whose one
 * case here fits in this class.
 */
final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN_ORDER = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {}

    /** A row-major float matrix: element (r, c) is {@code data[r * cols + c]}. */
    record FloatMatrix(int rows, int cols, float[] data) {}

    /**
     * Reads a 2-D little-endian float32 C-order {@code .npy} file.
     *
     * @throws IOException when the file cannot be read or is not such a matrix; the message names
     *     the file and what it holds instead
     */
    static FloatMatrix readFloat32Matrix(Path file) throws IOException {
        return readFloat32Matrix(Files.readAllBytes(file), file.toString());
    }

    static FloatMatrix readFloat32Matrix(byte[] bytes, String name) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (byte expected : MAGIC) {
            if (!buffer.hasRemaining() || buffer.get() != expected) {
                throw new IOException(name + ": not a numpy .npy file (no \\x93NUMPY magic)");
            }
        }
        if (buffer.remaining() < 2) {
            throw new IOException(name + ": truncated .npy header");
        }
        int major = buffer.get() & 0xff;
        buffer.get(); // minor version: no difference for reading
        long headerLength;
        if (major == 1) {
            headerLength = buffer.getShort() & 0xffff;
        } else if (major == 2 || major == 3) {
            if (buffer.remaining() < 4) {
                throw new IOException(name + ": truncated .npy header");
            }
            headerLength = buffer.getInt() & 0xffffffffL;
        } else {
            throw new IOException(name + ": unsupported .npy format version " + major);
        }
        if (headerLength > buffer.remaining()) {
            throw new IOException(name + ": truncated .npy header (" + headerLength + " bytes declared, "
                    + buffer.remaining() + " left)");
        }
        byte[] headerBytes = new byte[(int) headerLength];
        buffer.get(headerBytes);
        // Version 3.0 allows UTF-8 in field names; the keys read here are ASCII either way.
        String header = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);

        String descr = find(DESCR, header, "descr", name);
        if (!descr.equals("<f4")) {
            throw new IOException(name + ": dtype '" + descr + "' is not supported, expected '<f4'"
                    + " (little-endian float32: save with w.astype(np.float32))");
        }
        if (find(FORTRAN_ORDER, header, "fortran_order", name).equals("True")) {
            throw new IOException(name + ": Fortran-order arrays are not supported, expected C order"
                    + " (save np.ascontiguousarray(w))");
        }
        long[] shape = parseShape(find(SHAPE, header, "shape", name), name);
        if (shape.length != 2) {
            throw new IOException(name + ": shape (" + find(SHAPE, header, "shape", name)
                    + ") is not 2-D, expected a matrix");
        }
        long elements = shape[0] * shape[1];
        if (elements > Integer.MAX_VALUE / Float.BYTES) {
            throw new IOException(name + ": matrix " + shape[0] + "x" + shape[1] + " is too large");
        }
        if (buffer.remaining() != elements * Float.BYTES) {
            throw new IOException(name + ": shape " + shape[0] + "x" + shape[1] + " needs "
                    + elements * Float.BYTES + " bytes of data, the file has " + buffer.remaining());
        }
        float[] data = new float[(int) elements];
        buffer.asFloatBuffer().get(data);
        return new FloatMatrix((int) shape[0], (int) shape[1], data);
    }

    private static String find(Pattern pattern, String header, String key, String name) throws IOException {
        Matcher matcher = pattern.matcher(header);
        if (!matcher.find()) {
            throw new IOException(name + ": .npy header has no '" + key + "': " + header.strip());
        }
        return matcher.group(1);
    }

    /** "384, 384" → [384, 384]; "3," (a Python 1-tuple) → [3]; "" → [] (a scalar). */
    private static long[] parseShape(String tuple, String name) throws IOException {
        String[] parts = tuple.split(",");
        int count = 0;
        long[] dims = new long[parts.length];
        for (String part : parts) {
            String trimmed = part.strip();
            if (trimmed.isEmpty()) {
                continue;
            }
            try {
                dims[count] = Long.parseLong(trimmed.endsWith("L") ? trimmed.substring(0, trimmed.length() - 1) : trimmed);
            } catch (NumberFormatException e) {
                throw new IOException(name + ": .npy shape (" + tuple + ") is not a tuple of integers");
            }
            if (dims[count] < 0) {
                throw new IOException(name + ": .npy shape (" + tuple + ") has a negative dimension");
            }
            count++;
        }
        return java.util.Arrays.copyOf(dims, count);
    }
}
