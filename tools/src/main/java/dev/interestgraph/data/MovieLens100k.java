package dev.interestgraph.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The ml-100k layout: {@code u.data} (user id, item id, rating, timestamp; tab-separated),
 * {@code u.item} (item id | title | release date | video release date | IMDb URL | one 0/1 flag
 * per genre; ISO-8859-1) and {@code u.genre} (name|index, one line per genre: the names of the
 * flags). No tags.
 */
final class MovieLens100k implements MovieLensLayout {
    /** Fields of u.item before the genre flags. */
    private static final int FLAGS_FROM = 5;
    /**
     * The flag meaning "no genre known", as ml-latest's "(no genres listed)": the movie gets no
     * genre rather than one called "unknown".
     */
    private static final String UNKNOWN = "unknown";

    private static final Pattern PIPE = Pattern.compile("|", Pattern.LITERAL);
    private static final Pattern TAB = Pattern.compile("\t", Pattern.LITERAL);

    private final Path dir;

    MovieLens100k(Path dir) {
        this.dir = dir;
        MovieLensLayout.required(dir, "u.item", describe());
        MovieLensLayout.required(dir, "u.genre", describe());
    }

    @Override
    public String describe() {
        return "ml-100k (u.data, u.item, u.genre)";
    }

    @Override
    public Map<String, Movie> movies() {
        List<String> genres = genreNames();
        Path file = dir.resolve("u.item");
        Map<String, Movie> movies = new HashMap<>();
        MovieLensLayout.forEachLine(MovieLensLayout.readText(file), PIPE, (fields, line) -> {
            if (fields.length != FLAGS_FROM + genres.size()) {
                throw MovieLensLayout.malformed(file, line, "expected " + (FLAGS_FROM
                        + genres.size()) + " fields (5, then one flag per genre of u.genre), "
                        + "found " + fields.length);
            }
            List<String> flagged = new ArrayList<>();
            for (int g = 0; g < genres.size(); g++) {
                if (fields[FLAGS_FROM + g].equals("1") && !genres.get(g).equals(UNKNOWN)) {
                    flagged.add(genres.get(g));
                }
            }
            movies.put(fields[0], new Movie(fields[1], flagged));
        });
        return movies;
    }

    /** The genre names of u.genre, by their index. */
    private List<String> genreNames() {
        Path file = dir.resolve("u.genre");
        Map<Integer, String> byIndex = new HashMap<>();
        MovieLensLayout.forEachLine(MovieLensLayout.readText(file), PIPE, (fields, line) -> {
            if (fields.length != 2) {
                throw MovieLensLayout.malformed(file, line, "expected name|index");
            }
            byIndex.put(Integer.parseInt(fields[1].trim()), fields[0]);
        });
        List<String> names = new ArrayList<>();
        for (int i = 0; i < byIndex.size(); i++) {
            if (!byIndex.containsKey(i)) {
                throw new IllegalArgumentException(file + ": genre indices are not 0.."
                        + (byIndex.size() - 1));
            }
            names.add(byIndex.get(i));
        }
        return names;
    }

    @Override
    public void ratings(RowSink sink) {
        Path file = dir.resolve("u.data");
        MovieLensLayout.forEachLine(file, TAB, (fields, line) -> {
            if (fields.length != 4) {
                throw MovieLensLayout.malformed(file, line,
                        "expected user id, item id, rating, timestamp (tab-separated)");
            }
            sink.row(fields[0], fields[1], fields[2], Long.parseLong(fields[3]));
        });
    }

    @Override
    public void tags(RowSink sink) {
        // ml-100k has no tags
    }
}
