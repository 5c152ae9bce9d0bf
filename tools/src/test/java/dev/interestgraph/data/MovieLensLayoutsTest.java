package dev.interestgraph.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same small data set written in each MovieLens layout — ml-1m's {@code .dat} (ISO-8859-1,
 * no tags), ml-10m's {@code .dat} (UTF-8, tags), ml-100k — gives the same events and items as
 * its CSV (ml-latest-small layout) copy.
 */
class MovieLensLayoutsTest {

    @TempDir
    Path root;

    private record Movie(String id, String title, List<String> genres) {}

    private record Row(String user, String movie, String value, long seconds) {}

    /** "Léon" is é = 0xE9 in ISO-8859-1; movie 3 has four genres; movie 5 none. */
    private static final List<Movie> MOVIES = List.of(
            new Movie("1", "Toy Story (1995)", List.of("Adventure", "Animation", "Comedy")),
            new Movie("2", "American President, The (1995)", List.of("Comedy", "Drama", "Romance")),
            new Movie("3", "Léon: The Professional (a.k.a. The Professional) (Léon) (1994)",
                    List.of("Action", "Crime", "Drama", "Thriller")),
            new Movie("4", "Never Seen (2002)", List.of("Drama")),
            new Movie("5", "Nothing Known (1999)", List.of()));

    private static final List<Row> RATINGS = List.of(
            new Row("1", "2", "5", 1_000_000_100L), // tie with the next: file order
            new Row("1", "1", "3", 1_000_000_100L),
            new Row("2", "3", "1", 1_000_000_050L),
            new Row("2", "1", "5", 600_000_000L), // 1989: left out
            new Row("3", "3", "4", 1_000_000_200L),
            new Row("3", "5", "4", 1_000_000_300L));

    private static final List<Row> TAGS = List.of(
            new Row("2", "1", "funny, clever", 1_000_000_100L),
            new Row("1", "3", "classic", 1_000_000_000L),
            new Row("3", "3", "Léon's best", 1_000_000_300L));

    /** The genre names of ml-100k's u.genre, in its order. */
    private static final List<String> GENRES_100K = List.of("unknown", "Action", "Adventure",
            "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
            "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War",
            "Western");

    private Path dir(String name) throws Exception {
        return Files.createDirectories(root.resolve(name));
    }

    private static void write(Path file, Charset charset, List<String> lines) throws Exception {
        Files.writeString(file, String.join("\n", lines) + "\n", charset);
    }

    private static String csvField(String value) {
        return value.contains(",") || value.contains("\"")
                ? "\"" + value.replace("\"", "\"\"") + "\"" : value;
    }

    private Path writeCsv(String name, boolean withTags) throws Exception {
        Path dir = dir(name);
        List<String> movies = new ArrayList<>(List.of("movieId,title,genres"));
        MOVIES.forEach(m -> movies.add(m.id + "," + csvField(m.title) + ","
                + (m.genres.isEmpty() ? "(no genres listed)" : String.join("|", m.genres))));
        write(dir.resolve("movies.csv"), StandardCharsets.UTF_8, movies);
        write(dir.resolve("ratings.csv"), StandardCharsets.UTF_8, rows(
                "userId,movieId,rating,timestamp", RATINGS, ","));
        if (withTags) {
            List<String> tags = new ArrayList<>(List.of("userId,movieId,tag,timestamp"));
            TAGS.forEach(t -> tags.add(t.user + "," + t.movie + "," + csvField(t.value) + ","
                    + t.seconds));
            write(dir.resolve("tags.csv"), StandardCharsets.UTF_8, tags);
        }
        return dir;
    }

    private static List<String> rows(String header, List<Row> rows, String separator) {
        List<String> lines = new ArrayList<>();
        if (header != null) {
            lines.add(header);
        }
        rows.forEach(r -> lines.add(String.join(separator, r.user, r.movie, r.value,
                "" + r.seconds)));
        return lines;
    }

