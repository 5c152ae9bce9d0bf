package dev.interestgraph.recommend;

import dev.interestgraph.analytics.ItemGraph;
import dev.interestgraph.delta.DeltaMaterializer.UserView;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v1.InterestUpsert;
import dev.interestgraph.vector.VectorMath;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Recommends items to a user from their materialised interest graph: similarity of each candidate
 * item to the user's interest centroids (weighted by interest weight), plus graph neighbours
 * (item–item similarity to the items on the user's edges, weighted by edge weight) from the
 * {@link ItemGraph} of the graph analytics, plus popularity — which alone serves users without a
 * graph. Candidates are the items with embeddings and every item the item graph brings: the
 * neighbours of the user's items and, for a cold-start user (fewer than {@code coldStartEdges}
 * positive edges), the popular items of their items' communities. Items the graph already holds
 * (seen, disliked) are never recommended. Each recommendation says why.
 */
public final class Recommender {

    /** One recommended item with its score and explanation. */
    public static final class Recommendation {
        public final String itemId;
        public final double score;
        /** The interest it is most similar to, or -1. */
        public final int interestId;
        /** The user's item whose neighbour it is (strongest contribution), or null. */
        public final String becauseOf;
        /** Where the item came from: the signal that contributed most. */
        public final Source source;
        /** The community it was drawn from (cold start), or -1. */
        public final long communityId;
        /** Unweighted community and popularity signals: the backfill's order ({@link #rank}). */
        private final double community;
        private final double popular;

        Recommendation(String itemId, double score, int interestId, String becauseOf,
                Source source, long communityId, double community, double popular) {
            this.itemId = itemId;
            this.score = score;
            this.interestId = interestId;
            this.becauseOf = becauseOf;
            this.source = source;
            this.communityId = communityId;
            this.community = community;
            this.popular = popular;
        }

        @Override
        public String toString() {
            return itemId + String.format(" (%.3f", score)
                    + (interestId >= 0 ? ", interest " + interestId : "")
                    + (becauseOf != null ? ", like " + becauseOf : "") + ")";
        }
    }

    /** The signal that contributed most to a recommendation. */
    public enum Source {
        INTERESTS, NEIGHBORS, COMMUNITY, POPULAR
    }

    /**
     * Weights of the signals and the edge half-life used to weigh edges now. A score is linear in
     * the six signal weights ({@link #signals}), which is what lets the evaluation fit them on a
     * validation window ({@code eval.BlendFit}). Defaults: the hand-set weights of the sweep
     * with cosine neighbours (docs/evaluation.md). The blend fitted with EASE neighbours (on the
     * validation window's fresh graphs, among the weights no worse than these on its stale ones;
     * the latest values in docs/evaluation.md) beats them on the
     * validation window with EASE neighbours but loses to them with cosine neighbours, whose
     * scores are on another scale (docs/evaluation-ease.md), so it is not the default for every
     * neighbour model: a deployment with EASE neighbours passes it as options. Its community 0
     * is safe there because of the backfill ({@link #rank}).
     */
    public static final class Weights implements java.io.Serializable {
        private static final long serialVersionUID = 1L;

        public double interests = 0.1;
        /** Similarity to the short-term profile: what the user is into right now. */
        public double shortTerm = 0.1;
        public double neighbours = 1.0;
        public double popularity = 0.05;
        /**
         * Popularity within the communities of the user's items, for users with fewer than
         * {@link #coldStartEdges} positive edges: too few for neighbours to say much. (Whatever
         * its weight, the signal orders the backfill.)
         */
        public double community = 0.5;
        /**
         * The scale of negative item-neighbour weights (EASE's, published with {@code
         * analytics.ease.negatives}): 0 ignores them (as if the table had none), 1 takes them as
         * published. A blend weight like the others (its own signal, {@link
         * Signal#NEGATIVE_NEIGHBOURS}), so the evaluation fits it with them on the validation
         * window; tables without negative weights (cosine, Gelly) are unaffected by it.
         */
        public double negativeNeighbours = 1.0;
        /** How the user's items are weighed in the neighbour signal ({@link NeighbourEvidence}). */
        public NeighbourEvidence evidence = NeighbourEvidence.EDGE_WEIGHTS;
        public int coldStartEdges = 3;
        public long halfLifeMs = 30L * 24 * 3600 * 1000;

