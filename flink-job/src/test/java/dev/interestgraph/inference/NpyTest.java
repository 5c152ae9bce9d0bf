package dev.interestgraph.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The .npy reader against files numpy 1.26 wrote ({@code src/test/resources/npy}), made with
 * <pre>
 * m = (np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5) / 8; m[1, 2] = np.float32(1e-7)
 * np.save("f32-2x3.npy", m); np.save("f64-2x3.npy", m.astype(np.float64))
 * np.save("f32-2x3-fortran.npy", np.asfortranarray(m)); np.save("f32-6.npy", m.reshape(6))
 * np.save("f32-2x3-bigendian.npy", m.astype(">f4"))
 * </pre>
 */
class NpyTest {
    private static final float[] EXPECTED = {-0.3125f, -0.1875f, -0.0625f, 0.0625f, 0.1875f, 1e-7f};

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = NpyTest.class.getResourceAsStream("/npy/" + name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    @Test
    void readsAFloat32MatrixNumpyWroteInRowMajorOrder() throws IOException {
        Npy.FloatMatrix matrix = Npy.readFloat32Matrix(resource("f32-2x3.npy"), "f32-2x3.npy");

        assertThat(matrix.rows()).isEqualTo(2);
        assertThat(matrix.cols()).isEqualTo(3);
        assertThat(matrix.data()).containsExactly(EXPECTED);
    }

    @Test
    void theTestWriterProducesNumpysBytes() throws IOException {
        assertThat(NpyFiles.float32Matrix(2, 3, EXPECTED)).isEqualTo(resource("f32-2x3.npy"));
    }

    @Test
    void otherDtypesOrdersAndRanksAreRefusedSayingWhatTheyAre() throws IOException {
        assertThatThrownBy(() -> Npy.readFloat32Matrix(resource("f64-2x3.npy"), "f64.npy"))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("f64.npy: dtype '<f8' is not supported, expected '<f4'");
        assertThatThrownBy(() -> Npy.readFloat32Matrix(resource("f32-2x3-bigendian.npy"), "be.npy"))
                .hasMessageContaining("dtype '>f4' is not supported");
        assertThatThrownBy(() -> Npy.readFloat32Matrix(resource("f32-2x3-fortran.npy"), "f.npy"))
                .hasMessageContaining("Fortran-order arrays are not supported");
        assertThatThrownBy(() -> Npy.readFloat32Matrix(resource("f32-6.npy"), "v.npy"))
                .hasMessageContaining("shape (6,) is not 2-D");
    }

    @Test
    void damagedFilesAreRefused() throws IOException {
        byte[] good = resource("f32-2x3.npy");
        assertThatThrownBy(() -> Npy.readFloat32Matrix(Arrays.copyOf(good, good.length - 1), "short.npy"))
                .hasMessage("short.npy: shape 2x3 needs 24 bytes of data, the file has 23");
        assertThatThrownBy(() -> Npy.readFloat32Matrix(Arrays.copyOf(good, 40), "cut.npy"))
                .hasMessageContaining("cut.npy: truncated .npy header");
        byte[] notNpy = good.clone();
        notNpy[1] = 'X';
        assertThatThrownBy(() -> Npy.readFloat32Matrix(notNpy, "x.npy"))
                .hasMessageContaining("x.npy: not a numpy .npy file");
    }
}
