package dev.interestgraph.delta;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.interestgraph.vector.HalfFloats;
import dev.interestgraph.proto.v2.Vector;
import dev.interestgraph.proto.v2.VectorChange;
import dev.interestgraph.proto.v2.VectorEncoding;

/**
 * Delta contract v2's vector encodings, both ways. Pure (no Flink, Kafka or gRPC types).
 *
 * <p>Delta vectors are directions (L2-normalised): consumers rank by cosine. INT8 stores each
 * dimension as a signed byte times one per-vector scale (max |x| / 127): 384 bytes + 4 for a
 * 384-dimensional vector, a quarter of float32. INT6, INT5 and INT4 store b-bit signed integers
 * (scale max |x| / (2^(b-1) - 1)) packed least significant bit first: 288, 240 and 192 bytes for
 * 384 dimensions. FLOAT16 stores IEEE binary16 (768 bytes). The default is chosen from the
 * measured recall@10 of cosine rankings (docs/architecture.md, {@code
 * VectorQuantisationRecallTest}, {@code VectorSendSweep}). Decoding re-normalises, so the
 * quantisation error is a small angle, never a change of length.
 */
public final class VectorCodec {
    private VectorCodec() {}

    public static final Vector UNCHANGED = Vector.newBuilder().setChange(VectorChange.UNCHANGED)
            .build();
    public static final Vector CLEARED = Vector.newBuilder().setChange(VectorChange.CLEARED)
            .build();

    /**
     * A SET vector holding the direction of {@code halves} (a mean kept in half precision, any
     * length), in {@code encoding}: the halves decoded, their norm, then
     * {@link #encodeDecoded}.
     */
    public static Vector encode(short[] halves, VectorEncoding encoding, int versionIndex) {
        float[] values = HalfFloats.toFloats(halves);
        double squares = 0;
        for (float x : values) {
            squares += (double) x * x;
        }
        return encodeDecoded(values, Math.sqrt(squares), encoding, versionIndex);
    }

    /**
     * {@link #encode(short[], VectorEncoding, int)} of a mean whose halves are already decoded
     * ({@code values}, each exactly {@code HalfFloats.toFloat} of its half) and whose norm is
     * known ({@code norm}: the square root of the squares summed in double in index order, as
     * the mean computes it): the same bytes, without decoding again or another pass for the
     * norm (the operator's flush has both at hand).
     */
    public static Vector encodeDecoded(float[] values, double norm, VectorEncoding encoding,
            int versionIndex) {
        float maxAbs = 0;
        for (float x : values) {
            maxAbs = Math.max(maxAbs, Math.abs(x));
        }
        float inverse = norm == 0 ? 0f : (float) (1.0 / norm);
        Vector.Builder vector = Vector.newBuilder().setChange(VectorChange.SET)
                .setEncoding(encoding).setVersion(versionIndex);
        if (encoding == VectorEncoding.FLOAT16) {
            byte[] bytes = new byte[values.length * 2];
            for (int i = 0; i < values.length; i++) {
                short half = HalfFloats.toHalf(values[i] * inverse);
                bytes[2 * i] = (byte) half;
                bytes[2 * i + 1] = (byte) (half >>> 8);
            }
            return vector.setValues(UnsafeByteOperations.unsafeWrap(bytes)).build();
        }
        int bits = bits(encoding);
        if (bits == 0) {
            throw new IllegalArgumentException("no vector encoding " + encoding);
        }
        // the unit vector's largest component maps to ±(2^(bits-1) - 1): ±127 for INT8
        int levels = (1 << (bits - 1)) - 1;
        float scale = maxAbs * inverse / levels;
        float toInt = scale == 0 ? 0f : 1f / (scale * (float) norm);
        vector.setScale(scale);
        if (bits == 8) {
            byte[] bytes = new byte[values.length];
            for (int i = 0; i < values.length; i++) {
                bytes[i] = (byte) Math.round(values[i] * toInt);
            }
            return vector.setValues(UnsafeByteOperations.unsafeWrap(bytes)).build();
        }
        byte[] bytes = new byte[(values.length * bits + 7) / 8];
        int mask = (1 << bits) - 1;
        long buffer = 0; // bits not yet written, least significant first
        int buffered = 0;
        int at = 0;
        for (float x : values) {
            int value = Math.max(-levels, Math.min(levels, Math.round(x * toInt)));
            buffer |= (long) (value & mask) << buffered;
            buffered += bits;
            while (buffered >= 8) {
                bytes[at++] = (byte) buffer;
                buffer >>>= 8;
                buffered -= 8;
            }
        }
        if (buffered > 0) {
            bytes[at] = (byte) buffer;
        }
        return vector.setDimensions(values.length)
                .setValues(UnsafeByteOperations.unsafeWrap(bytes)).build();
    }