        /** A copy, to vary one weight without touching the shared set. */
        public Weights copy() {
            Weights copy = new Weights();
            copy.interests = interests;
            copy.shortTerm = shortTerm;
            copy.neighbours = neighbours;
            copy.popularity = popularity;
            copy.community = community;
            copy.negativeNeighbours = negativeNeighbours;
            copy.evidence = evidence;
            copy.coldStartEdges = coldStartEdges;
            copy.halfLifeMs = halfLifeMs;
            return copy;
        }
    }

    private final List<String> itemIds;
    private final float[][] vectors;
    private final Map<String, Integer> index = new HashMap<>();
    private final ItemGraph itemGraph;
    private final double[] popularity;
    private final boolean hasPopularityCounts;
    private final Weights weights;

    /**
     * @param itemEmbeddings L2-normalised item vectors; the candidates are these items
     * @param neighbours item → similar items with similarity (may be empty)
     * @param popularityCounts item → interaction count (may be empty)
     */
    public Recommender(Map<String, float[]> itemEmbeddings,
            Map<String, Map<String, Float>> neighbours, Map<String, Integer> popularityCounts,
            Weights weights) {
        this(itemEmbeddings, ItemGraph.of(neighbours), popularityCounts, weights);
    }

    /**
     * @param itemEmbeddings L2-normalised item vectors (may be empty: then candidates come from
     *     the item graph only, as in the streaming job)
     * @param itemGraph neighbours and communities from the graph analytics
     * @param popularityCounts item → interaction count (may be empty)
     */
    public Recommender(Map<String, float[]> itemEmbeddings, ItemGraph itemGraph,
            Map<String, Integer> popularityCounts, Weights weights) {
        this.itemIds = new ArrayList<>(itemEmbeddings.keySet());
        Collections.sort(itemIds);
        this.vectors = new float[itemIds.size()][];
        for (int i = 0; i < itemIds.size(); i++) {
            index.put(itemIds.get(i), i);
            vectors[i] = itemEmbeddings.get(itemIds.get(i));
        }
        this.itemGraph = Objects.requireNonNull(itemGraph);
        int maxCount = popularityCounts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        this.popularity = new double[itemIds.size()];
        for (int i = 0; i < itemIds.size(); i++) {
            int count = popularityCounts.getOrDefault(itemIds.get(i), 0);
            popularity[i] = maxCount == 0 ? 0 : Math.log1p(count) / Math.log1p(maxCount);
        }
        this.hasPopularityCounts = maxCount > 0;
        this.weights = weights;
    }

    /**
     * The ranking rule, shared with the evaluation's blend fit ({@code eval.BlendFit}) so that
     * what is fitted is what runs: candidates with a positive weighted score first, by score;
     * then the backfill — the others by their unweighted community signal, then by their
     * unweighted popularity, whatever those signals' weights — so that weights that leave a user
     * fewer than k positively scored candidates (e.g. a fitted community 0 / popularity 0 for a
     * user whose items have no neighbours) still rank the rest by community, then popularity,
     * as a fallback recommender does, instead of by nothing. Within the backfill, a candidate
     * with a negative score (negative item-neighbour evidence, e.g. EASE's negative weights,
     * outweighing its other signals) ranks after every candidate scored 0 (no evidence either
     * way), and negatives rank by score (the least negative first): the model says the user is
     * less likely to like it than an item it knows nothing about, so it fills a slot only when
     * nothing without evidence is left. Last, the item id. Negative: a ranks before b.
     */
    public static int rank(double scoreA, double communityA, double popularA, String idA,
            double scoreB, double communityB, double popularB, String idB) {
        int tierA = scoreA > 0 ? 0 : scoreA == 0 ? 1 : 2;
        int tierB = scoreB > 0 ? 0 : scoreB == 0 ? 1 : 2;
        if (tierA != tierB) {
            return Integer.compare(tierA, tierB);
        }
        if (tierA != 1) {
            if (scoreA != scoreB) {
                return Double.compare(scoreB, scoreA);
            }
        }
        if (tierA != 0) {
            if (communityA != communityB) {
                return Double.compare(communityB, communityA);
            }
            if (popularA != popularB) {
                return Double.compare(popularB, popularA);
            }
        }
        return idA.compareTo(idB);
    }

    /** The top {@code k} items for the user (null or empty graph: the most popular). */
    public List<Recommendation> recommend(UserView user, int k) {
        return recommend(user, Set.of(), k);
    }

