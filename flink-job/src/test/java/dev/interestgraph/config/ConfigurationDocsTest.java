package dev.interestgraph.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/configuration.md lists exactly the options the code has. */
class ConfigurationDocsTest {

    @Test
    void theDocumentedOptionTableIsTheGeneratedOne() throws Exception {
        Path docs = Path.of("..", "docs", "configuration.md");
        String document = Files.readString(docs, StandardCharsets.UTF_8);
        assertThat(document)
                .as("docs/configuration.md is stale: regenerate it with "
                        + "`java -cp ... dev.interestgraph.config.ConfigurationDocs docs/configuration.md`"
                        + " (see the Makefile target `docs`)")
                .isEqualTo(ConfigurationDocs.render(document));
        for (var option : InterestGraphOptions.all()) {
            assertThat(document).contains("`" + option.key() + "`");
        }
    }
}
