package dev.interestgraph.data;

import dev.interestgraph.model.Action;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A MovieLens dataset turned into a replay, in any of the layouts GroupLens published ({@link
 * MovieLensLayout}): the CSVs of ml-latest-small, ml-latest and ml-20m/25m/32m; the {@code ::}
 * {@code .dat} files of ml-1m and ml-10m; ml-100k's {@code u.data} / {@code u.item}. The same
 * data gives the same events and items in every layout.
 *
 * <ul>
 *   <li>movies → catalogue items: item id = movie id, title (with the year), genres as tags
 *       ({@code (no genres listed)}, ml-100k's {@code unknown}, give none);
 *   <li>ratings → RATE events: user id, value = rating, event time = timestamp × 1000;
 *   <li>tags (CSV and ml-10m) → COMMENT events whose text is the tag.
 * </ul>
 *
 * <p>Events are ordered by timestamp, then ratings before tags, then file order: MovieLens has
 * many ratings that share a (user, second), and a stable tie-break makes every replay identical.
 * Events before 1990-01-01 are left out, because the job rejects such times as unit mistakes
 * (they would all become dead letters; MovieLens starts in 1996, so this only guards other
 * copies of the data); {@link #skippedTooEarly()} counts them. With a bound,
 * the first {@code maxEvents} events are kept. The catalogue holds the movies the kept events
 * refer to, each valid from one second before the first kept event.
 */
public final class MovieLensDataset implements ReplayDataset {
    /** 1990-01-01T00:00:00Z: the job's lower bound for event times (see RecordParser). */
    static final long MIN_EVENT_TIME_MS = 631_152_000_000L;

    private final Path dir;
    private final String layout;
    private final List<ItemVersion> items = new ArrayList<>();
    private final List<UserAction> events;
    private final long skippedTooEarly;
    private final long available;

    private MovieLensDataset(Path dir, String layout, List<ItemVersion> items,
            List<UserAction> events, long skippedTooEarly, long available) {
        this.dir = dir;
        this.layout = layout;
        this.items.addAll(items);
        this.events = events;
        this.skippedTooEarly = skippedTooEarly;
        this.available = available;
    }

    /**
     * Reads the dataset in {@code dir}, in whichever MovieLens layout its files are ({@link
     * MovieLensLayout#detect}); {@code maxEvents <= 0} keeps every event.
     */
    public static MovieLensDataset load(Path dir, long maxEvents) {
        MovieLensLayout layout = MovieLensLayout.detect(dir);
        Map<String, MovieLensLayout.Movie> movies = layout.movies();

        // Sort keys kept beside the events: (time, source, row); source 0 = ratings, 1 = tags.
        List<Keyed> all = new ArrayList<>();
        long[] skipped = {0};
        // one String per distinct id: ml-25m repeats 160k user ids over 25M rows
        Map<String, String> ids = new HashMap<>();
        layout.ratings((user, movie, rating, seconds) -> {
            long time = seconds * 1000;
            if (time < MIN_EVENT_TIME_MS) {
                skipped[0]++;
                return;
            }
            UserAction event = new UserAction("r-" + user + "-" + movie,
                    ids.computeIfAbsent(user, id -> id), ids.computeIfAbsent(movie, id -> id),
                    Action.RATE, time, Double.parseDouble(rating), null);
            all.add(new Keyed(event, 0, all.size()));
        });
        layout.tags((user, movie, tag, seconds) -> {
            long time = seconds * 1000;
            if (time < MIN_EVENT_TIME_MS) {
                skipped[0]++;
                return;
            }
            // a user may put several tags on one movie: the row number keeps ids unique
            UserAction event = new UserAction("t-" + user + "-" + movie + "-" + all.size(),
                    ids.computeIfAbsent(user, id -> id), ids.computeIfAbsent(movie, id -> id),
                    Action.COMMENT, time, 0.0, tag);
            all.add(new Keyed(event, 1, all.size()));
        });
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
            MovieLensLayout.Movie movie = movies.get(movieId);
            if (movie == null) {
                continue; // not in the movies file: the event goes on without an item (an edge)
            }
            String[] genres = movie.genres().stream()
                    .filter(g -> !g.isBlank() && !g.startsWith("("))
                    .toArray(String[]::new);
            items.add(new ItemVersion(movieId, movie.title(), "", genres, validFrom));
        }
        return new MovieLensDataset(dir, layout.describe(), items, events, skipped[0],
                all.size());
    }

    private record Keyed(UserAction event, int source, int row) {}

    @Override
    public String describe() {
        return String.format("MovieLens %s, %s: %,d of %,d events, %,d movies%s", dir.getFileName(),
                layout, events.size(), available, items.size(), skippedTooEarly == 0 ? ""
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

    /** The layout the files were read in, e.g. ".dat with '::' (movies.dat, ...)". */
    public String layout() {
        return layout;
    }

    /**
     * What a report names as the data: the directory's name (never this machine's path), the
     * layout, and the release's generation date where its README says it ("This dataset was
     * generated on September 26, 2018.", as the ml-latest and ml-2xm READMEs do).
     */
    public String version() {
        String generated = "";
        Path readme = dir.resolve("README.txt");
        if (Files.isRegularFile(readme)) {
            Matcher date = GENERATED.matcher(MovieLensLayout.readText(readme));
            generated = date.find() ? ", generated " + date.group(1) : "";
        }
        return "MovieLens " + dir.getFileName() + " (" + layout + generated + ")";
    }

    private static final Pattern GENERATED =
            Pattern.compile("generated on ([A-Z][a-z]+ \\d{1,2}, \\d{4})");

    /** Events before 1990-01-01 that were left out. */
    public long skippedTooEarly() {
        return skippedTooEarly;
    }
}
