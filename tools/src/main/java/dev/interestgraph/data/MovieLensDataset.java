package dev.interestgraph.data;

import dev.interestgraph.model.Action;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A MovieLens dataset in the ml-latest-small layout ({@code movies.csv}, {@code ratings.csv},
 * {@code tags.csv}), turned into a replay.
 *
 * <ul>
 *   <li>movies → catalogue items: item id = movieId, title, genres (pipe-separated) as tags
 *       ({@code (no genres listed)} gives none);
 *   <li>ratings → RATE events: user id = userId, value = rating, event time = timestamp × 1000;
 *   <li>tags → COMMENT events whose text is the tag.
 * </ul>
 *
 * <p>Events are ordered by timestamp, then ratings before tags, then file order: MovieLens has
 * many ratings that share a (user, second), and a stable tie-break makes every replay identical.
 * Events before 1990-01-01 are left out, because the job rejects such times as unit mistakes
 * (they would all become dead letters; MovieLens starts in 1996, so this only guards other
 * copies of the layout); {@link #skippedTooEarly()} counts them. With a bound,
 * the first {@code maxEvents} events are kept. The catalogue holds the movies the kept events
 * refer to, each valid from one second before the first kept event.
 */
public final class MovieLensDataset implements ReplayDataset {
    /** 1990-01-01T00:00:00Z: the job's lower bound for event times (see RecordParser). */
    static final long MIN_EVENT_TIME_MS = 631_152_000_000L;

    private final Path dir;
    private final List<ItemVersion> items = new ArrayList<>();
    private final List<UserAction> events;
    private final long skippedTooEarly;
    private final long available;

    private MovieLensDataset(Path dir, List<ItemVersion> items, List<UserAction> events,
            long skippedTooEarly, long available) {
        this.dir = dir;
        this.items.addAll(items);
        this.events = events;
        this.skippedTooEarly = skippedTooEarly;
        this.available = available;
    }

    /** Reads the dataset in {@code dir}; {@code maxEvents <= 0} keeps every event. */
    public static MovieLensDataset load(Path dir, long maxEvents) {
        for (String file : List.of("movies.csv", "ratings.csv")) {
            if (!Files.isRegularFile(dir.resolve(file))) {
                throw new IllegalArgumentException("No " + file + " in " + dir + ": expected the "
                        + "ml-latest-small layout (movies.csv, ratings.csv, tags.csv)");
            }
        }
        Map<String, String[]> movies = new HashMap<>(); // movieId -> {title, genres}
        CsvRecords.read(dir.resolve("movies.csv"), List.of("movieId", "title", "genres"),
                row -> movies.put(row.get(0), new String[] {row.get(1), row.get(2)}));

        // Sort keys kept beside the events: (time, source, row); source 0 = ratings, 1 = tags.
        List<Keyed> all = new ArrayList<>();
        long[] skipped = {0};
        CsvRecords.read(dir.resolve("ratings.csv"),
                List.of("userId", "movieId", "rating", "timestamp"), row -> {
                    long time = Long.parseLong(row.get(3)) * 1000;
                    if (time < MIN_EVENT_TIME_MS) {
                        skipped[0]++;
                        return;
                    }
                    UserAction event = new UserAction("r-" + row.get(0) + "-" + row.get(1),
                            row.get(0), row.get(1), Action.RATE, time,
                            Double.parseDouble(row.get(2)), null);
                    all.add(new Keyed(event, 0, all.size()));
                });
        Path tags = dir.resolve("tags.csv");
        if (Files.isRegularFile(tags)) {
            CsvRecords.read(tags, List.of("userId", "movieId", "tag", "timestamp"), row -> {
                long time = Long.parseLong(row.get(3)) * 1000;
                if (time < MIN_EVENT_TIME_MS) {
                    skipped[0]++;
                    return;
                }
                // a user may put several tags on one movie: the row number keeps ids unique
                UserAction event = new UserAction("t-" + row.get(0) + "-" + row.get(1) + "-"
                        + all.size(), row.get(0), row.get(1), Action.COMMENT, time, 0.0,
                        row.get(2));
                all.add(new Keyed(event, 1, all.size()));
            });
        }
        all.sort(Comparator.comparingLong((Keyed k) -> k.event.eventTimeMs)
                .thenComparingInt(k -> k.source).thenComparingInt(k -> k.row));
        int kept = maxEvents > 0 ? (int) Math.min(maxEvents, all.size()) : all.size();
        List<UserAction> events = new ArrayList<>(kept);
        Set<String> referenced = new LinkedHashSet<>();
        for (Keyed k : all.subList(0, kept)) {
            events.add(k.event);
            referenced.add(k.event.itemId);
        }
        long validFrom = events.isEmpty() ? MIN_EVENT_TIME_MS : events.get(0).eventTimeMs - 1000;
        List<ItemVersion> items = new ArrayList<>();
        for (String movieId : referenced.stream().sorted(Comparator.comparingLong(Long::parseLong))
                .toList()) {
            String[] movie = movies.get(movieId);
            if (movie == null) {
                continue; // not in movies.csv: the event goes on without an item (still an edge)
            }
            String[] genres = Arrays.stream(movie[1].split("\\|"))
                    .filter(g -> !g.isBlank() && !g.startsWith("("))
                    .toArray(String[]::new);
            items.add(new ItemVersion(movieId, movie[0], "", genres, validFrom));
        }
        return new MovieLensDataset(dir, items, events, skipped[0], all.size());
    }

    private record Keyed(UserAction event, int source, int row) {}

    @Override
    public String describe() {
        return String.format("MovieLens %s: %,d of %,d events, %,d movies%s", dir.getFileName(),
                events.size(), available, items.size(), skippedTooEarly == 0 ? ""
                        : String.format(" (%,d events before 1990 left out)", skippedTooEarly));
    }

    @Override
    public List<ItemVersion> items() {
        return items;
    }

    @Override
    public List<UserAction> events() {
        return events;
    }

    /** Events before 1990-01-01 that were left out. */
    public long skippedTooEarly() {
        return skippedTooEarly;
    }
}
