package dev.interestgraph.eval;

import dev.interestgraph.embed.EmbeddingBatch;
import dev.interestgraph.embed.EmbeddingClient;
import dev.interestgraph.embed.EmbeddingClientFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An embedding backend that remembers every vector the wrapped one returned, for the whole
 * evaluation: the evaluation replays the same catalogue through the job three times (before,
 * after, the full replay), and without it the real model embeds the 9,742 MovieLens items three
 * times on a 2-core machine for identical vectors. Only for a fixed model (no fine-tuning):
 * answers are keyed by the requested version and the text, so a server whose default version
 * changed mid-run would be answered with the old version's vectors.
 *
 * <p>The job runs on a local cluster in this JVM and deserialises its copy of the factory there,
 * so the vectors live in a static map under the factory's id rather than in the factory.
 */
final class CachingEmbeddings implements EmbeddingClientFactory {
    private static final long serialVersionUID = 1L;
    private static final Map<String, Map<String, Answer>> CACHES = new ConcurrentHashMap<>();

    private record Answer(float[] vector, String version) {}

    private final EmbeddingClientFactory backend;
    private final String id = UUID.randomUUID().toString();

    CachingEmbeddings(EmbeddingClientFactory backend) {
        this.backend = backend;
        CACHES.put(id, new ConcurrentHashMap<>());
    }

    /** Texts answered from the cache so far (for the log). */
    int cached() {
        return CACHES.getOrDefault(id, Map.of()).size();
    }

    /** Forgets the vectors (the evaluation is over). */
    void clear() {
        CACHES.remove(id);
    }

    @Override
    public EmbeddingClient create() throws Exception {
        EmbeddingClient client = backend.create();
        Map<String, Answer> cache = CACHES.computeIfAbsent(id, k -> new ConcurrentHashMap<>());
        return new EmbeddingClient() {
            @Override
            public void checkReady() throws Exception {
                client.checkReady();
            }

            @Override
            public int dimension() {
                return client.dimension();
            }

            @Override
            public CompletableFuture<EmbeddingBatch> embed(List<String> texts) {
                return embed(texts, "");
            }

            @Override
            public CompletableFuture<EmbeddingBatch> embed(List<String> texts,
                    String modelVersion) {
                String requested = modelVersion == null ? "" : modelVersion;
                List<Answer> answers = new ArrayList<>(texts.size());
                List<String> missing = new ArrayList<>();
                for (String text : texts) {
                    Answer answer = cache.get(requested + '\u0000' + text);
                    answers.add(answer);
                    if (answer == null) {
                        missing.add(text);
                    }
                }
                // a batch is answered by one version: served from the cache only when every
                // text is there and they agree, else the backend answers the whole batch
                if (missing.isEmpty() && answers.stream().map(Answer::version).distinct()
                        .count() == 1) {
                    return CompletableFuture.completedFuture(new EmbeddingBatch(
                            answers.stream().map(Answer::vector).toList(),
                            answers.get(0).version()));
                }
                CompletableFuture<EmbeddingBatch> answered = requested.isEmpty()
                        ? client.embed(texts) : client.embed(texts, requested);
                return answered.thenApply(batch -> {
                    for (int i = 0; i < texts.size(); i++) {
                        cache.put(requested + '\u0000' + texts.get(i),
                                new Answer(batch.vectors().get(i), batch.modelVersion()));
                    }
                    return batch;
                });
            }

            @Override
            public void close() {
                client.close();
            }
        };
    }
}