    /**
     * The top {@code k} items for the user, never an item the graph holds nor one in {@code
     * exclude} (e.g. everything the user has already seen).
     */
    public List<Recommendation> recommend(UserView user, Set<String> exclude, int k) {
        Computed computed = compute(user, exclude, false);
        PriorityQueue<Recommendation> top = new PriorityQueue<>(k + 1, WORST_FIRST);
        for (int i = 0; i < itemIds.size(); i++) {
            String item = itemIds.get(i);
            if (computed.excluded.contains(item)) {
                continue;
            }
            offer(top, k, recommendation(item, computed.interests[i], computed.shortTerm[i],
                    computed.bestInterest[i], popularity[i], computed.fromGraph.remove(item)));
        }
        for (Map.Entry<String, Candidate> candidate : computed.fromGraph.entrySet()) {
            if (!computed.excluded.contains(candidate.getKey())) {
                offer(top, k, recommendation(candidate.getKey(), 0, 0, -1, 0,
                        candidate.getValue()));
            }
        }
        List<Recommendation> ranked = new ArrayList<>(top);
        ranked.sort(WORST_FIRST.reversed());
        return ranked;
    }

    /**
     * Multi-interest retrieval (PinnerSage-style, issue 17): each of the user's interests
     * retrieves its own candidates — the items nearest its centroid, scored
     * {@code weights.interests}·cosine + {@code weights.popularity}·popularity — and the k slots
     * are shared out by interest weight (largest remainders, so a user's minor interest still gets
     * a slot when its share rounds up), interleaved so that each interest's best items come
     * first. Against {@link #recommend}'s single score, a strong interest cannot crowd out a
     * weaker one. Users without interests (or without comparable centroids) get {@link
     * #recommend}'s list; so do the slots the interests cannot fill.
     */
    public List<Recommendation> recommendPerInterest(UserView user, Set<String> exclude, int k) {
        List<InterestUpsert> interests = new ArrayList<>();
        if (user != null && k > 0) {
            for (InterestUpsert interest : user.interests().values()) {
                if (interest.getWeight() > 0 && interest.getCentroidCount() > 0
                        && vectors.length > 0
                        && vectors[0].length == interest.getCentroidCount()) {
                    interests.add(interest);
                }
            }
        }
        if (interests.isEmpty()) {
            return recommend(user, exclude, k);
        }
        Set<String> excluded = new java.util.HashSet<>(exclude);
        excluded.addAll(user.edges().keySet());
        double[] now = weightsNow(user, interests);
        int[] quotas = quotas(now, k);
        List<List<Recommendation>> lists = new ArrayList<>();
        for (int q = 0; q < interests.size(); q++) {
            // k per interest: duplicates across interests may consume part of a list
            lists.add(quotas[q] == 0 ? List.of() : nearest(interests.get(q), excluded, k));
        }
        // interleave: an interest's j-th pick sits at (j + 0.5) / quota; heavier first on ties
        List<double[]> order = new ArrayList<>(); // position, interest
        for (int q = 0; q < interests.size(); q++) {
            for (int j = 0; j < quotas[q]; j++) {
                order.add(new double[] {(j + 0.5) / quotas[q], q});
            }
        }
        order.sort((a, b) -> a[0] != b[0] ? Double.compare(a[0], b[0])
                : Double.compare(now[(int) b[1]], now[(int) a[1]]));
        int[] next = new int[interests.size()];
        Set<String> chosen = new java.util.HashSet<>();
        List<Recommendation> ranked = new ArrayList<>(k);
        for (double[] slot : order) {
            int q = (int) slot[1];
            List<Recommendation> list = lists.get(q);
            while (next[q] < list.size() && chosen.contains(list.get(next[q]).itemId)) {
                next[q]++;
            }
            if (next[q] < list.size()) {
                Recommendation r = list.get(next[q]++);
                chosen.add(r.itemId);
                ranked.add(r);
            }
        }
        if (ranked.size() < k) {
            Set<String> more = new java.util.HashSet<>(excluded);
            more.addAll(chosen);
            for (Recommendation r : recommend(user, more, k - ranked.size())) {
                ranked.add(r);
            }
        }
        return ranked;
    }

