package dev.interestgraph.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The core is what a downstream service adds to apply the delta topic, so it stays free of the
 * job's runtime (docs/architecture.md, "Modules"). Reads this module's own compiled classes.
 */
class CorePackageRulesTest {
    private static final JavaClasses CORE = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPath(Path.of("target", "classes"));

    @Test
    void theCoreUsesNoFlinkKafkaOrGrpcType() {
        noClasses().should().dependOnClassesThat()
                .resideInAnyPackage("org.apache.flink..", "org.apache.kafka..", "io.grpc..")
                .because("interest-graph-core is the library a delta consumer adds: move the "
                        + "class to flink-job, or pass what it needs in as plain values")
                .check(CORE);
    }

    @Test
    void theCoreHasNoPackageCycles() {
        slices().matching("dev.interestgraph.(**)").should().beFreeOfCycles().check(CORE);
    }

    @Test
    void theCoreReallyHoldsTheGraphMaths() {
        // guards the rules above against an empty import (a wrong path would pass them vacuously)
        org.assertj.core.api.Assertions.assertThat(CORE.containPackage("dev.interestgraph.graph"))
                .isTrue();
        org.assertj.core.api.Assertions.assertThat(
                CORE.contain("dev.interestgraph.delta.DeltaMaterializer")).isTrue();
    }
}
