package dev.interestgraph.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The module and package rules of docs/architecture.md ("Modules"), over the main classes of all
 * three Java modules (this one's test classpath holds them all). A class's module is told by
 * where it was loaded from: {@code interest-graph-core}, {@code flink-job} or {@code tools}
 * (their target/classes in a reactor build, their jars otherwise).
 */
class PackageRulesTest {
    private static final JavaClasses ALL = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            // the job's test-jar (its fakes, on this module's test classpath) is tests too
            .withImportOption(location -> !location.contains("-tests.jar"))
            .withImportOption(location -> !location.contains("/inference-proto"))
            .importPackages("dev.interestgraph");

    private static DescribedPredicate<JavaClass> inModule(String module) {
        return DescribedPredicate.describe("in module " + module, javaClass -> javaClass
                .getSource().map(source -> {
                    String uri = source.getUri().toString();
                    return uri.contains("/" + module + "/target/")
                            || uri.contains("/" + module + "-0") // a jar: module-version.jar
                            || uri.contains("/" + module + "/0"); // ~/.m2/.../module/version/
                }).orElse(false));
    }

    @Test
    void everyModuleIsImported() {
        // the rules below would pass vacuously on an empty import
        assertThat(ALL.that(inModule("interest-graph-core"))).isNotEmpty();
        assertThat(ALL.that(inModule("flink-job"))).isNotEmpty();
        assertThat(ALL.that(inModule("tools"))).isNotEmpty();
    }

    @Test
    void noPackageCycles() {
        slices().matching("dev.interestgraph.(**)").should().beFreeOfCycles()
                .because("a package cycle means two stages that can only change together")
                .check(ALL);
    }

    @Test
    void theJobNeverImportsTheTools() {
        noClasses().that(inModule("flink-job")).should().dependOnClassesThat(inModule("tools"))
                .because("the job JAR that runs on clusters must not hold the demo, the "
                        + "evaluation, the CLI or the data sets")
                .check(ALL);
    }

    @Test
    void theCoreImportsNeitherTheJobNorFlinkKafkaOrGrpc() {
        noClasses().that(inModule("interest-graph-core")).should()
                .dependOnClassesThat(inModule("flink-job").or(inModule("tools")))
                .check(ALL);
        noClasses().that(inModule("interest-graph-core")).should().dependOnClassesThat()
                .resideInAnyPackage("org.apache.flink..", "org.apache.kafka..", "io.grpc..")
                .check(ALL);
    }

    @Test
    void theInferenceSideDoesNotReachIntoTheGraphMaths() {
        noClasses().that().resideInAnyPackage("dev.interestgraph.embed..",
                        "dev.interestgraph.inference..", "dev.interestgraph.training..",
                        "dev.interestgraph.versions..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.interestgraph.graph..",
                        "dev.interestgraph.usergraph..")
                .because("embeddings and fine-tuning feed the graph; they do not use its maths")
                .check(ALL);
    }

    @Test
    void fineTuningReachesTheGraphMathsOnlyThroughTheCoresInterface() {
        // FineTuningSupport re-embeds a user's items at a version switch: it hands the core's
        // GraphUpdater.ItemVectors to the updater, and reads the updater's result and order
        noClasses().that().haveFullyQualifiedName("dev.interestgraph.usergraph.FineTuningSupport")
                .should().dependOnClassesThat(DescribedPredicate.describe(
                        "graph maths other than GraphUpdater.ItemVectors/ItemVector/Result, "
                                + "UserGraph, its EdgeStore and GraphParameters",
                        c -> c.getPackageName().equals("dev.interestgraph.graph")
                                && !c.getName().matches("dev\\.interestgraph\\.graph\\."
                                + "(GraphUpdater(\\$(ItemVectors|ItemVector|Result))?"
                                + "|UserGraph(\\$.*)?|EdgeStore|GraphParameters)")))
                .check(ALL);
    }
}