    /** Bits per dimension of an integer encoding (INT8 and the packed ones); 0 for others. */
    static int bits(VectorEncoding encoding) {
        switch (encoding) {
            case INT8:
                return 8;
            case INT6:
                return 6;
            case INT5:
                return 5;
            case INT4:
                return 4;
            default:
                return 0;
        }
    }

    /** Bytes of the values of a SET vector of {@code dimensions} in {@code encoding}. */
    public static int valueBytes(VectorEncoding encoding, int dimensions) {
        return encoding == VectorEncoding.FLOAT16 ? 2 * dimensions
                : (dimensions * bits(encoding) + 7) / 8;
    }

    /** {@link #encode(short[], VectorEncoding, int)} for a float vector (tools and tests). */
    public static Vector encode(float[] values, VectorEncoding encoding, int versionIndex) {
        return encode(HalfFloats.fromFloats(values), encoding, versionIndex);
    }

    private static float[] unpack(ByteString bytes, int bits, int dimensions, float scale) {
        if (bytes.size() != (dimensions * bits + 7) / 8) {
            throw new IllegalArgumentException("a packed vector of " + dimensions
                    + " dimensions × " + bits + " bits in " + bytes.size() + " bytes");
        }
        float[] out = new float[dimensions];
        int mask = (1 << bits) - 1;
        int signShift = 32 - bits;
        long buffer = 0;
        int buffered = 0;
        int at = 0;
        for (int i = 0; i < dimensions; i++) {
            while (buffered < bits) {
                buffer |= (long) (bytes.byteAt(at++) & 0xff) << buffered;
                buffered += 8;
            }
            int value = ((int) (buffer & mask) << signShift) >> signShift; // sign-extended
            buffer >>>= bits;
            buffered -= bits;
            out[i] = value * scale;
        }
        return out;
    }

    /** The unit vector a SET vector holds (re-normalised after dequantisation). */
    public static float[] decode(Vector vector) {
        if (vector.getChange() != VectorChange.SET) {
            throw new IllegalArgumentException("only a SET vector has values, not "
                    + vector.getChange());
        }
        ByteString bytes = vector.getValues();
        float[] out;
        switch (vector.getEncoding()) {
            case INT8:
                out = new float[bytes.size()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = bytes.byteAt(i) * vector.getScale();
                }
                break;
            case FLOAT16:
                if (bytes.size() % 2 != 0) {
                    throw new IllegalArgumentException("a FLOAT16 vector of odd length");
                }
                out = new float[bytes.size() / 2];
                for (int i = 0; i < out.length; i++) {
                    int half = (bytes.byteAt(2 * i) & 0xff) | (bytes.byteAt(2 * i + 1) & 0xff) << 8;
                    out[i] = HalfFloats.toFloat((short) half);
                }
                break;
            case INT6:
            case INT5:
            case INT4:
                out = unpack(bytes, bits(vector.getEncoding()), vector.getDimensions(),
                        vector.getScale());
                break;
            default:
                throw new IllegalArgumentException("unknown vector encoding "
                        + vector.getEncodingValue());
        }
        double squares = 0;
        for (float x : out) {
            squares += (double) x * x;
        }
        if (squares > 0) {
            float inverse = (float) (1.0 / Math.sqrt(squares));
            for (int i = 0; i < out.length; i++) {
                out[i] *= inverse;
            }
        }
        return out;
    }
}