    /**
     * The interests' weights decayed to the user's latest delta: an InterestUpsert's weight is as
     * of the delta that last sent it, so an interest the user left long ago would otherwise keep
     * its old weight. Its time is that of its newest item (edges carry their last event time).
     */
    private double[] weightsNow(UserView user, List<InterestUpsert> interests) {
        Map<Integer, Long> newest = new HashMap<>();
        for (EdgeUpsert edge : user.edges().values()) {
            if (edge.getInterestId() >= 0) {
                newest.merge(edge.getInterestId(), edge.getLastMs(), Math::max);
            }
        }
        double[] now = new double[interests.size()];
        for (int q = 0; q < now.length; q++) {
            InterestUpsert interest = interests.get(q);
            Long last = newest.get(interest.getInterestId());
            long elapsed = last == null ? 0 : Math.max(0, user.eventTimeMs() - last);
            now[q] = interest.getWeight() * Math.pow(2, -(double) elapsed / weights.halfLifeMs);
        }
        return now;
    }

    /** k slots shared by weight, largest remainders first (ties: the heavier, then the first). */
    static int[] quotas(double[] weights, int k) {
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        int[] quotas = new int[weights.length];
        double[] remainders = new double[weights.length];
        int given = 0;
        for (int q = 0; q < quotas.length; q++) {
            double share = total <= 0 ? (double) k / weights.length : k * weights[q] / total;
            quotas[q] = (int) Math.floor(share);
            remainders[q] = share - quotas[q];
            given += quotas[q];
        }
        List<Integer> byRemainder = new ArrayList<>();
        for (int q = 0; q < quotas.length; q++) {
            byRemainder.add(q);
        }
        byRemainder.sort((a, b) -> remainders[a] != remainders[b]
                ? Double.compare(remainders[b], remainders[a])
                : weights[a] != weights[b] ? Double.compare(weights[b], weights[a])
                : Integer.compare(a, b));
        for (int i = 0; given < k && i < byRemainder.size(); i++, given++) {
            quotas[byRemainder.get(i)]++;
        }
        return quotas;
    }

    /** One interest's k best items: cosine to its centroid, plus popularity. */
    private List<Recommendation> nearest(InterestUpsert interest, Set<String> excluded, int k) {
        float[] centroid = new float[interest.getCentroidCount()];
        for (int d = 0; d < centroid.length; d++) {
            centroid[d] = interest.getCentroid(d);
        }
        PriorityQueue<Recommendation> top = new PriorityQueue<>(k + 1, WORST_FIRST);
        for (int i = 0; i < vectors.length; i++) {
            if (excluded.contains(itemIds.get(i))) {
                continue;
            }
            float[] v = vectors[i];
            if (v.length != centroid.length) {
                continue; // another model's vectors are not comparable
            }
            double dot = 0;
            for (int d = 0; d < v.length; d++) {
                dot += v[d] * centroid[d];
            }
            double similarity = weights.interests * Math.max(0, dot);
            double popular = weights.popularity * popularity[i];
            offer(top, k, new Recommendation(itemIds.get(i), similarity + popular,
                    interest.getInterestId(), null,
                    similarity >= popular ? Source.INTERESTS : Source.POPULAR, -1, 0,
                    popularity[i]));
        }
        List<Recommendation> ranked = new ArrayList<>(top);
        ranked.sort(WORST_FIRST.reversed());
        return ranked;
    }

    /**
     * How the neighbour signal weighs each of the user's items (the evidence that the user likes
     * it): {@code EDGE_WEIGHTS}, the edge's weight decayed to now (a rating maps 0–5 stars to
     * −1…+1, so a 3-star film counts 0.2, a 5-star one 1, older edges less); {@code LIKED}, 1 for
     * every edge whose weight (undecayed) is at least {@link #LIKED_EDGE_WEIGHT} — a 3.5-star
     * rating, the evaluation's "relevant" — and 0 otherwise, as EASE^R counts a user's items.
     * Either way the sum is divided by the user's total evidence.
     */
    public enum NeighbourEvidence {
        EDGE_WEIGHTS, LIKED
    }

    /** The edge weight of a 3.5-star rating ((stars − 2.5) / 2.5): "liked" for {@code LIKED}. */
    public static final double LIKED_EDGE_WEIGHT = 0.4;

