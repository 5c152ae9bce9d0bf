package dev.interestgraph;

import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.embed.EmbeddingClientFactory;
import dev.interestgraph.inference.EmbeddingBackends;
import dev.interestgraph.startup.KafkaStartupChecks;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Entry point of the interest-graph job. Options are {@code --key value} (see
 * docs/configuration.md); Flink's own options pass through the same way.
 *
 * <pre>
 * flink run -c dev.interestgraph.InterestGraphJob interest-graph.jar \
 *     --kafka.bootstrap kafka:9092 --triton.endpoint triton:8001
 * </pre>
 */
public final class InterestGraphJob {
    private InterestGraphJob() {}

    public static void main(String[] args) throws Exception {
        Configuration config = InterestGraphOptions.fromArgs(args);
        InterestGraphPipeline.applyRuntimeDefaults(config);
        InterestGraphOptions.validate(config);
        EmbeddingClientFactory embeddings = EmbeddingBackends.fromConfig(config);
        if (config.getOptional(InterestGraphOptions.TRITON_ENDPOINT).isPresent()) {
            // fail here, before submission, rather than in a restart loop on the cluster
            EmbeddingBackends.checkReady(embeddings);
        }
        // topics, the brokers' transaction limit, checkpoint vs transaction timeouts: fail
        // here too, naming the option and the fix
        KafkaStartupChecks.check(config);
        InterestGraphPipeline pipeline = new InterestGraphPipeline(config, embeddings);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
        pipeline.build(env);
        env.execute("interest-graph");
    }
}
