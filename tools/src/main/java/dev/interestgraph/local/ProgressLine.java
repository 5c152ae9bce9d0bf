package dev.interestgraph.local;

/** The demo's progress line: pure formatting, so that it can be tested. */
public final class ProgressLine {
    private ProgressLine() {}

    /**
     * Counts at one moment of the run. Live counts come from the running job's metrics
     * ({@link JobProgressProbe}; -1 while it has not reported them): events its sources read,
     * actions its user-graph processed, deltas it emitted. Committed counts move only at
     * checkpoints: events whose offsets the job committed, deltas a read_committed consumer got.
     */
    public record Snapshot(long replayed, long total, long consumed, long processed,
            long deltasEmitted, long committedEvents, long committedDeltas, long users,
            double eventsPerSecond, double elapsedSeconds) {}

    /**
     * {@code [#####.....]  50% replayed 1,000/1,000 | job read 500, processed 480, deltas 420 |
     * committed events 400, deltas 300, users 12 | 250 ev/s | 01:15}; the bar is what the job
     * has read.
     */
    public static String format(Snapshot s, int barWidth) {
        StringBuilder line = new StringBuilder();
        long read = Math.max(s.consumed(), s.committedEvents());
        if (s.total() > 0) {
            double done = Math.min(1.0, (double) Math.max(0, read) / s.total());
            int filled = (int) Math.round(done * barWidth);
            line.append('[').append("#".repeat(filled)).append(".".repeat(barWidth - filled))
                    .append(String.format("] %3d%% ", (int) Math.floor(done * 100)));
        }
        line.append(String.format("replayed %,d", s.replayed()));
        if (s.total() > 0) {
            line.append(String.format("/%,d", s.total()));
        }
        line.append(" | job read ").append(count(s.consumed())).append(", processed ")
                .append(count(s.processed())).append(", deltas ").append(count(s.deltasEmitted()))
                .append(String.format(" | committed events %,d, deltas %,d, users %,d | %,.0f "
                        + "ev/s | %02d:%02d", s.committedEvents(), s.committedDeltas(), s.users(),
                        s.eventsPerSecond(), (long) s.elapsedSeconds() / 60,
                        (long) s.elapsedSeconds() % 60));
        return line.toString();
    }

    private static String count(long value) {
        return value < 0 ? "-" : String.format("%,d", value);
    }
}
