package dev.interestgraph.analytics;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.interestgraph.analytics.GraphAnalyticsJob.Ranking;
import dev.interestgraph.proto.v1.AnalyticsRecord;
import dev.interestgraph.proto.v1.AnalyticsRun;
import dev.interestgraph.proto.v1.Community;
import dev.interestgraph.proto.v1.ItemNeighbors;
import dev.interestgraph.proto.v1.Neighbor;
import dev.interestgraph.analytics.ItemGraph;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The result of one {@link GraphAnalyticsJob} run, read back from its files: per item its
 * neighbours, community and degree; per community its label and popular items; the graph's
 * health. Serves the {@code Recommender} directly ({@link ItemGraph}) and becomes the records of
 * the {@code item-neighbors} topic ({@link #records()}).
 */
public final class AnalyticsOutput implements ItemGraph {
    public static final String HEALTH_FILE = "graph-health.json";

    /** Graph health: what connects, what is left alone. */
    public record GraphHealth(int users, int itemsWithEdges, int catalogueItems,
            int isolatedCatalogueItems, int itemsWithoutNeighbors, int components,
            int largestComponentUsers, int largestComponentItems, int communities,
            int largestCommunity, double meanNeighbors, List<int[]> componentSizes) {}

    private final long runId;
    /** What the neighbours' scores are: "jaccard", "adamic_adar" or "ease". */
    private final String ranking;
    private final Map<String, ItemNeighbors> items;
    private final Map<Long, Community> communities;
    private final GraphHealth health;

    private AnalyticsOutput(long runId, String ranking, Map<String, ItemNeighbors> items,
            Map<Long, Community> communities, GraphHealth health) {
        this.runId = runId;
        this.ranking = ranking;
        this.items = items;
        this.communities = communities;
        this.health = health;
    }

    /** Reads the files the job wrote into {@code outDir}; writes {@value #HEALTH_FILE} there. */
    public static AnalyticsOutput read(Path snapshotDir, Path outDir, long runId, Ranking ranking) {
        try {
            Map<String, List<Neighbor>> neighbors = new TreeMap<>();
            for (String[] f : rows(outDir.resolve(GraphAnalyticsJob.NEIGHBORS_FILE))) {
                neighbors.computeIfAbsent(f[0], k -> new ArrayList<>()).add(Neighbor.newBuilder()
                        .setItemId(f[1])
                        .setJaccard(Float.parseFloat(f[2]))
                        .setAdamicAdar(Float.parseFloat(f[3]))
                        .setSupport(Integer.parseInt(f[4]))
                        .setScore(Float.parseFloat(f[5]))
                        .build());
            }
            Map<String, ItemNeighbors> items = new TreeMap<>();
            for (String[] f : rows(outDir.resolve(GraphAnalyticsJob.ITEM_COMMUNITIES_FILE))) {
                List<Neighbor> list = new ArrayList<>(neighbors.getOrDefault(f[0], List.of()));
                list.sort(Comparator.comparingDouble((Neighbor n) -> -n.getScore())
                        .thenComparing(Neighbor::getItemId));
                items.put(f[0], ItemNeighbors.newBuilder()
                        .setItemId(f[0])
                        .setRunId(runId)
                        .setCommunityId(Long.parseLong(f[1]))
                        .setDegree(Integer.parseInt(f[2]))
                        .addAllNeighbors(list)
                        .build());
            }
            Map<Long, Community> communities = new TreeMap<>();
            for (String[] f : rows(outDir.resolve(GraphAnalyticsJob.COMMUNITIES_FILE))) {
                Community.Builder community = Community.newBuilder()
                        .setCommunityId(Long.parseLong(f[0]))
                        .setRunId(runId)
                        .setLabel(f[1])
                        .setSize(Integer.parseInt(f[2]));
                for (int i = 3; i + 1 < f.length; i += 2) {
                    community.addPopularItems(f[i]).addPopularDegrees(Integer.parseInt(f[i + 1]));
                }
                communities.put(community.getCommunityId(), community.build());
            }
            List<int[]> components = new ArrayList<>();
            int users = 0;
            for (String[] f : rows(outDir.resolve(GraphAnalyticsJob.COMPONENTS_FILE))) {
                int[] size = {Integer.parseInt(f[1]), Integer.parseInt(f[2])};
                components.add(size);
                users += size[0];
            }
            components.sort(Comparator.comparingInt((int[] c) -> -(c[0] + c[1])));

            // the catalogue only: the edges were the job's to read
            Set<String> catalogue = GraphSnapshot.readItemTexts(snapshotDir).keySet();
            int isolated = 0;
            for (String item : catalogue) {
                if (!items.containsKey(item)) {
                    isolated++;
                }
            }
            int withoutNeighbors = 0;
            long neighborCount = 0;
            for (ItemNeighbors item : items.values()) {
                withoutNeighbors += item.getNeighborsCount() == 0 ? 1 : 0;
                neighborCount += item.getNeighborsCount();
            }
            int largestCommunity = communities.values().stream().mapToInt(Community::getSize)
                    .max().orElse(0);
            GraphHealth health = new GraphHealth(users, items.size(), catalogue.size(), isolated,
                    withoutNeighbors, components.size(),
                    components.isEmpty() ? 0 : components.get(0)[0],
                    components.isEmpty() ? 0 : components.get(0)[1], communities.size(),
                    largestCommunity, items.isEmpty() ? 0 : (double) neighborCount / items.size(),
                    components.subList(0, Math.min(10, components.size())));
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValue(outDir.resolve(HEALTH_FILE).toFile(), health);
            return new AnalyticsOutput(runId, ranking.name().toLowerCase(java.util.Locale.ROOT),
                    Collections.unmodifiableMap(items),
                    Collections.unmodifiableMap(communities), health);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the analytics output in " + outDir, e);
        }
    }

    private static List<String[]> rows(Path file) throws IOException {
        List<String[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isEmpty()) {
                rows.add(line.split("\t", -1));
            }
        }
        return rows;
    }

    public long runId() {
        return runId;
    }

    /** What the neighbours' scores are: "jaccard", "adamic_adar" or "ease". */
    public String ranking() {
        return ranking;
    }

    /**
     * This output with every item's neighbours replaced by {@code neighbours} (item → neighbour →
     * score in (0, 1], strongest first, then any negative scores, kept as they are; an item
     * absent has none), communities and degrees kept.
     * The neighbours carry only the score (no Jaccard, Adamic–Adar or support).
     */
    public AnalyticsOutput withNeighbours(Map<String, Map<String, Float>> neighbours,
            String ranking) {
        Map<String, ItemNeighbors> replaced = new TreeMap<>();
        int withoutNeighbors = 0;
        long neighborCount = 0;
        for (ItemNeighbors item : items.values()) {
            ItemNeighbors.Builder builder = item.toBuilder().clearNeighbors();
            neighbours.getOrDefault(item.getItemId(), Map.of()).forEach((id, score) ->
                    builder.addNeighbors(Neighbor.newBuilder().setItemId(id).setScore(score)));
            withoutNeighbors += builder.getNeighborsCount() == 0 ? 1 : 0;
            neighborCount += builder.getNeighborsCount();
            replaced.put(item.getItemId(), builder.build());
        }
        GraphHealth h = health;
        GraphHealth updated = new GraphHealth(h.users(), h.itemsWithEdges(), h.catalogueItems(),
                h.isolatedCatalogueItems(), withoutNeighbors, h.components(),
                h.largestComponentUsers(), h.largestComponentItems(), h.communities(),
                h.largestCommunity(),
                replaced.isEmpty() ? 0 : (double) neighborCount / replaced.size(),
                h.componentSizes());
        return new AnalyticsOutput(runId, ranking, Collections.unmodifiableMap(replaced),
                communities, updated);
    }

    public Map<String, ItemNeighbors> items() {
        return items;
    }

    public Map<Long, Community> communityTable() {
        return communities;
    }

    public GraphHealth health() {
        return health;
    }

    /** The topic's records in publishing order: items, communities, then the run marker. */
    public Map<String, AnalyticsRecord> records() {
        Map<String, AnalyticsRecord> records = new LinkedHashMap<>();
        for (ItemNeighbors item : items.values()) {
            records.put(itemKey(item.getItemId()),
                    AnalyticsRecord.newBuilder().setItemNeighbors(item).build());
        }
        for (Community community : communities.values()) {
            records.put(communityKey(community.getCommunityId()),
                    AnalyticsRecord.newBuilder().setCommunity(community).build());
        }
        records.put(RUN_KEY, AnalyticsRecord.newBuilder().setRun(AnalyticsRun.newBuilder()
                .setRunId(runId)
                .setItems(items.size())
                .setCommunities(communities.size())
                .setRanking(ranking))
                .build());
        return records;
    }

    public static final String RUN_KEY = "run";

    public static String itemKey(String itemId) {
        return "item/" + itemId;
    }

    public static String communityKey(long communityId) {
        return "community/" + communityId;
    }

    // ---------------------------------------------------------------- ItemGraph

    @Override
    public Map<String, Float> neighbours(String itemId) {
        ItemNeighbors item = items.get(itemId);
        return item == null ? Map.of() : scores(item);
    }

    /** An item's neighbours as neighbour → score, strongest first. */
    public static Map<String, Float> scores(ItemNeighbors item) {
        Map<String, Float> scores = new LinkedHashMap<>();
        for (Neighbor neighbor : item.getNeighborsList()) {
            scores.put(neighbor.getItemId(), neighbor.getScore());
        }
        return scores;
    }

    @Override
    public long communityOf(String itemId) {
        ItemNeighbors item = items.get(itemId);
        return item == null ? -1 : item.getCommunityId();
    }

    @Override
    public List<Popular> popularIn(long communityId) {
        Community community = communities.get(communityId);
        return community == null ? List.of() : popular(community);
    }

    /** A community's popular items, most users first. */
    public static List<Popular> popular(Community community) {
        List<Popular> popular = new ArrayList<>(community.getPopularItemsCount());
        for (int i = 0; i < community.getPopularItemsCount(); i++) {
            popular.add(new Popular(community.getPopularItems(i), community.getPopularDegrees(i)));
        }
        return popular;
    }

    @Override
    public Collection<Long> communities() {
        return communities.keySet();
    }
}
