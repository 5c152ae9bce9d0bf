package dev.interestgraph.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The CSV layout of ml-latest-small, ml-latest and ml-20m/25m/32m: {@code movies.csv}
 * (movieId,title,genres; genres pipe-separated), {@code ratings.csv}
 * (userId,movieId,rating,timestamp) and, optionally, {@code tags.csv}
 * (userId,movieId,tag,timestamp); UTF-8 with a header row, RFC 4180 quoting.
 */
final class MovieLensCsv implements MovieLensLayout {
    private final Path dir;

    MovieLensCsv(Path dir) {
        this.dir = dir;
        MovieLensLayout.required(dir, "movies.csv", describe());
    }

    @Override
    public String describe() {
        return "CSV (movies.csv, ratings.csv, tags.csv)";
    }

    @Override
    public Map<String, Movie> movies() {
        Map<String, Movie> movies = new HashMap<>();
        CsvRecords.read(dir.resolve("movies.csv"), List.of("movieId", "title", "genres"),
                row -> movies.put(row.get(0),
                        new Movie(row.get(1), Arrays.asList(row.get(2).split("\\|")))));
        return movies;
    }

    @Override
    public void ratings(RowSink sink) {
        CsvRecords.read(dir.resolve("ratings.csv"),
                List.of("userId", "movieId", "rating", "timestamp"),
                row -> sink.row(row.get(0), row.get(1), row.get(2), Long.parseLong(row.get(3))));
    }

    @Override
    public void tags(RowSink sink) {
        Path tags = dir.resolve("tags.csv");
        if (Files.isRegularFile(tags)) {
            CsvRecords.read(tags, List.of("userId", "movieId", "tag", "timestamp"),
                    row -> sink.row(row.get(0), row.get(1), row.get(2),
                            Long.parseLong(row.get(3))));
        }
    }
}