    /** ml-1m: ISO-8859-1 movies.dat, no tags; ml-10m: UTF-8 and tags.dat. */
    private Path writeDat(String name, Charset charset, boolean withTags) throws Exception {
        Path dir = dir(name);
        write(dir.resolve("movies.dat"), charset, MOVIES.stream()
                .map(m -> m.id + "::" + m.title + "::"
                        + (m.genres.isEmpty() ? "(no genres listed)" : String.join("|", m.genres)))
                .collect(Collectors.toList()));
        write(dir.resolve("ratings.dat"), charset, rows(null, RATINGS, "::"));
        if (withTags) {
            write(dir.resolve("tags.dat"), charset, rows(null, TAGS, "::"));
        }
        return dir;
    }

    private Path write100k() throws Exception {
        Path dir = dir("ml-100k");
        List<String> genres = new ArrayList<>();
        for (int g = 0; g < GENRES_100K.size(); g++) {
            genres.add(GENRES_100K.get(g) + "|" + g);
        }
        genres.add(""); // u.genre ends with a blank line
        write(dir.resolve("u.genre"), StandardCharsets.ISO_8859_1, genres);
        write(dir.resolve("u.item"), StandardCharsets.ISO_8859_1, MOVIES.stream().map(m -> {
            String[] flags = new String[GENRES_100K.size()];
            for (int g = 0; g < flags.length; g++) {
                flags[g] = m.genres.contains(GENRES_100K.get(g))
                        || (g == 0 && m.genres.isEmpty()) ? "1" : "0";
            }
            return m.id + "|" + m.title + "|01-Jan-1995||http://us.imdb.com/M/title-exact?x|"
                    + String.join("|", flags);
        }).collect(Collectors.toList()));
        write(dir.resolve("u.data"), StandardCharsets.ISO_8859_1, rows(null, RATINGS, "\t"));
        return dir;
    }

    private static List<String> events(MovieLensDataset data) {
        return data.events().stream().map(MovieLensLayoutsTest::describe)
                .collect(Collectors.toList());
    }

    private static String describe(UserAction e) {
        return String.join("|", e.eventId, e.userId, e.itemId, e.action.name(),
                "" + e.eventTimeMs, "" + e.value, String.valueOf(e.text));
    }

    private static List<String> items(MovieLensDataset data) {
        return data.items().stream().map(MovieLensLayoutsTest::describe)
                .collect(Collectors.toList());
    }

    private static String describe(ItemVersion i) {
        return String.join("|", i.itemId, i.title, Arrays.toString(i.tags), "" + i.updatedMs);
    }

    private static void assertSame(MovieLensDataset layout, MovieLensDataset csv) {
        assertThat(events(layout)).isEqualTo(events(csv));
        assertThat(items(layout)).isEqualTo(items(csv));
        assertThat(layout.skippedTooEarly()).isEqualTo(1).isEqualTo(csv.skippedTooEarly());
        ItemVersion leon = layout.items().stream().filter(i -> i.itemId.equals("3")).findFirst()
                .orElseThrow();
        assertThat(leon.title).isEqualTo(MOVIES.get(2).title);
        assertThat(leon.tags).containsExactly("Action", "Crime", "Drama", "Thriller");
        ItemVersion none = layout.items().stream().filter(i -> i.itemId.equals("5")).findFirst()
                .orElseThrow();
        assertThat(none.tags).isEmpty();
    }

    @Test
    void ml1mDatInIso88591GivesTheEventsAndItemsOfTheCsv() throws Exception {
        Path dat = writeDat("ml-1m", StandardCharsets.ISO_8859_1, false);
        // the test means something only if the file is not UTF-8: é is the single byte 0xE9
        byte[] bytes = Files.readAllBytes(dat.resolve("movies.dat"));
        assertThat(new String(bytes, StandardCharsets.ISO_8859_1)).contains("Léon");
        assertThat(bytes).contains((byte) 0xE9);

        MovieLensDataset layout = MovieLensDataset.load(dat, 0);
        MovieLensDataset csv = MovieLensDataset.load(writeCsv("csv", false), 0);
        assertSame(layout, csv);
        assertThat(layout.events()).hasSize(5);
        assertThat(layout.layout()).contains(".dat");
        assertThat(layout.describe()).contains(".dat", "5 of 5 events", "4 movies");
    }