    /**
     * The signals a score combines, in the order of {@link Signals#values}' columns. The
     * neighbour signal is split by the sign of the neighbour weights (NEIGHBOURS the positive
     * ones, NEGATIVE_NEIGHBOURS the negative ones, a sum ≤ 0), so that the scale of negative
     * evidence is a weight like the others.
     */
    public enum Signal {
        INTERESTS, SHORT_TERM, NEIGHBOURS, COMMUNITY, POPULARITY, NEGATIVE_NEIGHBOURS;

        /** This signal's weight in {@code weights}. */
        public double weightIn(Weights weights) {
            switch (this) {
                case INTERESTS:
                    return weights.interests;
                case SHORT_TERM:
                    return weights.shortTerm;
                case NEIGHBOURS:
                    return weights.neighbours;
                case COMMUNITY:
                    return weights.community;
                case NEGATIVE_NEIGHBOURS:
                    return weights.negativeNeighbours;
                default:
                    return weights.popularity;
            }
        }
    }

    /**
     * Every candidate of one user with its unweighted signals: a recommendation's score is the
     * dot product of a row with the weights ({@link Signal#weightIn}), which is how {@link
     * #recommend} scores. What a blend of the weights is fitted on.
     */
    public record Signals(List<String> items, float[][] values) {
        /** The score of candidate {@code c} under {@code weights}, as {@link #recommend} has it. */
        public double score(int c, double[] weights) {
            double score = 0;
            for (int s = 0; s < weights.length; s++) {
                score += weights[s] * values[c][s];
            }
            return score;
        }
    }

    /**
     * The user's candidates (as {@link #recommend} has them: never an excluded or held item) with
     * every signal computed, whatever its weight. Candidates without any signal are left out.
     */
    public Signals signals(UserView user, Set<String> exclude) {
        Computed computed = compute(user, exclude, true);
        List<String> items = new ArrayList<>();
        List<float[]> values = new ArrayList<>();
        for (int i = 0; i < itemIds.size(); i++) {
            String item = itemIds.get(i);
            if (computed.excluded.contains(item)) {
                continue;
            }
            Candidate graph = computed.fromGraph.remove(item);
            add(items, values, item, computed.interests[i], computed.shortTerm[i], popularity[i],
                    graph);
        }
        for (Map.Entry<String, Candidate> candidate : computed.fromGraph.entrySet()) {
            if (!computed.excluded.contains(candidate.getKey())) {
                add(items, values, candidate.getKey(), 0, 0, 0, candidate.getValue());
            }
        }
        return new Signals(items, values.toArray(new float[0][]));
    }

    private static void add(List<String> items, List<float[]> values, String item,
            double interests, double shortTerm, double popular, Candidate graph) {
        float[] row = {(float) interests, (float) shortTerm,
            graph == null ? 0 : (float) graph.neighbours, graph == null ? 0 : (float) graph.community,
            (float) Math.max(popular, graph == null ? 0 : graph.popular),
            graph == null ? 0 : (float) graph.negative};
        for (float v : row) {
            if (v != 0) {
                items.add(item);
                values.add(row);
                return;
            }
        }
    }

    /** What {@link #recommend} and {@link #signals} share: the unweighted signals. */
    private static final class Computed {
        double[] interests;
        double[] shortTerm;
        int[] bestInterest;
        Set<String> excluded;
        Map<String, Candidate> fromGraph;
    }

    /** @param all compute every signal, also those whose weight is 0 (skipped otherwise) */
    private Computed compute(UserView user, Set<String> exclude, boolean all) {
        int n = itemIds.size();
        Computed c = new Computed();
        c.interests = new double[n];
        c.shortTerm = new double[n];
        c.bestInterest = new int[n];
        java.util.Arrays.fill(c.bestInterest, -1);
        c.excluded = new java.util.HashSet<>(exclude);
        // every candidate the item graph brings, whether or not it has an embedding
        c.fromGraph = new HashMap<>();
        if (user != null) {
            long now = user.eventTimeMs();
            c.excluded.addAll(user.edges().keySet());
            if (all || weights.interests != 0) {
                scoreInterests(user, c.interests, c.bestInterest);
            }
            if (all || weights.shortTerm != 0) {
                scoreShortTerm(user, c.shortTerm);
            }
            scoreNeighbours(user, now, c.fromGraph);
            scoreCommunities(user, now, c.fromGraph);
        }
        if (!hasPopularityCounts) {
            // no counts given (the streaming job): the communities know the popular items, for
            // the popularity signal and the backfill of users whose items bring too few
            scorePopularCommunities(c.fromGraph);
        }
        return c;
    }

