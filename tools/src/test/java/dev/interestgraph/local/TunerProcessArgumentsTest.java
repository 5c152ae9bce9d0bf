package dev.interestgraph.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class TunerProcessArgumentsTest {

    @Test
    void tunerParametersArePassedOnlyWhenSet() {
        Path models = Path.of("/models/item_encoder/1");
        List<String> plain = TunerProcess.builder().repository(Path.of("/repo")).arguments(models);
        assertFalse(plain.contains("--weight-decay"));
        assertFalse(plain.contains("--learning-rate"));
        assertFalse(plain.contains("--keep-versions"));
        assertFalse(plain.contains("--uniformity-weight"));
        assertFalse(plain.contains("--temperature"));
        assertFalse(plain.contains("--warmup-steps"));
        assertFalse(plain.contains("--announce-topic"));

        List<String> args = TunerProcess.builder().repository(Path.of("/repo")).weightDecay(10)
                .learningRate(2e-4).uniformityWeight(0).temperature(0.1).warmupSteps(20).keepVersions(1000).publishEverySteps(25).announceTopic("versions-2").arguments(models);
        assertEquals("versions-2", args.get(args.indexOf("--announce-topic") + 1));
        assertEquals("10.0", args.get(args.indexOf("--weight-decay") + 1));
        assertEquals("2.0E-4", args.get(args.indexOf("--learning-rate") + 1));
        assertEquals("1000", args.get(args.indexOf("--keep-versions") + 1));
        assertEquals("0.0", args.get(args.indexOf("--uniformity-weight") + 1));
        assertEquals("0.1", args.get(args.indexOf("--temperature") + 1));
        assertEquals("20", args.get(args.indexOf("--warmup-steps") + 1));
        assertEquals("25", args.get(args.indexOf("--publish-every-steps") + 1));
        // always last, even empty
        assertEquals("--kafka-bootstrap-servers", args.get(args.size() - 2));
    }

    @Test
    void badValuesAreRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> TunerProcess.builder().weightDecay(-1));
        assertThrows(IllegalArgumentException.class,
                () -> TunerProcess.builder().weightDecay(Double.NaN));
        assertThrows(IllegalArgumentException.class,
                () -> TunerProcess.builder().keepVersions(0));
        assertThrows(IllegalArgumentException.class,
                () -> TunerProcess.builder().learningRate(0));
        assertThrows(IllegalArgumentException.class,
                () -> TunerProcess.builder().uniformityWeight(-0.1));
        assertThrows(IllegalArgumentException.class,
                () -> TunerProcess.builder().temperature(0));
        assertThrows(IllegalArgumentException.class,
                () -> TunerProcess.builder().warmupSteps(-1));
    }
}
