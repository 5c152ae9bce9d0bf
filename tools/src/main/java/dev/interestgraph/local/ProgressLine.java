package dev.interestgraph.local;

/** The demo's progress line: pure formatting, so that it can be tested. */
public final class ProgressLine {
    private ProgressLine() {}

    /** Counts at one moment of the run. */
    public record Snapshot(long replayed, long total, long processed, long deltas, long users,
            double eventsPerSecond, double elapsedSeconds) {}

    /** {@code [#####.....]  50% replayed 5,000/10,000 | processed ... | 00:12}. */
    public static String format(Snapshot s, int barWidth) {
        StringBuilder line = new StringBuilder();
        if (s.total() > 0) {
            double done = Math.min(1.0, (double) s.processed() / s.total());
            int filled = (int) Math.round(done * barWidth);
            line.append('[').append("#".repeat(filled)).append(".".repeat(barWidth - filled))
                    .append(String.format("] %3d%% ", (int) Math.floor(done * 100)));
        }
        line.append(String.format("replayed %,d", s.replayed()));
        if (s.total() > 0) {
            line.append(String.format("/%,d", s.total()));
        }
        line.append(String.format(" | processed %,d | deltas %,d | users %,d | %,.0f ev/s | "
                + "%02d:%02d", s.processed(), s.deltas(), s.users(), s.eventsPerSecond(),
                (long) s.elapsedSeconds() / 60, (long) s.elapsedSeconds() % 60));
        return line.toString();
    }
}
