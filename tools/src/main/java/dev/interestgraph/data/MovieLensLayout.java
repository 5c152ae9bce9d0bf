package dev.interestgraph.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The files of one MovieLens release, read into one shape: the movies, then the rating rows and
 * the tag rows in file order. {@link MovieLensDataset} turns them into a replay whatever the
 * layout, so that every release gives the same events and items for the same data.
 *
 * <p>GroupLens published three layouts: the CSVs of ml-latest-small, ml-latest and ml-20m/25m/32m
 * ({@link MovieLensCsv}); the {@code ::}-separated {@code .dat} files of ml-1m and ml-10m
 * ({@link MovieLensDat}); and ml-100k's {@code u.data} / {@code u.item} ({@link MovieLens100k}).
 */
interface MovieLensLayout {

    /** What {@link #detect} accepts, for the message when a directory has none of them. */
    String ACCEPTED = "MovieLens CSV (ml-latest-small, ml-latest, ml-20m/25m/32m: ratings.csv, "
            + "movies.csv, tags.csv), .dat with '::' (ml-1m, ml-10m: ratings.dat, movies.dat, "
            + "tags.dat) or ml-100k (u.data, u.item, u.genre)";

    /** A movie: its title (with the year, as MovieLens writes it) and its genre names. */
    record Movie(String title, List<String> genres) {}

    /** One rating or tag row; {@code value} is the rating as written, or the tag's text. */
    @FunctionalInterface
    interface RowSink {
        void row(String userId, String movieId, String value, long timestampSeconds);
    }

    /** The layout's name for reports, e.g. "CSV (movies.csv, ratings.csv, tags.csv)". */
    String describe();

    /** Movie id → movie. */
    Map<String, Movie> movies();

    /** Every rating row, in file order. */
    void ratings(RowSink sink);

    /** Every tag row, in file order; none where the layout has no tags. */
    void tags(RowSink sink);

    /**
     * The layout of {@code dir}, from its ratings file: {@code ratings.csv}, {@code ratings.dat}
     * or {@code u.data} (in that order, should a directory hold more than one).
     */
    static MovieLensLayout detect(Path dir) {
        if (Files.isRegularFile(dir.resolve("ratings.csv"))) {
            return new MovieLensCsv(dir);
        }
        if (Files.isRegularFile(dir.resolve("ratings.dat"))) {
            return new MovieLensDat(dir);
        }
        if (Files.isRegularFile(dir.resolve("u.data"))) {
            return new MovieLens100k(dir);
        }
        throw new IllegalArgumentException("No MovieLens ratings file in " + dir
                + ": expected one of the layouts " + ACCEPTED);
    }

    /** Fails with a message naming the layout when one of its required files is missing. */
    static Path required(Path dir, String file, String layout) {
        Path path = dir.resolve(file);
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("No " + file + " in " + dir + ": the " + layout
                    + " layout needs it");
        }
        return path;
    }

    /**
     * A text file of the older releases, decoded by its bytes: ml-1m and ml-100k are ISO-8859-1
     * ("Léon" has the single byte 0xE9, which is never valid UTF-8), later releases UTF-8. A
     * strict UTF-8 decode that fails means ISO-8859-1, which decodes any bytes. Only for the
     * small files with text (movies, tags): the ratings are digits, the same in either.
     */
    static String readText(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException notUtf8) {
                return new String(bytes, StandardCharsets.ISO_8859_1);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read " + file, e);
        }
    }

    /** The fields of one line of a layout's file, with its line number (from 1) for messages. */
    @FunctionalInterface
    interface FieldsSink {
        void accept(String[] fields, long line);
    }

    /** Splits every non-blank line of {@code lines} at {@code separator}, numbering the lines. */
    static void forEachLine(Iterator<String> lines, Pattern separator, FieldsSink sink) {
        long line = 0;
        while (lines.hasNext()) {
            String text = lines.next();
            line++;
            if (!text.isBlank()) {
                sink.accept(separator.split(text, -1), line);
            }
        }
    }

    /** {@link #forEachLine(Iterator, Pattern, FieldsSink)} over a decoded text file's lines. */
    static void forEachLine(String text, Pattern separator, FieldsSink sink) {
        forEachLine(text.lines().iterator(), separator, sink);
    }

    /**
     * {@link #forEachLine(Iterator, Pattern, FieldsSink)} over a ratings file, streamed rather
     * than decoded whole (ml-10m's ratings.dat is 250 MB; digits only, so the charset does not
     * matter).
     */
    static void forEachLine(Path file, Pattern separator, FieldsSink sink) {
        try (BufferedReader reader = Files.newBufferedReader(file,
                StandardCharsets.ISO_8859_1)) {
            forEachLine(reader.lines().iterator(), separator, sink);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read " + file, e);
        }
    }

    /** A malformed row: the file and the line, so that a bad copy is easy to find. */
    static IllegalArgumentException malformed(Path file, long line, String what) {
        return new IllegalArgumentException(file + ", line " + line + ": " + what);
    }
}