    @Test
    void ml10mDatWithTagsGivesTheEventsAndItemsOfTheCsv() throws Exception {
        MovieLensDataset layout =
                MovieLensDataset.load(writeDat("ml-10m", StandardCharsets.UTF_8, true), 0);
        MovieLensDataset csv = MovieLensDataset.load(writeCsv("csv", true), 0);
        assertSame(layout, csv);
        assertThat(layout.events()).hasSize(8);
        assertThat(layout.events()).filteredOn(e -> e.text != null).extracting(e -> e.text)
                .containsExactly("classic", "funny, clever", "Léon's best");
    }

    @Test
    void ml100kGivesTheEventsAndItemsOfTheCsv() throws Exception {
        MovieLensDataset layout = MovieLensDataset.load(write100k(), 0);
        MovieLensDataset csv = MovieLensDataset.load(writeCsv("csv", false), 0);
        assertSame(layout, csv);
        assertThat(layout.layout()).contains("ml-100k");
        assertThat(layout.events()).extracting(e -> e.value)
                .containsExactly(1.0, 5.0, 3.0, 4.0, 4.0);
    }

    @Test
    void theVersionNamesTheDirectoryTheLayoutAndTheReadmesGenerationDate() throws Exception {
        Path csv = writeCsv("ml-latest-small", false);
        assertThat(MovieLensDataset.load(csv, 0).version())
                .isEqualTo("MovieLens ml-latest-small (CSV (movies.csv, ratings.csv, tags.csv))");
        Files.writeString(csv.resolve("README.txt"), "These data were created by 610 users.\n"
                + "This dataset was generated on September 26, 2018.\n");
        assertThat(MovieLensDataset.load(csv, 0).version()).isEqualTo("MovieLens ml-latest-small "
                + "(CSV (movies.csv, ratings.csv, tags.csv), generated September 26, 2018)")
                .doesNotContain(root.toString());
    }

    @Test
    void aBoundKeepsTheSameFirstEventsInEveryLayout() throws Exception {
        MovieLensDataset layout = MovieLensDataset.load(write100k(), 2);
        MovieLensDataset csv = MovieLensDataset.load(writeCsv("csv", false), 2);
        assertThat(events(layout)).isEqualTo(events(csv)).hasSize(2);
        assertThat(items(layout)).isEqualTo(items(csv));
    }

    @Test
    void aDirectoryWithoutAnyLayoutFailsNamingTheLayoutsAccepted() throws Exception {
        Path empty = dir("empty");
        Files.writeString(empty.resolve("README.txt"), "not a data set");
        assertThatThrownBy(() -> MovieLensDataset.load(empty, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ratings.csv").hasMessageContaining("ratings.dat")
                .hasMessageContaining("u.data").hasMessageContaining("ml-1m")
                .hasMessageContaining("ml-100k");
    }

    @Test
    void aLayoutWithoutItsMoviesFileFailsNamingIt() throws Exception {
        Path dat = writeDat("no-movies", StandardCharsets.UTF_8, false);
        Files.delete(dat.resolve("movies.dat"));
        assertThatThrownBy(() -> MovieLensDataset.load(dat, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("movies.dat");
    }

    @Test
    void aMalformedDatLineFailsWithTheFileAndLine() throws Exception {
        Path dat = writeDat("bad", StandardCharsets.UTF_8, false);
        Files.writeString(dat.resolve("ratings.dat"), "1::2::5::1000000100\n1,3,4,1000000200\n");
        assertThatThrownBy(() -> MovieLensDataset.load(dat, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ratings.dat, line 2");
    }
}
