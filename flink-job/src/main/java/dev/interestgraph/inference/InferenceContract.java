package dev.interestgraph.inference;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The inference contract shared by the embedded server and the Triton client: names, datatypes
 * and the wire encodings of the Open Inference Protocol's raw tensor contents.
 *
 * <p>Model {@value #MODEL_NAME}, input {@value #INPUT_TEXT} ({@value #BYTES}, shape [-1]), output
 * {@value #OUTPUT_EMBEDDING} ({@value #FP32}, shape [-1, 384]). Raw contents follow Triton: a BYTES
 * tensor is its elements back to back, each a 4-byte little-endian length followed by the bytes;
 * numeric tensors are little-endian, row-major.
 *
 * <p>A Triton model with {@code max_batch_size > 0} declares TEXT with {@code dims: [1]}, which its
 * metadata reports as {@code [-1, 1]}: clients then send {@code [n, 1]}. Both layouts carry the
 * same bytes; see {@link #textRank}.
 */
public final class InferenceContract {
    public static final String MODEL_NAME = "item_encoder";
    public static final String INPUT_TEXT = "TEXT";
    public static final String OUTPUT_EMBEDDING = "EMBEDDING";
    public static final String BYTES = "BYTES";
    public static final String FP32 = "FP32";

    private InferenceContract() {}

    /**
     * The rank in which to send TEXT, given the shape a model's metadata declares for it: 1 for
     * {@code [d]}, 2 for {@code [d, 1]} or {@code [d, -1]} (Triton's batch dimension plus
     * {@code dims: [1]}), where {@code d} is -1 or positive; 0 for anything else.
     */
    public static int textRank(List<Long> declaredShape) {
        if (declaredShape.isEmpty() || (declaredShape.get(0) != -1 && declaredShape.get(0) < 1)) {
            return 0;
        }
        if (declaredShape.size() == 1) {
            return 1;
        }
        if (declaredShape.size() == 2 && (declaredShape.get(1) == 1 || declaredShape.get(1) == -1)) {
            return 2;
        }
        return 0;
    }

    /** Encodes texts as one raw BYTES tensor (UTF-8, each element length-prefixed). */
    public static ByteString encodeBytesTensor(List<String> texts) {
        List<byte[]> utf8 = new ArrayList<>(texts.size());
        int total = 0;
        for (String text : texts) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            utf8.add(bytes);
            total += Integer.BYTES + bytes.length;
        }
        ByteBuffer buffer = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        for (byte[] bytes : utf8) {
            buffer.putInt(bytes.length).put(bytes);
        }
        buffer.flip();
        // The buffer is never touched again, so wrapping it saves a copy of every request.
        return UnsafeByteOperations.unsafeWrap(buffer);
    }

    /**
     * Decodes a raw BYTES tensor into UTF-8 strings.
     *
     * @throws IllegalArgumentException if a length prefix is negative or runs past the end
     */
    public static List<String> decodeBytesTensor(ByteString raw) {
        ByteBuffer buffer = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        List<String> texts = new ArrayList<>();
        while (buffer.hasRemaining()) {
            if (buffer.remaining() < Integer.BYTES) {
                throw new IllegalArgumentException(
                        "BYTES element " + texts.size() + " has a truncated 4-byte length prefix");
            }
            int length = buffer.getInt();
            if (length < 0 || length > buffer.remaining()) {
                throw new IllegalArgumentException("BYTES element " + texts.size()
                        + " declares " + length + " bytes but only " + buffer.remaining() + " remain");
            }
            byte[] bytes = new byte[length];
            buffer.get(bytes);
            texts.add(new String(bytes, StandardCharsets.UTF_8));
        }
        return texts;
    }

    /** Encodes a matrix as a raw little-endian FP32 tensor, row-major. */
    public static ByteString encodeFp32Tensor(float[][] rows, int columns) {
        ByteBuffer buffer = ByteBuffer.allocate(rows.length * columns * Float.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer floats = buffer.asFloatBuffer();
        for (float[] row : rows) {
            floats.put(row, 0, columns);
        }
        return UnsafeByteOperations.unsafeWrap(buffer);
    }

    /**
     * Decodes a raw little-endian FP32 tensor of {@code rows x columns}.
     *
     * @throws IllegalArgumentException if the byte count does not match the shape
     */
    public static float[][] decodeFp32Tensor(ByteString raw, int rows, int columns) {
        long expected = (long) rows * columns * Float.BYTES;
        if (raw.size() != expected) {
            throw new IllegalArgumentException("raw FP32 contents have " + raw.size()
                    + " bytes, expected " + expected + " for shape [" + rows + ", " + columns + "]");
        }
        FloatBuffer floats = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[][] result = new float[rows][columns];
        for (float[] row : result) {
            floats.get(row);
        }
        return result;
    }
}
