package dev.interestgraph.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The {@code .dat} layout of ml-1m and ml-10m: no header, fields separated by {@code ::};
 * {@code movies.dat} (MovieID::Title::Genres, genres pipe-separated), {@code ratings.dat}
 * (UserID::MovieID::Rating::Timestamp) and, in ml-10m only, {@code tags.dat}
 * (UserID::MovieID::Tag::Timestamp). ml-1m's movies.dat is ISO-8859-1: the text files are
 * decoded by their bytes ({@link MovieLensLayout#readText}).
 */
final class MovieLensDat implements MovieLensLayout {
    private static final Pattern SEPARATOR = Pattern.compile("::", Pattern.LITERAL);

    private final Path dir;

    MovieLensDat(Path dir) {
        this.dir = dir;
        MovieLensLayout.required(dir, "movies.dat", describe());
    }

    @Override
    public String describe() {
        return ".dat with '::' (movies.dat, ratings.dat, tags.dat)";
    }

    @Override
    public Map<String, Movie> movies() {
        Path file = dir.resolve("movies.dat");
        Map<String, Movie> movies = new HashMap<>();
        MovieLensLayout.forEachLine(MovieLensLayout.readText(file), SEPARATOR, (fields, line) -> {
            if (fields.length < 3) {
                throw MovieLensLayout.malformed(file, line, "expected MovieID::Title::Genres");
            }
            // the genres are last; a title holding "::" (none known) would keep it
            String title = String.join("::", Arrays.copyOfRange(fields, 1, fields.length - 1));
            movies.put(fields[0], new Movie(title,
                    Arrays.asList(fields[fields.length - 1].split("\\|"))));
        });
        return movies;
    }

    @Override
    public void ratings(RowSink sink) {
        Path file = dir.resolve("ratings.dat");
        MovieLensLayout.forEachLine(file, SEPARATOR, (fields, line) -> {
            if (fields.length != 4) {
                throw MovieLensLayout.malformed(file, line,
                        "expected UserID::MovieID::Rating::Timestamp");
            }
            sink.row(fields[0], fields[1], fields[2], Long.parseLong(fields[3]));
        });
    }

    @Override
    public void tags(RowSink sink) {
        Path file = dir.resolve("tags.dat");
        if (!Files.isRegularFile(file)) {
            return; // ml-1m has no tags
        }
        MovieLensLayout.forEachLine(MovieLensLayout.readText(file), SEPARATOR, (fields, line) -> {
            if (fields.length < 4) {
                throw MovieLensLayout.malformed(file, line,
                        "expected UserID::MovieID::Tag::Timestamp");
            }
            String tag = String.join("::", Arrays.copyOfRange(fields, 2, fields.length - 1));
            sink.row(fields[0], fields[1], tag, Long.parseLong(fields[fields.length - 1]));
        });
    }
}