    /** {@link #rank} reversed: the head is the first to drop out of the top k. */
    private static final java.util.Comparator<Recommendation> WORST_FIRST =
            (a, b) -> rank(b.score, b.community, b.popular, b.itemId,
                    a.score, a.community, a.popular, a.itemId);

    private static void offer(PriorityQueue<Recommendation> top, int k, Recommendation r) {
        if (top.size() < k || WORST_FIRST.compare(r, top.peek()) > 0) {
            top.add(r);
            if (top.size() > k) {
                top.poll();
            }
        }
    }

    private Recommendation recommendation(String item, double interestSimilarity,
            double shortTermSimilarity, int interestId, double popularity, Candidate graph) {
        double interests = weights.interests * interestSimilarity
                + weights.shortTerm * shortTermSimilarity;
        double popular = weights.popularity * popularity;
        double neighbours = graph == null ? 0 : weights.neighbours * graph.neighbours
                + weights.negativeNeighbours * graph.negative;
        double community = graph == null ? 0 : weights.community * graph.community;
        double popularFromGraph = graph == null ? 0 : weights.popularity * graph.popular;
        popular = Math.max(popular, popularFromGraph);
        double score = interests + neighbours + community + popular;
        double communitySignal = graph == null ? 0 : graph.community;
        double popularSignal = Math.max(popularity, graph == null ? 0 : graph.popular);
        Source source = Source.POPULAR;
        double strongest = popular;
        if (interests > strongest) {
            source = Source.INTERESTS;
            strongest = interests;
        }
        if (neighbours > strongest) {
            source = Source.NEIGHBORS;
            strongest = neighbours;
        }
        if (community > strongest) {
            source = Source.COMMUNITY;
        }
        if (score <= 0) { // a backfilled item: named by what ranks it
            source = communitySignal > 0 ? Source.COMMUNITY : Source.POPULAR;
        }
        return new Recommendation(item, score, interestId,
                graph == null ? null : graph.because, source,
                graph == null ? -1 : graph.communityId, communitySignal, popularSignal);
    }

    /** What the item graph says for one candidate. */
    private static final class Candidate {
        /** The positive neighbour weights' evidence (≥ 0). */
        double neighbours;
        /** The negative neighbour weights' evidence (≤ 0). */
        double negative;
        double community;
        double popular;
        String because;
        double becauseWeight;
        long communityId = -1;
    }

    private void scoreInterests(UserView user, double[] score, int[] best) {
        double maxWeight = user.interests().values().stream()
                .mapToDouble(InterestUpsert::getWeight).max().orElse(0);
        if (maxWeight <= 0) {
            return;
        }
        double[] dots = new double[vectors.length];
        for (InterestUpsert interest : user.interests().values()) {
            if (interest.getCentroidCount() == 0 || interest.getWeight() <= 0) {
                continue;
            }
            float[] centroid = new float[interest.getCentroidCount()];
            for (int d = 0; d < centroid.length; d++) {
                centroid[d] = interest.getCentroid(d);
            }
            double relative = interest.getWeight() / maxWeight;
            VectorMath.dotsInto(vectors, centroid, dots);
            for (int i = 0; i < vectors.length; i++) {
                if (vectors[i].length != centroid.length) {
                    continue; // another model's vectors are not comparable
                }
                double s = relative * Math.max(0, dots[i]);
                if (s > score[i]) {
                    score[i] = s;
                    best[i] = interest.getInterestId();
                }
            }
        }
    }

    /** The short-term profile's similarity to each item (clipped at 0). */
    private void scoreShortTerm(UserView user, double[] score) {
        if (user.profile().isEmpty() || user.profile().get().getShortTermCount() == 0) {
            return;
        }
        List<Float> profile = user.profile().get().getShortTermList();
        float[] shortTerm = new float[profile.size()];
        for (int d = 0; d < shortTerm.length; d++) {
            shortTerm[d] = profile.get(d);
        }
        double[] dots = new double[vectors.length];
        VectorMath.dotsInto(vectors, shortTerm, dots);
        for (int i = 0; i < vectors.length; i++) {
            if (vectors[i].length == shortTerm.length) {
                score[i] = Math.max(0, dots[i]);
            }
        }
    }

