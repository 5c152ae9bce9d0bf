package dev.interestgraph.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.model.Action;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The MovieLens replay on a small dataset in the ml-latest-small layout (CRLF, quoted titles). */
class MovieLensDatasetTest {

    @TempDir
    Path dir;

    private void write(String name, String... lines) throws Exception {
        Files.writeString(dir.resolve(name), String.join("\r\n", lines) + "\r\n",
                StandardCharsets.UTF_8);
    }

    private void writeFixture() throws Exception {
        write("movies.csv", "movieId,title,genres",
                "1,Toy Story (1995),Adventure|Animation|Children",
                "2,\"American President, The (1995)\",Comedy|Drama|Romance",
                "3,\"Quote \"\"Test\"\" (2001)\",(no genres listed)",
                "4,Never Seen (2002),Drama");
        write("ratings.csv", "userId,movieId,rating,timestamp",
                "1,2,4.5,1000000100",   // tie with the next at 1000000100: file order
                "1,1,3.0,1000000100",
                "2,3,0.5,1000000050",
                "2,1,5.0,600000000");   // 1989: before 1990, left out
        write("tags.csv", "userId,movieId,tag,timestamp",
                "2,1,\"funny, clever\",1000000100", // same second as two ratings: after them
                "1,3,classic,1000000000");
    }

    @Test
    void replaysRatingsAndTagsInTimestampOrderWithAStableTieBreak() throws Exception {
        writeFixture();
        MovieLensDataset data = MovieLensDataset.load(dir, 0);

        List<UserAction> events = data.events();
        assertThat(events).extracting(e -> e.eventId).containsExactly(
                "t-1-3-4", "r-2-3", "r-1-2", "r-1-1", "t-2-1-3");
        UserAction rate = events.get(2);
        assertThat(rate.userId).isEqualTo("1");
        assertThat(rate.itemId).isEqualTo("2");
        assertThat(rate.action).isEqualTo(Action.RATE);
        assertThat(rate.value).isEqualTo(4.5);
        assertThat(rate.eventTimeMs).isEqualTo(1_000_000_100_000L);
        UserAction comment = events.get(4);
        assertThat(comment.action).isEqualTo(Action.COMMENT);
        assertThat(comment.text).isEqualTo("funny, clever");
        assertThat(comment.value).isZero();
        assertThat(data.skippedTooEarly()).isEqualTo(1);

        // the movies the events refer to, by id, valid one second before the first event
        List<ItemVersion> items = data.items();
        assertThat(items).extracting(i -> i.itemId).containsExactly("1", "2", "3");
        assertThat(items.get(1).title).isEqualTo("American President, The (1995)");
        assertThat(items.get(1).tags).containsExactly("Comedy", "Drama", "Romance");
        assertThat(items.get(2).title).isEqualTo("Quote \"Test\" (2001)");
        assertThat(items.get(2).tags).isEmpty();
        assertThat(items).allMatch(i -> i.updatedMs == 1_000_000_000_000L - 1000);
        assertThat(data.describe()).contains("5 of 5 events", "3 movies", "1 events before 1990");
    }

    @Test
    void aBoundKeepsTheFirstEventsAndOnlyTheirMovies() throws Exception {
        writeFixture();
        MovieLensDataset data = MovieLensDataset.load(dir, 2);
        assertThat(data.events()).extracting(e -> e.eventId).containsExactly("t-1-3-4", "r-2-3");
        assertThat(data.items()).extracting(i -> i.itemId).containsExactly("3");
    }
}
