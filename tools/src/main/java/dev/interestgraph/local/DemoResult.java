package dev.interestgraph.local;

import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.delta.DeltaMaterializer.UserView;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** What a demo run ended with: the numbers of its summary, for the terminal and for tests. */
public record DemoResult(
        long itemsReplayed,
        long eventsReplayed,
        long eventsProcessed,
        long deltasConsumed,
        long deltasApplied,
        long deltasEmittedByJob,
        long deadLetters,
        int users,
        long edges,
        long interests,
        boolean graphsEqualJob,
        /** Users whose graph does not account for their last replayed event (or is missing). */
        long usersBehindTheirLastEvent,
        boolean stoppedEarly,
        double seconds,
        /** From the job's submission to its end. */
        double jobSeconds,
        boolean dashboardOverviewAnswered,
        boolean dashboardListedJob,
        String dashboardJobName,
        List<String> dashboardVertices,
        /** Fine-tuning: the encoder versions the tuner announced, in order; else empty. */
        List<String> versionsAnnounced,
        /** Fine-tuning: users per encoder version of their profile; else empty. */
        Map<String, Long> profilesByVersion) {

    /**
     * Whether two materialised views hold the same users with the same graphs: position (epoch,
     * seq), edges, interests and profile, compared as protobuf values.
     */
    public static boolean sameGraphs(DeltaMaterializer a, DeltaMaterializer b) {
        Map<String, UserView> left = a.users();
        Map<String, UserView> right = b.users();
        if (!left.keySet().equals(right.keySet())) {
            return false;
        }
        for (Map.Entry<String, UserView> e : left.entrySet()) {
            UserView x = e.getValue();
            UserView y = right.get(e.getKey());
            if (x.epoch() != y.epoch() || x.seq() != y.seq() || !x.edges().equals(y.edges())
                    || !x.interests().equals(y.interests())
                    || !Objects.equals(x.profile(), y.profile())) {
                return false;
            }
        }
        return true;
    }
}
