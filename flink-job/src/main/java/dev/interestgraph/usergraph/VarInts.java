package dev.interestgraph.usergraph;

import java.io.IOException;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/** Variable-length integers (protobuf's base-128 varint with zig-zag for signed values). */
final class VarInts {
    private VarInts() {}

    static void writeUnsigned(DataOutputView out, long value) throws IOException {
        while ((value & ~0x7FL) != 0) {
            out.writeByte((int) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        out.writeByte((int) value);
    }

    static long readUnsigned(DataInputView in) throws IOException {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte b = in.readByte();
            value |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw new IOException("malformed varint");
    }

    static void writeSigned(DataOutputView out, long value) throws IOException {
        writeUnsigned(out, (value << 1) ^ (value >> 63));
    }

    static long readSigned(DataInputView in) throws IOException {
        long raw = readUnsigned(in);
        return (raw >>> 1) ^ -(raw & 1);
    }
}
