package dev.interestgraph.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A small RFC 4180 reader for the MovieLens CSVs: comma-separated, fields optionally in double
 * quotes (a quoted field may hold commas, doubled quotes and line breaks), CRLF or LF line ends.
 * Enough for those files, so that the project needs no CSV library.
 */
final class CsvRecords {
    private CsvRecords() {}

    /** Calls {@code row} for every record after the header, which must be {@code header}. */
    static void read(Path file, List<String> header, Consumer<List<String>> row) {
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            List<String> first = next(reader);
            if (first == null || !first.equals(header)) {
                throw new IllegalArgumentException(file + ": expected the header "
                        + String.join(",", header) + ", found " + first);
            }
            for (List<String> record = next(reader); record != null; record = next(reader)) {
                if (record.size() == 1 && record.get(0).isEmpty()) {
                    continue; // blank line (e.g. at the end of the file)
                }
                if (record.size() != header.size()) {
                    throw new IllegalArgumentException(file + ": a record has " + record.size()
                            + " fields, expected " + header.size());
                }
                row.accept(record);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read " + file, e);
        }
    }

    /** The next record, or null at the end of the input. */
    static List<String> next(BufferedReader reader) throws IOException {
        String line = reader.readLine(); // strips LF and CRLF
        if (line == null) {
            return null;
        }
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        int i = 0;
        while (true) {
            if (i == line.length()) {
                if (!quoted) {
                    break;
                }
                // a line break inside quotes belongs to the field
                line = reader.readLine();
                if (line == null) {
                    throw new IllegalArgumentException("unterminated quoted field");
                }
                field.append('\n');
                i = 0;
                continue;
            }
            char c = line.charAt(i++);
            if (quoted) {
                if (c == '"') {
                    if (i < line.length() && line.charAt(i) == '"') {
                        field.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                fields.add(field.toString());
                field.setLength(0);
            } else {
                field.append(c);
            }
        }
        fields.add(field.toString());
        return fields;
    }
}