    /** Runs first, on an empty candidate map: the neighbours of the user's items. */
    private void scoreNeighbours(UserView user, long now, Map<String, Candidate> candidates) {
        double total = 0;
        boolean negatives = weights.negativeNeighbours != 0;
        for (EdgeUpsert edge : user.edges().values()) {
            double w = evidence(edge, now);
            if (w <= 0) {
                continue;
            }
            total += w;
            for (Map.Entry<String, Float> similar : itemGraph.neighbours(edge.getItemId())
                    .entrySet()) {
                if (similar.getValue() < 0 && !negatives) {
                    // weighted 0: a candidate only negative weights bring is not one at all,
                    // exactly as with a table without them
                    continue;
                }
                Candidate candidate = candidates.computeIfAbsent(similar.getKey(),
                        item -> new Candidate());
                double contribution = w * similar.getValue();
                if (contribution < 0) {
                    candidate.negative += contribution;
                    continue;
                }
                candidate.neighbours += contribution;
                if (contribution > candidate.becauseWeight) {
                    candidate.becauseWeight = contribution;
                    candidate.because = edge.getItemId();
                }
            }
        }
        for (Candidate candidate : candidates.values()) {
            candidate.neighbours /= total; // total > 0 whenever a candidate was added
            candidate.negative /= total;
        }
    }

    /** The weight of one of the user's items in the neighbour signal ({@link #weights}). */
    private double evidence(EdgeUpsert edge, long now) {
        if (weights.evidence == NeighbourEvidence.LIKED) {
            return edge.getWeight() >= LIKED_EDGE_WEIGHT ? 1 : 0;
        }
        return decayed(edge, now);
    }

    /**
     * Cold start: a user with few positive edges, or whose items have no neighbours, gets the
     * popular items of their items' communities, each community weighted by the user's edges in
     * it. Runs after {@link #scoreNeighbours}, whose candidates it sees.
     */
    private void scoreCommunities(UserView user, long now, Map<String, Candidate> candidates) {
        Map<Long, Double> communityWeight = new HashMap<>();
        double total = 0;
        int positive = 0;
        for (EdgeUpsert edge : user.edges().values()) {
            double w = decayed(edge, now);
            if (w <= 0) {
                continue;
            }
            positive++;
            total += w;
            long community = itemGraph.communityOf(edge.getItemId());
            if (community >= 0) {
                communityWeight.merge(community, w, Double::sum);
            }
        }
        // negative neighbours (EASE's negative weights) are no reason to skip the cold start
        boolean neighboursFound = candidates.values().stream().anyMatch(c -> c.neighbours > 0);
        if (positive >= weights.coldStartEdges && neighboursFound || total <= 0) {
            return;
        }
        for (Map.Entry<Long, Double> community : communityWeight.entrySet()) {
            List<ItemGraph.Popular> popular = itemGraph.popularIn(community.getKey());
            if (popular.isEmpty()) {
                continue;
            }
            double share = community.getValue() / total;
            double most = Math.max(1, popular.get(0).users());
            for (ItemGraph.Popular item : popular) {
                Candidate candidate = candidates.computeIfAbsent(item.itemId(),
                        id -> new Candidate());
                double s = share * item.users() / most;
                if (s > candidate.community) {
                    candidate.community = s;
                    candidate.communityId = community.getKey();
                }
            }
        }
    }

    /** A user without a graph, and no popularity counts given: the communities' popular items. */
    private void scorePopularCommunities(Map<String, Candidate> candidates) {
        int most = 1;
        for (long community : itemGraph.communities()) {
            for (ItemGraph.Popular item : itemGraph.popularIn(community)) {
                most = Math.max(most, item.users());
            }
        }
        for (long community : itemGraph.communities()) {
            for (ItemGraph.Popular item : itemGraph.popularIn(community)) {
                Candidate candidate = candidates.computeIfAbsent(item.itemId(),
                        id -> new Candidate());
                candidate.popular = Math.log1p(item.users()) / Math.log1p(most);
                if (candidate.communityId < 0) { // the user's own community (cold start) stays
                    candidate.communityId = community;
                }
            }
        }
    }

    private double decayed(EdgeUpsert edge, long now) {
        long elapsed = Math.max(0, now - edge.getLastMs());
        return edge.getWeight() * Math.pow(2, -(double) elapsed / weights.halfLifeMs);
    }
}
