package dev.interestgraph.analytics;

import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.proto.v1.EdgeUpsert;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A snapshot of the materialised interest graph: the input of {@link GraphAnalyticsJob}.
 *
 * <p>On disk it is a directory of two tab-separated files, so that any system can produce one:
 * {@code edges.tsv} ({@code user_id, item_id, weight, last_ms}: one line per edge of a user's
 * graph, weight decayed to last_ms) and {@code items.tsv} ({@code item_id, text}: the catalogue's
 * text, used to label communities; items without edges count as isolated). Tabs and line breaks in
 * text become spaces; ids never contain them (the job's input limits reject such ids).
 */
public final class GraphSnapshot {
    public static final String EDGES_FILE = "edges.tsv";
    public static final String ITEMS_FILE = "items.tsv";

    /** One user–item edge. */
    public record Edge(String userId, String itemId, double weight, long lastMs) {}

    private final List<Edge> edges;
    private final Map<String, String> itemTexts;

    public GraphSnapshot(List<Edge> edges, Map<String, String> itemTexts) {
        this.edges = List.copyOf(edges);
        this.itemTexts = Collections.unmodifiableMap(new TreeMap<>(itemTexts));
    }

    /** Every user's edges as the deltas applied to {@code materializer} describe them. */
    public static GraphSnapshot of(DeltaMaterializer materializer, Map<String, String> itemTexts) {
        return of(materializer.users(), itemTexts);
    }

    /** The edges of these materialised users' graphs. */
    public static GraphSnapshot of(Map<String, DeltaMaterializer.UserView> users,
            Map<String, String> itemTexts) {
        List<Edge> edges = new ArrayList<>();
        new TreeMap<>(users).forEach((userId, user) -> {
            for (EdgeUpsert edge : user.edges().values()) {
                edges.add(new Edge(userId, edge.getItemId(), edge.getWeight(), edge.getLastMs()));
            }
        });
        return new GraphSnapshot(edges, itemTexts);
    }

    public List<Edge> edges() {
        return edges;
    }

    public Map<String, String> itemTexts() {
        return itemTexts;
    }

    /** Writes {@code edges.tsv} and {@code items.tsv} into {@code directory}. */
    public void write(Path directory) {
        try {
            Files.createDirectories(directory);
            try (BufferedWriter out = Files.newBufferedWriter(directory.resolve(EDGES_FILE),
                    StandardCharsets.UTF_8)) {
                for (Edge edge : edges) {
                    out.write(edge.userId() + '\t' + edge.itemId() + '\t' + edge.weight() + '\t'
                            + edge.lastMs() + '\n');
                }
            }
            try (BufferedWriter out = Files.newBufferedWriter(directory.resolve(ITEMS_FILE),
                    StandardCharsets.UTF_8)) {
                for (Map.Entry<String, String> item : itemTexts.entrySet()) {
                    out.write(item.getKey() + '\t' + oneLine(item.getValue()) + '\n');
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the graph snapshot to " + directory, e);
        }
    }

    /** Reads a snapshot directory written by {@link #write} (or by anything in that format). */
    public static GraphSnapshot read(Path directory) {
        List<Edge> edges = new ArrayList<>();
        try {
            int lineNumber = 0;
            for (String line : Files.readAllLines(directory.resolve(EDGES_FILE))) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                String[] f = line.split("\t", -1);
                if (f.length != 4) {
                    throw new IllegalArgumentException(directory.resolve(EDGES_FILE) + " line "
                            + lineNumber + ": expected 4 tab-separated fields "
                            + "(user_id, item_id, weight, last_ms), found " + f.length);
                }
                edges.add(new Edge(f[0], f[1], Double.parseDouble(f[2]), Long.parseLong(f[3])));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the graph snapshot in " + directory
                    + " (expected " + EDGES_FILE + " and " + ITEMS_FILE + ")", e);
        }
        return new GraphSnapshot(edges, readItemTexts(directory));
    }

    /** The catalogue of a snapshot directory ({@code items.tsv}; empty when there is none). */
    public static Map<String, String> readItemTexts(Path directory) {
        Map<String, String> texts = new TreeMap<>();
        Path items = directory.resolve(ITEMS_FILE);
        if (!Files.exists(items)) {
            return texts;
        }
        try {
            for (String line : Files.readAllLines(items)) {
                int tab = line.indexOf('\t');
                if (tab > 0) {
                    texts.put(line.substring(0, tab), line.substring(tab + 1));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + items, e);
        }
        return texts;
    }

    static String oneLine(String text) {
        return text == null ? "" : text.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
    }
}
