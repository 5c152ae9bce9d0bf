package dev.interestgraph.eval;

import dev.interestgraph.analytics.EaseModel;
import dev.interestgraph.analytics.GraphAnalyticsJob;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.delta.DeltaMaterializer.UserView;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.analytics.ItemGraph;
import dev.interestgraph.recommend.RankingMetrics;
import dev.interestgraph.recommend.Recommender;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Scores recommendations from the interest graph against users' strictly later behaviour, next
 * to baselines scored identically (docs/evaluation.md):
 *
 * <ul>
 *   <li><b>before/after</b>: per-user cuts a = ⌊0.6n⌋, b = ⌊0.8n⌋; the graph after events[:a]
 *       (frozen at the split) and after events[:b] (updated), both ranked against events[b:];
 *   <li><b>prequential</b>: each sampled target event ranked against the graph just before it
 *       (updated continuously) and against the graph frozen at the user's cut b.
 * </ul>
 *
 * Candidates exclude what the system has seen of the user up to the graph's cut (the graph's
 * items and the user's earlier events). Relevant = rating ≥ 3.5 (or a positive action).
 */
public final class Evaluation {
    public static final int[] KS = {5, 10, 20};
    static final int MAX_K = 20;
    /**
     * The default margin of the item–item stale floor, in standard errors of item–item's mean
     * stale validation NDCG@10 across users (docs/evaluation-ease.md, "The stale floor from
     * the goal").
     */
    public static final double DEFAULT_FLOOR_MARGIN = 1;
    /** Validation windows the blend fits pool by default ({@link #withBlendWindows}). */
    public static final int DEFAULT_BLEND_WINDOWS = 2;

    /** Turns events (in replay order) into the job's deltas: the real job, or the replay. */
    @FunctionalInterface
    public interface GraphSource {
        List<GraphDelta> deltas(List<UserAction> events) throws Exception;
    }

    /** One method in one phase, at every K. */
    public static final class Row {
        public final String method;
        public final String phase;
        /** {@link #ALL}, or one of {@link #SLICES}. */
        public final String slice;
        public final Map<Integer, RankingMetrics.Summary> byK = new TreeMap<>();

        Row(String method, String phase) {
            this(method, phase, ALL);
        }

        Row(String method, String phase, String slice) {
            this.method = method;
            this.phase = phase;
            this.slice = slice;
            for (int k : KS) {
                byK.put(k, new RankingMetrics.Summary());
            }
        }

        public RankingMetrics.Summary at(int k) {
            return byK.get(k);
        }
    }

    /**
     * Prequential hit rate and NDCG at 10 per period of the replay (years, or months when the
     * replay spans less than three years), per method.
     */
    public static final class Prequential {
        /** Period label ("2016" or "2016-04") → metrics, per method; periods in time order. */
        public final Map<String, Map<String, RankingMetrics.Summary>> byMethodAndPeriod =
                new LinkedHashMap<>();
        public final Map<String, RankingMetrics.Summary> overall = new LinkedHashMap<>();
        public int events;
    }

    /** Everything the report needs. */
    public static final class Result {
        public final List<Row> rows = new ArrayList<>();
        /** Every method's rows per slice ({@link #SLICES}), in both phases. */
        public final List<Row> sliceRows = new ArrayList<>();
        /** Users per slice and phase, e.g. "after/new users" → 0. */
        public final Map<String, Integer> sliceUsers = new TreeMap<>();
        /**
         * The cold-start item protocol ({@link ColdRanking}): every method's rows with the
         * candidates restricted to cold items, both phases; slice {@link #COLD_ONLY}, then the
         * same lists scored against each part of the cold targets ({@link #COLD_PARTS}).
         */
        public final List<Row> coldRows = new ArrayList<>();
        /** Per phase: users scored in the cold-only table, and the cold candidates. */
        public final Map<String, Integer> coldUsers = new TreeMap<>();
        public final Map<String, Integer> coldCandidates = new TreeMap<>();
        /** EASE^R: the λ validation (null when EASE was not asked for). */
        public EaseBaseline.Selection ease;
        /**
         * Rows asked for but not computed, method → why (e.g. EASE^R on a catalogue beyond the
         * dense model's limit); the report names them with the reason instead of scores.
         */
        public final Map<String, String> notComputed = new LinkedHashMap<>();
        /** Items of the final EASE model, and the seconds of its fit. */
        public int easeItems;
        public double easeFitSeconds;
        public double easeFitCpuSeconds;
        /** The fitted blend (null when no fit was asked for). */
        public BlendFit.Result blend;
        /**
         * The same fit with cosine neighbours (of the validation window's events) in place of
         * EASE's: the validation figure of the default weights for the other neighbour scale.
         */
        public BlendFit.Result blendCosine;
        public BlendFit.Grid blendGrid;
        /**
         * The EASE blend fit per neighbour evidence and scale of the negative neighbour weights
         * (the best coarse-grid weights at each), with their validation NDCG@10 in the fresh and
         * the stale condition ({@link BlendChoice}); the chosen one is refined into {@link
         * #blend}.
         */
        public final List<BlendChoice> blendChoices = new ArrayList<>();
        /** What the blend fits maximised on the validation window ({@link BlendFit.Objective}). */
        public BlendFit.Objective blendObjective;
        /**
         * Validation users of each window the blend fits pooled ({@link #withBlendWindows}),
         * the λ validation's window first; their sum is the fits' number of cases.
         */
        public final List<Integer> blendWindowUsers = new ArrayList<>();
        /** EASE neighbours per item of the fitted blend's table (chosen with its weights). */
        public int blendEaseNeighbours;
        /** λ of the fitted blend's EASE neighbour table (chosen with its weights). */
        public double blendEaseLambda;
        /** The chosen blend's and the hand-set weights' validation NDCG@10, fresh and stale. */
        public double blendFresh;
        public double blendStale;
        public double baseFresh;
        public double baseStale;
        /**
         * The item–item cosine recommender on the blend fit's validation window (cosine table of
         * every user's events[:⌊0.8·b⌋]): its fresh and stale NDCG@10 and where a guarded fit's
         * floor came from ({@link BlendFit.Floor}) with its value.
         */
        public double itemItemFresh;
        public BlendFit.StaleFloor itemItemStale;
        public BlendFit.Floor blendFloor;
        public double staleFloor;
        /**
         * The chosen blend's stale lead over item–item on the validation window, per user
         * (blend − item–item, the same users and targets): its mean and standard error — how far
         * the "before the update" goal is met on the window, beyond the floor's own noise.
         */
        public BlendFit.StaleFloor blendStaleLead;
        /**
         * The no-neighbour weights (interests, short-term, popularity) fitted on the same
         * validation window for "interests only" ({@link BlendFit#fitRefined}, on {@link
         * BlendFit.Grid#noNeighbours}) and for multi-interest retrieval ({@link BlendFit#search});
         * null without a validation source.
         */
        public BlendFit.Result contentFit;
        public BlendFit.Result multiInterestFit;
        public BlendFit.Grid multiInterestGrid;
        /** The validation window's popularity row (mean NDCG@10), next to the content fits. */
        public double validationPopularityNdcg;
        public Prequential prequential;
        public int scoredUsers;
        public double edgesPerUserAfter;
        /** Mean number of interests per user graph after the update (users with a graph). */
        public double interestsPerUserAfter;
        /** Users' graphs after the update by the encoder version of their profile. */
        public final Map<String, Integer> graphVersionsAfter = new TreeMap<>();
        public int users;
        public int events;
        public int items;

        public Row row(String method, String phase) {
            return rows.stream().filter(r -> r.method.equals(method) && r.phase.equals(phase))
                    .findFirst().orElseThrow();
        }
    }

    public static final String OURS = "interest graph (ours)";
    public static final String INTERESTS_ONLY = "interests only (no neighbours)";
    /**
     * Multi-interest retrieval (issue 17): the interests-only signals, but candidates per
     * interest with slots shared by interest weight ({@code Recommender.recommendPerInterest}).
     */
    public static final String MULTI_INTEREST =
            "multi-interest retrieval (per interest, quotas by weight)";
    public static final String POPULARITY = "popularity";
    public static final String ITEM_ITEM = "item-item cosine";
    /** The cold-start protocol only: {@link ContentKnn}, the item texts' embeddings alone. */
    public static final String CONTENT_KNN = "content kNN (embeddings only: mean cosine of the "
            + ContentKnn.NEAREST + " nearest liked items)";
    public static final String OURS_GELLY_ADAMIC_ADAR = "interest graph + Gelly Adamic-Adar";
    public static final String OURS_GELLY_JACCARD = "interest graph + Gelly Jaccard";
    public static final String EASE = "EASE^R";
    public static final String OURS_EASE = "interest graph + EASE neighbours";
    public static final String OURS_EASE_FITTED = "interest graph + EASE neighbours, fitted blend";
    /**
     * Diagnostic: our recommender with EASE neighbours and every other weight 0 — how much of
     * EASE^R's own ranking the truncated, rescaled, edge-weighted neighbour signal keeps.
     */
    public static final String OURS_EASE_ALONE = "EASE neighbours alone (other weights 0)";
    /** Interests only with the no-neighbour weights fitted on the validation window. */
    public static final String INTERESTS_ONLY_FITTED = "interests only, fitted weights";
    /** Ablation: the fitted interests-only weights with popularity 0 (the interests alone). */
    public static final String INTERESTS_ONLY_NO_POPULARITY =
            "interests only, fitted weights, popularity 0 (ablation)";
    /** Multi-interest retrieval with its own weights fitted on the validation window. */
    public static final String MULTI_INTEREST_FITTED = "multi-interest retrieval, fitted weights";

    /** The row of every scored user over all their relevant targets. */
    public static final String ALL = "all";
    /** Relevant target items with fewer than {@link #COLD_BELOW} interactions before the cut. */
    public static final String COLD_ITEMS = "cold items";
    /** Users with fewer than {@link #COLD_BELOW} events before the cut (all their targets). */
    public static final String NEW_USERS = "new users";
    /** The others: the non-cold relevant items of users who are not new. */
    public static final String REST = "rest";
    public static final List<String> SLICES = List.of(COLD_ITEMS, NEW_USERS, REST);
    public static final int COLD_BELOW = 5;
    /** The cold-start item protocol's slice: cold targets ranked among cold items only. */
    public static final String COLD_ONLY = "cold items, ranked among cold items";
    /**
     * The cold-start protocol's two parts, scored on the same lists: targets nobody interacted
     * with before the cut (a collaborative model fitted on the same events cannot score them)
     * and targets with 1 to {@value #COLD_BELOW} − 1 interactions (a collaborative model has
     * them, with little evidence).
     */
    public static final String COLD_UNSEEN = "no interaction before the cut";
    public static final String COLD_RARE =
            "1-" + (COLD_BELOW - 1) + " interactions before the cut";
    public static final List<String> COLD_PARTS = List.of(COLD_ONLY, COLD_UNSEEN, COLD_RARE);

    /** Prequential: the interests-only recommender on the graph just before the event. */
    public static final String PREQUENTIAL_INTERESTS_ONLY = "updated graph, interests only";

    /**
     * Builds the item graph the Gelly analytics job derives from users' materialised graphs (the
     * snapshot the streaming job's deltas describe at a cut).
     */
    @FunctionalInterface
    public interface GraphAnalytics {
        ItemGraph analyse(Map<String, UserView> graphs, GraphAnalyticsJob.Ranking ranking)
                throws Exception;
    }

    private final List<ItemVersion> items;
    private final List<UserAction> replay;
    private final Map<String, float[]> embeddings;
    private final Recommender.Weights weights;
    private final int neighboursPerItem;
    private final int prequentialSample;
    private double cutA = 0.6;
    private double cutB = 0.8;
    private boolean oursAfterOnly;
    private boolean interestRowsOnly;
    private GraphAnalytics analytics;
    private VersionedEmbeddings versioned;
    private boolean prequentialInterestsOnly;
    private double[] easeLambdas;
    /** Most liked items EASE^R is fitted for; beyond, its rows are reported as not computed. */
    private int easeMaxItems = EaseModel.PRACTICAL_MAX_ITEMS;
    /** EASE neighbour tables keep negative weights too (the analytics job's default unless set). */
    private boolean easeNegatives = new dev.interestgraph.analytics.GraphAnalyticsJob.Settings()
            .easeNegatives;
    private GraphSource validationSource;
    private BlendFit.Grid blendGrid;
    /** The neighbour evidences the EASE blend fit tries (the option's only, unless widened). */
    private List<Recommender.NeighbourEvidence> blendEvidence;
    /** What the blend fits maximise over the validation window's fresh and stale conditions. */
    private BlendFit.Objective blendObjective = BlendFit.Objective.GUARDED;
    /** Where a guarded blend fit's stale floor comes from, and its margin in standard errors. */
    private BlendFit.Floor blendFloor = BlendFit.Floor.ITEM_ITEM;
    private double blendFloorMargin = DEFAULT_FLOOR_MARGIN;
    /** The EASE neighbours per item the blend fit chooses among (null: neighboursPerItem). */
    private int[] blendEaseNeighbours;
    /** The λ values of the EASE neighbour table the blend fit chooses among (null: EASE^R's). */
    private double[] blendEaseLambdas;
    /** Validation windows the blend fits pool (1: the λ validation's window only). */
    private int blendWindows = DEFAULT_BLEND_WINDOWS;
    private Map<String, Map<String, Float>> cosine;

    /**
     * The item vectors of an encoder version (fine-tuning): a user's graph holds vectors of one
     * version, and candidates must be scored in the same space.
     */
    @FunctionalInterface
    public interface VersionedEmbeddings {
        Map<String, float[]> of(String version);
    }

    /**
     * Scores each user's candidates with the item vectors of the version of the user's graph
     * (its profile's model version; {@code baseVersion} for a graph without one) instead of the
     * single embedding table.
     */
    public Evaluation withVersionedEmbeddings(VersionedEmbeddings embeddingsByVersion) {
        this.versioned = embeddingsByVersion;
        return this;
    }

    /**
     * Also scores EASE^R (λ from {@code lambdas}, chosen on the validation window of {@link
     * EaseBaseline}) and our recommender with EASE's neighbours in place of the cosine table.
     */
    public Evaluation withEase(double... lambdas) {
        this.easeLambdas = lambdas.clone();
        return this;
    }

    /**
     * The most items (liked at least once in every user's events[:b]) EASE^R is fitted for
     * (default {@link EaseModel#PRACTICAL_MAX_ITEMS}); beyond, the EASE rows, the EASE blend fit
     * and its cosine twin are reported as not computed, with the item count and the limit, and
     * the other rows go on.
     */
    public Evaluation withEaseMaxItems(int maxItems) {
        this.easeMaxItems = maxItems;
        return this;
    }

    /**
     * Whether the EASE neighbour tables (the validation model's for the blend fit, the final
     * model's for the rows) keep each item's most negative weights too ({@link
     * EaseModel#neighbours(int, boolean)}), as {@code analytics.ease.negatives} does.
     */
    public Evaluation withEaseNegatives(boolean negatives) {
        this.easeNegatives = negatives;
        return this;
    }

    /**
     * Fits the recommender's weights ({@link BlendFit}) on the validation window of {@link
     * EaseBaseline} — graphs from {@code validationSource} at each user's validation cut, EASE
     * neighbours of the validation model — and scores our recommender with EASE neighbours and the
     * fitted weights. Needs {@link #withEase}.
     */
    public Evaluation withBlendFit(GraphSource validationSource, BlendFit.Grid grid) {
        this.validationSource = validationSource;
        this.blendGrid = grid;
        return this;
    }

    /**
     * The neighbour evidences the EASE blend fit chooses among (default: only the weights'
     * own, {@code recommend.neighbour-evidence}).
     */
    public Evaluation withBlendEvidence(List<Recommender.NeighbourEvidence> evidence) {
        this.blendEvidence = List.copyOf(evidence);
        return this;
    }

    /**
     * What the blend fits maximise ({@link BlendFit.Objective}): the fresh condition's validation
     * NDCG@10 alone, the mean of fresh and stale, or — the default — the fresh one among the
     * weights that reach a floor on the stale condition ({@link #withBlendFloor}). Both
     * conditions are reported either way.
     */
    public Evaluation withBlendObjective(BlendFit.Objective objective) {
        this.blendObjective = objective;
        return this;
    }

    /**
     * Where a guarded blend fit's stale floor comes from ({@link BlendFit.Floor}; default the
     * item–item cosine recommender's stale validation NDCG@10) and, for {@link
     * BlendFit.Floor#ITEM_ITEM}, the margin above it in standard errors across users ({@link
     * BlendFit.StaleFloor}; default {@link #DEFAULT_FLOOR_MARGIN}).
     */
    public Evaluation withBlendFloor(BlendFit.Floor floor, double marginStandardErrors) {
        this.blendFloor = floor;
        this.blendFloorMargin = marginStandardErrors;
        return this;
    }

    /**
     * The numbers of EASE neighbours per item (the top N positive B_ij, and as many negative)
     * the blend fit chooses among with the weights, by the same objective on the same validation
     * window (default: only the evaluation's neighbours per item, which is always fitted: the
     * hand-set weights' validation figures, and so the guard's floor, are its). The fitted
     * blend's row ranks with the chosen number; the hand-set rows keep the evaluation's.
     */
    public Evaluation withBlendEaseNeighbours(int... counts) {
        this.blendEaseNeighbours = counts.clone();
        return this;
    }

    /**
     * The λ values of the EASE model whose neighbour table the blend fit chooses among with the
     * weights and the neighbours per item, by the same objective on the same validation window
     * (default: only EASE^R's λ, chosen by EASE^R's own validation NDCG@10, which is always
     * fitted first: the hand-set weights' validation figures are its). The EASE^R row keeps its
     * own λ; the fitted blend's row ranks with a model of the chosen λ on every user's events[:b].
     */
    public Evaluation withBlendEaseLambdas(double... lambdas) {
        this.blendEaseLambdas = lambdas.clone();
        return this;
    }

    /**
     * The blend fits' validation windows, pooled (default {@link #DEFAULT_BLEND_WINDOWS}): the
     * first is the λ validation's (every user's events[:b] cut again at ⌊0.8·b⌋); each further
     * one cuts the previous one's training events again the same way (the second: graphs at
     * ⌊0.64·b⌋, stale at ⌊0.48·b⌋, targets the liked items of events[⌊0.64·b⌋:⌊0.8·b⌋], its own
     * EASE model, cosine table and popularity). The fits score every window's users as one set
     * of cases, so that a choice no longer rests on one cut's few hundred users (a guarded fit
     * chose at the floor's edge and moved ±0.007 on the target between runs,
     * docs/evaluation-ease.md). The content fits of issue 17 keep the first window.
     */
    public Evaluation withBlendWindows(int windows) {
        if (windows < 1) {
            throw new IllegalArgumentException("blend windows must be at least 1, got "
                    + windows);
        }
        this.blendWindows = windows;
        return this;
    }

    /** Also ranks each prequential event with the interests-only recommender (no neighbours). */
    public Evaluation withPrequentialInterestsOnly() {
        this.prequentialInterestsOnly = true;
        return this;
    }

    /** The encoder version of a user's graph: its profile's, else an interest's, else "1". */
    static String graphVersion(UserView user) {
        if (user != null) {
            String profile = user.profile().map(p -> p.getModelVersion()).orElse("");
            if (!profile.isEmpty()) {
                return profile;
            }
            for (var interest : user.interests().values()) {
                if (!interest.getModelVersion().isEmpty()) {
                    return interest.getModelVersion();
                }
            }
        }
        return "1";
    }

    /** One recommender per encoder version (or the single one without versioned embeddings). */
    private final class Ranker {
        private final java.util.function.Function<Map<String, float[]>, Recommender> make;
        private final Map<String, Recommender> byVersion = new HashMap<>();
        private final Recommender plain;

        Ranker(java.util.function.Function<Map<String, float[]>, Recommender> make) {
            this.make = make;
            this.plain = versioned == null ? make.apply(embeddings) : null;
        }

        List<Recommender.Recommendation> recommend(UserView user, Set<String> exclude, int k) {
            if (plain != null) {
                return plain.recommend(user, exclude, k);
            }
            return byVersion.computeIfAbsent(graphVersion(user),
                    version -> make.apply(versioned.of(version))).recommend(user, exclude, k);
        }

        List<Recommender.Recommendation> recommendPerInterest(UserView user, Set<String> exclude,
                int k) {
            if (plain != null) {
                return plain.recommendPerInterest(user, exclude, k);
            }
            return byVersion.computeIfAbsent(graphVersion(user),
                    version -> make.apply(versioned.of(version)))
                    .recommendPerInterest(user, exclude, k);
        }

        Recommender.Signals signals(UserView user, Set<String> exclude) {
            if (plain != null) {
                return plain.signals(user, exclude);
            }
            return byVersion.computeIfAbsent(graphVersion(user),
                    version -> make.apply(versioned.of(version))).signals(user, exclude);
        }
    }

    /**
     * One point of the EASE blend fit: the neighbour evidence, the EASE neighbours per item of
     * the table and the scale of the negative neighbour weights; the best weights of the coarse
     * grid with them, and those weights' validation NDCG@10 ranked right after the validation cut (fresh) and from the graph at the
     * stale cut (stale), by the fit's objective ({@link #withBlendObjective}). {@code guardMet}
     * false: no weights of this scale's grid reach a guarded objective's stale floor; {@code
     * weights} are then the hand-set ones.
     */
    public record BlendChoice(Recommender.NeighbourEvidence evidence, int neighbours,
            double negativeScale, Recommender.Weights weights, double fresh, double stale,
            boolean guardMet, double lambda) {
        public double mean() {
            return (fresh + stale) / 2;
        }
    }

    public Evaluation(List<ItemVersion> items, List<UserAction> replay,
            Map<String, float[]> embeddings, Recommender.Weights weights, int neighboursPerItem,
            int prequentialSample) {
        this.items = items;
        this.replay = replay;
        this.embeddings = embeddings;
        this.weights = weights;
        this.neighboursPerItem = neighboursPerItem;
        this.prequentialSample = prequentialSample;
    }

    /**
     * The item–item cosine table of every user's events[:b] ({@link ItemItemCosine#neighbours}
     * with this evaluation's cuts and neighbours per item), computed once by a caller that
     * evaluates the same events many times (the sweep) instead of once per evaluation.
     */
    public Evaluation withCosineNeighbours(Map<String, Map<String, Float>> table) {
        this.cosine = table;
        return this;
    }

    /** Per-user cut fractions other than the standard 0.6 / 0.8. */
    public Evaluation withCuts(double fractionA, double fractionB) {
        this.cutA = fractionA;
        this.cutB = fractionB;
        return this;
    }

    /**
     * Scores only the content rows on the updated graph — interests only, multi-interest
     * retrieval — and popularity: what the interest-parameter sweep ({@code InterestSweepMain})
     * needs, without the collaborative tables.
     */
    public Evaluation interestRowsOnly() {
        this.interestRowsOnly = true;
        return this;
    }

    /**
     * Scores only our recommender on the updated graph (no "before" replay, no baselines): what
     * the parameter sweep needs, at a third of the cost.
     */
    public Evaluation oursAfterOnly() {
        this.oursAfterOnly = true;
        return this;
    }

    /**
     * Also scores our recommender with the Gelly job's neighbours (Adamic–Adar and Jaccard,
     * each from the graphs at the phase's cut) in place of the in-process cosine table.
     */
    public Evaluation withGraphAnalytics(GraphAnalytics analytics) {
        this.analytics = analytics;
        return this;
    }

    /**
     * The validation window only (cheap: no target phase, nothing of events[b:] is read): λ and
     * the blend fits of {@link #withBlendFit}, with {@link Result#blendChoices}. What a lever is
     * measured on before a full run.
     */
    public Result validate() throws Exception {
        List<UserAction> afterEvents = new TemporalSplit(replay, cutA, cutB).afterUpdate();
        Result result = new Result();
        if (easeTooLarge(afterEvents, result)) {
            return result;
        }
        Validation validation = new Validation(afterEvents);
        result.ease = EaseBaseline.selectLambda(afterEvents, easeLambdas, 10);
        BlendFit.Result[] fits = fitBlend(result.ease, validation, result);
        result.blend = fits[0];
        result.blendCosine = fits[1];
        result.blendGrid = blendGrid.withNegativeNeighbours(BlendFit.Grid.NEGATIVE_SCALES);
        return result;
    }

    /** The before/after table (and, with {@code withPrequential}, the prequential curve). */
    public Result evaluate(GraphSource source, boolean withPrequential) throws Exception {
        if (interestRowsOnly) {
            return evaluateInterestRows(source);
        }
        TemporalSplit split = new TemporalSplit(replay, cutA, cutB);
        Map<String, Set<String>> relevant = split.relevantTargets();
        List<UserAction> beforeEvents = split.beforeUpdate();
        List<UserAction> afterEvents = split.afterUpdate();

        Map<String, UserView> before = oursAfterOnly ? Map.of()
                : materializeAtCut(source.deltas(beforeEvents), lastEventTimes(beforeEvents));
        Map<String, UserView> after =
                materializeAtCut(source.deltas(afterEvents), lastEventTimes(afterEvents));
        Map<String, Set<String>> seenBefore = itemsByUser(beforeEvents, e -> true);
        Map<String, Set<String>> seenAfter = itemsByUser(afterEvents, e -> true);
        Map<String, Set<String>> likedBefore = itemsByUser(beforeEvents, TemporalSplit::isRelevant);
        Map<String, Set<String>> likedAfter = itemsByUser(afterEvents, TemporalSplit::isRelevant);

        // collaborative tables from every user's events[:b], used in both phases
        Map<String, Map<String, Float>> neighbours = cosine != null ? cosine
                : ItemItemCosine.neighbours(afterEvents, neighboursPerItem);
        Map<String, Integer> popularity = ItemItemCosine.popularity(afterEvents);
        Ranker ours = new Ranker(e -> new Recommender(e, neighbours, popularity, weights));
        Ranker interestsOnly = interestsOnlyRanker(popularity);
        Ranker popular = popularityRanker(popularity);

        Result result = new Result();
        // the validation window (every user's events[:b] cut again at ⌊0.8·b⌋): what every fit
        // sees; the target window events[b:] plays no part in any choice
        Validation validation = validationSource == null ? null : new Validation(afterEvents);
        Ranker contentFitted = null;
        Ranker contentNoPopularity = null;
        Ranker multiInterestFitted = null;
        if (validation != null) {
            fitContent(validation, result);
            Recommender.Weights content = result.contentFit.weights();
            Recommender.Weights noPopularity = content.copy();
            noPopularity.popularity = 0;
            Recommender.Weights multi = result.multiInterestFit.weights();
            contentFitted = new Ranker(e -> new Recommender(e, Map.of(), popularity, content));
            contentNoPopularity =
                    new Ranker(e -> new Recommender(e, Map.of(), popularity, noPopularity));
            multiInterestFitted =
                    new Ranker(e -> new Recommender(e, Map.of(), popularity, multi));
        }
        EaseModel ease = null;
        Ranker oursEase = null;
        Ranker oursEaseAlone = null;
        Ranker oursEaseFitted = null;
        if (easeLambdas != null && !easeTooLarge(afterEvents, result)) {
            result.ease = EaseBaseline.selectLambda(afterEvents, easeLambdas, 10);
            long started = System.nanoTime();
            double cpuStarted = EaseBaseline.cpuSeconds();
            ease = EaseModel.fit(EaseBaseline.likedByUser(afterEvents), result.ease.lambda());
            result.easeFitSeconds = (System.nanoTime() - started) / 1e9;
            result.easeFitCpuSeconds = EaseBaseline.cpuSeconds() - cpuStarted;
            result.easeItems = ease.items().size();
            boolean negatives = easeNegatives;
            if (validation != null) {
                BlendFit.Result[] fits = fitBlend(result.ease, validation, result);
                result.blend = fits[0];
                result.blendCosine = fits[1];
                result.blendGrid = blendGrid.withNegativeNeighbours(BlendFit.Grid.NEGATIVE_SCALES);
                // the table carries negative weights where the fit weighs them
                negatives |= result.blend.weights().negativeNeighbours != 0;
            }
            // the validation model (n² doubles) has served: the report keeps its figures only
            // (freed before the final tables, one of which may need a model of another λ)
            EaseBaseline.Selection s = result.ease;
            result.ease = new EaseBaseline.Selection(s.lambda(), s.validationNdcg(), null,
                    s.validationItems(), s.secondsPerFit(), s.cpuSecondsPerFit(), s.inner());
            Map<String, Map<String, Float>> easeNeighbours = ease.neighbours(neighboursPerItem,
                    negatives);
            // the hand-set rows take the negative weights as analytics.ease.negatives says
            Recommender.Weights handSet = handSetForEase();
            oursEase = new Ranker(e -> new Recommender(e, easeNeighbours, popularity, handSet));
            Recommender.Weights alone = handSet.copy();
            alone.interests = 0;
            alone.shortTerm = 0;
            alone.community = 0;
            alone.popularity = 0;
            oursEaseAlone = new Ranker(e -> new Recommender(e, easeNeighbours, popularity, alone));
            if (result.blend != null) {
                Recommender.Weights fitted = result.blend.weights();
                // the chosen λ's model when it is not EASE^R's (one more fit on events[:b];
                // only its table is kept)
                boolean sameModel = result.blendEaseLambda == ease.lambda();
                Map<String, Map<String, Float>> fittedNeighbours =
                        sameModel && result.blendEaseNeighbours == neighboursPerItem
                                ? easeNeighbours
                                : (sameModel ? ease : EaseModel.fit(EaseBaseline.likedByUser(
                                        afterEvents), result.blendEaseLambda))
                                        .neighbours(result.blendEaseNeighbours, negatives);
                oursEaseFitted = new Ranker(
                        e -> new Recommender(e, fittedNeighbours, popularity, fitted));
            }
        }
        result.scoredUsers = relevant.size();
        result.edgesPerUserAfter = after.values().stream().mapToInt(u -> u.edges().size())
                .average().orElse(0);
        result.interestsPerUserAfter = after.values().stream()
                .mapToInt(u -> u.interests().size()).average().orElse(0);
        after.values().forEach(u -> result.graphVersionsAfter.merge(graphVersion(u), 1,
                Integer::sum));
        result.users = (int) replay.stream().map(e -> e.userId).distinct().count();
        result.events = replay.size();
        result.items = items.size();
        for (String phase : oursAfterOnly ? List.of("after") : List.of("before", "after")) {
            boolean isAfter = phase.equals("after");
            Map<String, UserView> graphs = isAfter ? after : before;
            Slicer slicer = new Slicer(phase, isAfter ? afterEvents : beforeEvents);
            ColdRanking cold = new ColdRanking(phase, slicer, catalogue());
            // one vector space only (a fine-tuning run's versions would need one per version)
            ContentKnn contentKnn = versioned == null && !oursAfterOnly
                    ? new ContentKnn(embeddings, cold.coldItems()) : null;
            if (analytics != null && !oursAfterOnly) {
                result.rows.addAll(scoreWithGraphAnalytics(phase, graphs, relevant,
                        isAfter ? seenAfter : seenBefore, popularity, slicer));
            }
            Map<String, Set<String>> seen = isAfter ? seenAfter : seenBefore;
            Map<String, Set<String>> liked = isAfter ? likedAfter : likedBefore;
            Row oursRow = new Row(OURS, phase);
            Row contentRow = new Row(INTERESTS_ONLY, phase);
            Row multiInterestRow = new Row(MULTI_INTEREST, phase);
            Row popularityRow = new Row(POPULARITY, phase);
            Row itemItemRow = new Row(ITEM_ITEM, phase);
            Row easeRow = new Row(EASE, phase);
            Row oursEaseRow = new Row(OURS_EASE, phase);
            Row oursEaseFittedRow = new Row(OURS_EASE_FITTED, phase);
            Row oursEaseAloneRow = new Row(OURS_EASE_ALONE, phase);
            Row contentFittedRow = new Row(INTERESTS_ONLY_FITTED, phase);
            Row contentNoPopularityRow = new Row(INTERESTS_ONLY_NO_POPULARITY, phase);
            Row multiInterestFittedRow = new Row(MULTI_INTEREST_FITTED, phase);
            EaseModel easeModel = ease;
            Ranker withEase = oursEase;
            Ranker withEaseAlone = oursEaseAlone;
            Ranker withEaseFitted = oursEaseFitted;
            Ranker fittedContent = contentFitted;
            Ranker fittedContentNoPopularity = contentNoPopularity;
            Ranker fittedMultiInterest = multiInterestFitted;
            relevant.forEach((user, targets) -> {
                UserView graph = graphs.get(user);
                Set<String> exclude = seen.getOrDefault(user, Set.of());
                List<String> oursRanked = ids(ours.recommend(graph, exclude, MAX_K));
                score(oursRow, oursRanked, targets);
                if (oursAfterOnly) {
                    return;
                }
                slicer.score(OURS, user, oursRanked, targets);
                slicer.score(contentRow, user,
                        ids(interestsOnly.recommend(graph, exclude, MAX_K)), targets);
                slicer.score(multiInterestRow, user,
                        ids(interestsOnly.recommendPerInterest(graph, exclude, MAX_K)), targets);
                slicer.score(popularityRow, user, ids(popular.recommend(null, exclude, MAX_K)),
                        targets);
                Set<String> userLiked = liked.getOrDefault(user, Set.of());
                slicer.score(itemItemRow, user, itemItem(userLiked, neighbours, exclude),
                        targets);
                if (easeModel != null) {
                    slicer.score(easeRow, user, easeModel.recommend(userLiked, exclude, MAX_K),
                            targets);
                    slicer.score(oursEaseRow, user,
                            ids(withEase.recommend(graph, exclude, MAX_K)), targets);
                    score(oursEaseAloneRow, ids(withEaseAlone.recommend(graph, exclude, MAX_K)),
                            targets);
                }
                if (fittedContent != null) {
                    // the main table only: the slice and cold tables keep their methods
                    score(contentFittedRow, ids(fittedContent.recommend(graph, exclude, MAX_K)),
                            targets);
                    score(contentNoPopularityRow,
                            ids(fittedContentNoPopularity.recommend(graph, exclude, MAX_K)),
                            targets);
                    score(multiInterestFittedRow, ids(fittedMultiInterest
                            .recommendPerInterest(graph, exclude, MAX_K)), targets);
                }
                if (withEaseFitted != null) {
                    slicer.score(oursEaseFittedRow, user,
                            ids(withEaseFitted.recommend(graph, exclude, MAX_K)), targets);
                }
                // the cold-start protocol: the same methods, candidates = unseen cold items
                if (!cold.hasColdTarget(targets)) {
                    return;
                }
                Set<String> notCold = cold.excluding(exclude);
                cold.score(OURS, user, positive(ours.recommend(graph, notCold, MAX_K)), targets,
                        exclude);
                cold.score(INTERESTS_ONLY, user,
                        positive(interestsOnly.recommend(graph, notCold, MAX_K)), targets,
                        exclude);
                cold.score(MULTI_INTEREST, user,
                        positive(interestsOnly.recommendPerInterest(graph, notCold, MAX_K)),
                        targets, exclude);
                if (contentKnn != null) {
                    cold.score(CONTENT_KNN, user, contentKnn.recommend(userLiked, exclude,
                            MAX_K), targets, exclude);
                }
                cold.score(POPULARITY, user, positive(popular.recommend(null, notCold, MAX_K)),
                        targets, exclude);
                cold.score(ITEM_ITEM, user, itemItem(userLiked, neighbours, notCold), targets,
                        exclude);
                if (easeModel != null) {
                    cold.score(EASE, user, easeModel.recommend(userLiked, notCold, MAX_K),
                            targets, exclude);
                    cold.score(OURS_EASE, user,
                            positive(withEase.recommend(graph, notCold, MAX_K)), targets,
                            exclude);
                }
                if (withEaseFitted != null) {
                    cold.score(OURS_EASE_FITTED, user,
                            positive(withEaseFitted.recommend(graph, notCold, MAX_K)), targets,
                            exclude);
                }
            });
            if (oursAfterOnly) {
                result.rows.add(oursRow);
                continue;
            }
            result.rows.addAll(List.of(oursRow, contentRow, multiInterestRow, itemItemRow,
                    popularityRow));
            if (contentFitted != null) {
                result.rows.addAll(List.of(contentFittedRow, contentNoPopularityRow,
                        multiInterestFittedRow));
            }
            if (ease != null) {
                result.rows.addAll(List.of(easeRow, oursEaseRow, oursEaseAloneRow));
            }
            if (oursEaseFitted != null) {
                result.rows.add(oursEaseFittedRow);
            }
            result.sliceRows.addAll(slicer.rows());
            slicer.users().forEach((slice, users) -> result.sliceUsers.put(phase + "/" + slice,
                    users));
            result.coldRows.addAll(cold.rows());
            result.coldUsers.put(phase, cold.users());
            result.coldCandidates.put(phase, cold.candidates());
        }
        if (withPrequential) {
            result.prequential = prequential(split, source.deltas(replay), after, ours, popular,
                    prequentialInterestsOnly ? interestsOnly : null);
        }
        return result;
    }

    private Result evaluateInterestRows(GraphSource source) throws Exception {
        TemporalSplit split = new TemporalSplit(replay, cutA, cutB);
        Map<String, Set<String>> relevant = split.relevantTargets();
        List<UserAction> afterEvents = split.afterUpdate();
        Map<String, UserView> after =
                materializeAtCut(source.deltas(afterEvents), lastEventTimes(afterEvents));
        Map<String, Set<String>> seen = itemsByUser(afterEvents, e -> true);
        Map<String, Integer> popularity = ItemItemCosine.popularity(afterEvents);
        Ranker interestsOnly = interestsOnlyRanker(popularity);
        Ranker popular = popularityRanker(popularity);
        Result result = new Result();
        Row contentRow = new Row(INTERESTS_ONLY, "after");
        Row multiInterestRow = new Row(MULTI_INTEREST, "after");
        Row popularityRow = new Row(POPULARITY, "after");
        relevant.forEach((user, targets) -> {
            UserView graph = after.get(user);
            Set<String> exclude = seen.getOrDefault(user, Set.of());
            score(contentRow, ids(interestsOnly.recommend(graph, exclude, MAX_K)), targets);
            score(multiInterestRow, ids(interestsOnly.recommendPerInterest(graph, exclude, MAX_K)),
                    targets);
            score(popularityRow, ids(popular.recommend(null, exclude, MAX_K)), targets);
        });
        result.rows.addAll(List.of(contentRow, multiInterestRow, popularityRow));
        result.scoredUsers = relevant.size();
        result.interestsPerUserAfter = after.values().stream()
                .mapToInt(u -> u.interests().size()).average().orElse(0);
        return result;
    }

    /** Our recommender with the analytics job's item graph instead of the cosine table. */
    private List<Row> scoreWithGraphAnalytics(String phase, Map<String, UserView> graphs,
            Map<String, Set<String>> relevant, Map<String, Set<String>> seen,
            Map<String, Integer> popularity, Slicer slicer) throws Exception {
        List<Row> rows = new ArrayList<>();
        for (GraphAnalyticsJob.Ranking ranking : GraphAnalyticsJob.Ranking.values()) {
            ItemGraph itemGraph = analytics.analyse(graphs, ranking);
            Ranker withGelly =
                    new Ranker(e -> new Recommender(e, itemGraph, popularity, weights));
            Row row = new Row(ranking == GraphAnalyticsJob.Ranking.JACCARD ? OURS_GELLY_JACCARD
                    : OURS_GELLY_ADAMIC_ADAR, phase);
            relevant.forEach((user, targets) -> slicer.score(row, user, ids(withGelly.recommend(
                    graphs.get(user), seen.getOrDefault(user, Set.of()), MAX_K)), targets));
            rows.add(row);
        }
        return rows;
    }

    /** Each sampled target event against the graph just before it, and the frozen graph. */
    private Prequential prequential(TemporalSplit split, List<GraphDelta> fullRun,
            Map<String, UserView> frozen, Ranker ours, Ranker popular, Ranker interestsOnly) {
        List<UserAction> targets = split.targetEvents().stream()
                .filter(TemporalSplit::isRelevant).collect(Collectors.toList());
        int stride = Math.max(1, targets.size() / Math.max(1, prequentialSample));
        Map<String, List<UserAction>> sampledByUser = new TreeMap<>();
        for (int i = 0; i < targets.size(); i += stride) {
            sampledByUser.computeIfAbsent(targets.get(i).userId, u -> new ArrayList<>())
                    .add(targets.get(i));
        }
        Map<String, List<GraphDelta>> deltasByUser = fullRun.stream()
                .sorted(Comparator.comparingLong(GraphDelta::getEpoch)
                        .thenComparingLong(GraphDelta::getSeq))
                .collect(Collectors.groupingBy(GraphDelta::getUserId));
        Map<String, List<UserAction>> historyByUser = replay.stream()
                .collect(Collectors.groupingBy(e -> e.userId));

        Prequential prequential = new Prequential();
        List<String> methods = new ArrayList<>(
                List.of("updated graph", "graph frozen at the split", POPULARITY));
        if (interestsOnly != null) {
            methods.add(PREQUENTIAL_INTERESTS_ONLY);
        }
        for (String method : methods) {
            prequential.byMethodAndPeriod.put(method, new TreeMap<>());
            prequential.overall.put(method, new RankingMetrics.Summary());
        }
        long span = replay.get(replay.size() - 1).eventTimeMs - replay.get(0).eventTimeMs;
        boolean byYear = span > 3 * 365L * 24 * 3600 * 1000;
        sampledByUser.forEach((user, events) -> {
            DeltaMaterializer live = new DeltaMaterializer();
            List<GraphDelta> deltas = deltasByUser.getOrDefault(user, List.of());
            List<UserAction> history = historyByUser.get(user);
            int applied = 0;
            for (UserAction event : events) {
                while (applied < deltas.size()
                        && deltas.get(applied).getEventTimeMs() < event.eventTimeMs) {
                    live.apply(deltas.get(applied++));
                }
                Set<String> seenBeforeEvent = history.stream()
                        .filter(e -> e.eventTimeMs < event.eventTimeMs).map(e -> e.itemId)
                        .collect(Collectors.toSet());
                Set<String> target = Set.of(event.itemId);
                var date = Instant.ofEpochMilli(event.eventTimeMs).atZone(ZoneOffset.UTC);
                String year = byYear ? String.valueOf(date.getYear())
                        : String.format("%d-%02d", date.getYear(), date.getMonthValue());
                record(prequential, "updated graph", year, RankingMetrics.at(10,
                        ids(ours.recommend(live.user(user).orElse(null), seenBeforeEvent, 10)),
                        target));
                record(prequential, "graph frozen at the split", year, RankingMetrics.at(10,
                        ids(ours.recommend(frozen.get(user), seenBeforeEvent, 10)), target));
                record(prequential, POPULARITY, year, RankingMetrics.at(10,
                        ids(popular.recommend(null, seenBeforeEvent, 10)), target));
                if (interestsOnly != null) {
                    record(prequential, PREQUENTIAL_INTERESTS_ONLY, year, RankingMetrics.at(10,
                            ids(interestsOnly.recommend(live.user(user).orElse(null),
                                    seenBeforeEvent, 10)), target));
                }
                prequential.events++;
            }
        });
        return prequential;
    }

    private static void record(Prequential prequential, String method, String period,
            RankingMetrics metrics) {
        prequential.byMethodAndPeriod.get(method)
                .computeIfAbsent(period, p -> new RankingMetrics.Summary()).add(metrics);
        prequential.overall.get(method).add(metrics);
    }

    /** Binary item–item cosine: the sum of an item's similarity to the user's liked items. */
    private static List<String> itemItem(Set<String> liked,
            Map<String, Map<String, Float>> neighbours, Set<String> exclude) {
        Map<String, Double> scores = new HashMap<>();
        for (String item : liked) {
            neighbours.getOrDefault(item, Map.of()).forEach((other, similarity) -> {
                if (!exclude.contains(other)) {
                    scores.merge(other, (double) similarity, Double::sum);
                }
            });
        }
        return scores.entrySet().stream()
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed()
                        .thenComparing(Map.Entry.comparingByKey()))
                .limit(MAX_K).map(Map.Entry::getKey).collect(Collectors.toList());
    }

    /**
     * Whether the EASE model of {@code afterEvents} is beyond {@link #easeMaxItems}; if so, every
     * row that needs it (EASE^R, EASE neighbours, alone and with the fitted blend) goes into
     * {@link Result#notComputed} with the reason, so that the run goes on without them.
     */
    private boolean easeTooLarge(List<UserAction> afterEvents, Result result) {
        String reason = EaseBaseline.tooLargeReason(afterEvents, easeMaxItems);
        if (reason == null) {
            return false;
        }
        List<String> methods = new ArrayList<>(List.of(EASE, OURS_EASE, OURS_EASE_ALONE));
        if (validationSource != null) {
            methods.add(OURS_EASE_FITTED);
        }
        methods.forEach(method -> result.notComputed.put(method, reason));
        System.out.println("EASE^R not computed: " + reason);
        return true;
    }

    /**
     * The operator's weights with EASE neighbours: the negative neighbour weights count as
     * {@code analytics.ease.negatives} says (the table the analytics job would publish).
     */
    private Recommender.Weights handSetForEase() {
        Recommender.Weights handSet = weights.copy();
        if (!easeNegatives) {
            handSet.negativeNeighbours = 0;
        }
        return handSet;
    }

    /**
     * The blend fit on the validation window, in two conditions that mirror the evaluation's two
     * phases: <b>fresh</b>, every user's graph at their validation cut ⌊0.8·b⌋ (as "after the
     * update"), and <b>stale</b>, their graph at ⌊0.6·b⌋ (as "before the update": the graph lags
     * the cut, the targets are the same), both from {@link #validationSource}; popularity and
     * EASE neighbours from every user's events up to the validation cut (the validation model, at
     * the chosen λ), targets their liked items of events[⌊0.8·b⌋:b]. Nothing of events[b:] is
     * seen. Each combination is scored by its objective ({@link #withBlendObjective}): by default
     * the mean NDCG@10 over the fresh condition's cases — the graphs the streaming operator ranks
     * from — among the combinations whose stale NDCG@10 is at least a floor ({@link
     * #withBlendFloor}: by default the item–item cosine recommender's stale NDCG@10 on the same
     * window plus a margin, the "before the update" goal), since a choice that helps fresh
     * graphs can cost stale ones far more (docs/evaluation-ease.md); both conditions' figures,
     * and item–item's, are reported either way. With EASE neighbours the fit also
     * chooses the neighbour evidence ({@link Recommender.NeighbourEvidence}) and the scale of the
     * negative neighbour weights ({@link BlendFit.Grid#NEGATIVE_SCALES}): per evidence and scale,
     * the coarse grid (recorded in {@code result.blendChoices}); the best is refined once. All of
     * it over every window of {@link #withBlendWindows} at once: {@code validation} is the first,
     * the others are cut from it, each with its own tables, and their users are one set of cases.
     */
    private BlendFit.Result[] fitBlend(EaseBaseline.Selection selection, Validation validation,
            Result result) throws Exception {
        List<Validation> windows = blendWindows(validation);
        windows.forEach(w -> result.blendWindowUsers.add(w.targets().size()));
        BlendFit.Result[] fits = new BlendFit.Result[2];
        result.blendObjective = blendObjective;
        result.blendFloor = blendFloor;
        Recommender.Weights handSet = handSetForEase();
        // the item–item cosine recommender on the same window, both conditions: the goal the
        // guard protects ("ours before the update stays ahead of item–item before") measured
        // where the fit can see it, and by default the guard's floor
        // (each window's own cosine table; every window's users, in the cases' order)
        List<Map<String, Map<String, Float>>> cosines = new ArrayList<>();
        java.util.stream.DoubleStream.Builder itemItemFresh = java.util.stream.DoubleStream.builder();
        java.util.stream.DoubleStream.Builder staleBuilder = java.util.stream.DoubleStream.builder();
        for (Validation window : windows) {
            Map<String, Map<String, Float>> cosine =
                    ItemItemCosine.neighbours(window.fitEvents, neighboursPerItem);
            cosines.add(cosine);
            for (double x : window.itemItemNdcg(cosine, window.targets(), false)) {
                itemItemFresh.add(x);
            }
            for (double x : window.itemItemNdcg(cosine, window.targets(), true)) {
                staleBuilder.add(x);
            }
        }
        result.itemItemFresh = itemItemFresh.build().average().orElse(0);
        double[] itemItemStale = staleBuilder.build().toArray();
        result.itemItemStale = BlendFit.StaleFloor.of(itemItemStale, blendFloorMargin);
        System.out.printf("      item-item cosine on the validation window: NDCG@10 fresh %.4f, "
                + "stale %.4f (standard error %.4f; %d cases: users per window %s)%n",
                result.itemItemFresh, result.itemItemStale.mean(),
                result.itemItemStale.standardError(), itemItemStale.length,
                result.blendWindowUsers);
        int[] counts = blendEaseNeighbours != null ? blendEaseNeighbours
                : new int[] {neighboursPerItem};
        result.blendEaseNeighbours = neighboursPerItem;
        BlendFit.Result best = null;
        Recommender.NeighbourEvidence bestEvidence = null;
        // the weights' own evidence first: the hand-set weights' validation figures are its
        java.util.LinkedHashSet<Recommender.NeighbourEvidence> evidences =
                new java.util.LinkedHashSet<>(List.of(weights.evidence));
        if (blendEvidence != null) {
            evidences.addAll(blendEvidence);
        }
        // the evaluation's own count first: the hand-set weights' validation figures are its
        int[] ordered = java.util.stream.IntStream.concat(
                java.util.stream.IntStream.of(neighboursPerItem),
                java.util.Arrays.stream(counts).filter(n -> n != neighboursPerItem)).toArray();
        // EASE^R's own λ first: the hand-set weights' validation figures are its
        double[] lambdas = java.util.stream.DoubleStream.concat(
                java.util.stream.DoubleStream.of(selection.lambda()),
                blendEaseLambdas == null ? java.util.stream.DoubleStream.empty()
                        : java.util.Arrays.stream(blendEaseLambdas)
                                .filter(l -> l != selection.lambda())).distinct().toArray();
        result.blendEaseLambda = selection.lambda();
        List<double[]> tables = new ArrayList<>(); // (λ, neighbours per item), in fit order
        for (double lambda : lambdas) {
            for (int count : ordered) {
                tables.add(new double[] {lambda, count});
            }
        }
        // each window's EASE model at the table's λ: the first window's at EASE^R's λ is the λ
        // validation's own; the others are fitted on the window's events, one λ at a time
        // (16·n² bytes each)
        EaseModel[] models = new EaseModel[windows.size()];
        for (double[] table : tables) {
            double lambda = table[0];
            int count = (int) table[1];
            for (int k = 0; k < windows.size(); k++) {
                if (models[k] == null || models[k].lambda() != lambda) {
                    models[k] = null; // the previous λ's model goes before the next is fitted
                    models[k] = k == 0 && lambda == selection.lambda()
                            ? selection.validationModel()
                            : EaseModel.fit(EaseBaseline.likedByUser(windows.get(k).fitEvents),
                                    lambda);
                }
            }
            // the EASE tables with their negative weights, so that the fit can weigh them
            List<Map<String, Map<String, Float>>> ease = new ArrayList<>();
            for (EaseModel model : models) {
                ease.add(model.neighbours(count, true));
            }
            for (Recommender.NeighbourEvidence evidence : evidences) {
                long started = System.nanoTime();
                Recommender.Weights signalWeights = weights.copy();
                signalWeights.evidence = evidence;
                signalWeights.negativeNeighbours = 1; // computed, whatever the weight: fitted
                List<Ranker> rankers = perWindow(windows, (k, w) -> new Ranker(
                        e -> new Recommender(e, ease.get(k), w.popularity, signalWeights)));
                List<BlendFit.Case> fresh = pooledCases(windows, rankers, false);
                List<BlendFit.Case> stale = pooledCases(windows, rankers, true);
                if (evidence == weights.evidence && count == neighboursPerItem
                        && lambda == selection.lambda()) {
                    // the hand-set weights' figures (the weights' own evidence, the
                    // evaluation's count and EASE^R's λ come first), and so the hand-set floor;
                    // every evidence, count and λ is held to the one floor
                    result.baseFresh = BlendFit.ndcg(fresh, BlendFit.vector(handSet), 10);
                    result.baseStale = BlendFit.ndcg(stale, BlendFit.vector(handSet), 10);
                    result.staleFloor = blendFloor == BlendFit.Floor.HAND_SET
                            ? result.baseStale : result.itemItemStale.value();
                    System.out.printf("      hand-set weights: NDCG@10 fresh %.4f, stale %.4f; "
                            + "stale floor (%s, margin %s standard errors): %.4f%n",
                            result.baseFresh, result.baseStale, blendFloor.option(),
                            BlendFit.number(blendFloorMargin), result.staleFloor);
                }
                BlendFit.Window window = new BlendFit.Window(fresh, stale, blendObjective,
                        result.staleFloor);
                BlendFit.Result coarse = null;
                for (double scale : BlendFit.Grid.NEGATIVE_SCALES) {
                    Recommender.Weights base = handSet.copy();
                    base.evidence = evidence;
                    BlendFit.Result fit = BlendFit.fit(window,
                            blendGrid.withNegativeNeighbours(new double[] {scale}), base, 10);
                    double[] w = BlendFit.vector(fit.weights());
                    result.blendChoices.add(new BlendChoice(evidence, count, scale, fit.weights(),
                            BlendFit.ndcg(fresh, w, 10), BlendFit.ndcg(stale, w, 10),
                            fit.guardMet(), lambda));
                    if (fit.guardMet() && (coarse == null || fit.ndcg() > coarse.ndcg())) {
                        coarse = fit;
                    }
                }
                if (coarse == null) {
                    // a guarded fit where no weights of this evidence reach the stale floor
                    System.out.printf("      blend fit, λ %.0f, %d EASE neighbours, evidence %s: "
                            + "no weights reach the stale floor %.4f (%.0f s)%n",
                            lambda, count, evidence, result.staleFloor,
                            (System.nanoTime() - started) / 1e9);
                    continue;
                }
                Recommender.Weights base = handSet.copy();
                base.evidence = evidence;
                BlendFit.Grid grid =
                        blendGrid.withNegativeNeighbours(BlendFit.Grid.NEGATIVE_SCALES);
                BlendFit.Result fine =
                        BlendFit.fit(window, grid.refine(coarse.weights()), base, 10);
                BlendFit.Result refined = fine.ndcg() > coarse.ndcg() ? fine : coarse;
                BlendFit.Result fit = new BlendFit.Result(refined.weights(), refined.ndcg(),
                        objectiveOfHandSet(result), grid.size() + fine.combinations(),
                        fresh.size());
                System.out.printf("      blend fit, λ %.0f, %d EASE neighbours, evidence %s: %s, "
                        + "validation NDCG@10 %.4f (fresh %.4f, stale %.4f; objective %s; %.0f "
                        + "candidates a case after pruning; %.0f s)%n", lambda, count, evidence,
                        fit.describe(), fit.ndcg(),
                        BlendFit.ndcg(fresh, BlendFit.vector(fit.weights()), 10),
                        BlendFit.ndcg(stale, BlendFit.vector(fit.weights()), 10),
                        blendObjective.option(),
                        fresh.stream().mapToInt(c -> c.signals().items().size()).average()
                                .orElse(0),
                        (System.nanoTime() - started) / 1e9);
                if (best == null || fit.ndcg() > best.ndcg()) {
                    best = fit;
                    bestEvidence = evidence;
                    result.blendEaseNeighbours = count;
                    result.blendEaseLambda = lambda;
                    double[] w = BlendFit.vector(fit.weights());
                    result.blendFresh = BlendFit.ndcg(fresh, w, 10);
                    result.blendStale = BlendFit.ndcg(stale, w, 10);
                    // the cases are in targets' order, as item-item's per-user figures
                    result.blendStaleLead = BlendFit.StaleFloor.of(java.util.stream.IntStream
                            .range(0, stale.size()).mapToDouble(u -> BlendFit.ndcg(stale.get(u),
                                    w, 10) - itemItemStale[u]).toArray(), 0);
                }
            }
        }
        if (best == null) {
            // no evidence's grid reaches the floor: the hand-set weights, as the objective says
            double value = objectiveOfHandSet(result);
            best = new BlendFit.Result(handSet.copy(), value, value,
                    blendGrid.withNegativeNeighbours(BlendFit.Grid.NEGATIVE_SCALES).size(),
                    itemItemStale.length, false);
            result.blendFresh = result.baseFresh;
            result.blendStale = result.baseStale;
        }
        fits[0] = best;
        Recommender.Weights base = weights.copy();
        List<Ranker> cosineRankers = perWindow(windows, (k, w) ->
                new Ranker(e -> new Recommender(e, cosines.get(k), w.popularity, base)));
        List<BlendFit.Case> fresh = pooledCases(windows, cosineRankers, false);
        List<BlendFit.Case> stale = blendObjective == BlendFit.Objective.FRESH ? List.of()
                : pooledCases(windows, cosineRankers, true);
        // the grid, then one step finer around its choice (BlendFit.fitRefined); a guarded fit
        // holds these weights to the same floor (the hand-set one: the hand-set weights' stale
        // figure with cosine neighbours)
        BlendFit.Window window = blendFloor == BlendFit.Floor.HAND_SET
                ? BlendFit.Window.of(fresh, stale, blendObjective, base, 10)
                : new BlendFit.Window(fresh, stale, blendObjective,
                        blendObjective == BlendFit.Objective.GUARDED ? result.staleFloor
                                : Double.NaN);
        fits[1] = BlendFit.fitRefined(window, blendGrid, base, 10);
        return fits;
    }

    /**
     * The blend fits' windows ({@link #withBlendWindows}): {@code first}, then each further one
     * cut from the previous one's training events as {@code first} is cut from events[:b].
     */
    private List<Validation> blendWindows(Validation first) throws Exception {
        List<Validation> windows = new ArrayList<>(List.of(first));
        while (windows.size() < blendWindows) {
            windows.add(new Validation(windows.get(windows.size() - 1).fitEvents));
        }
        return windows;
    }

    /**
     * One ranker per window, built once ({@code rankerFor} gets the window's index and the
     * window: its own tables), for both its fresh and its stale cases.
     */
    private static List<Ranker> perWindow(List<Validation> windows,
            java.util.function.BiFunction<Integer, Validation, Ranker> rankerFor) {
        List<Ranker> rankers = new ArrayList<>();
        for (int k = 0; k < windows.size(); k++) {
            rankers.add(rankerFor.apply(k, windows.get(k)));
        }
        return rankers;
    }

    /**
     * Every window's cases (fresh or stale graphs), window after window, each ranked by its
     * window's ranker.
     */
    private static List<BlendFit.Case> pooledCases(List<Validation> windows, List<Ranker> rankers,
            boolean stale) throws Exception {
        List<BlendFit.Case> cases = new ArrayList<>();
        for (int k = 0; k < windows.size(); k++) {
            Validation window = windows.get(k);
            cases.addAll(window.cases(rankers.get(k), window.targets(), stale));
        }
        return cases;
    }

    /** The hand-set weights' value under the blend objective (their validation figures). */
    private double objectiveOfHandSet(Result result) {
        return blendObjective == BlendFit.Objective.MEAN
                ? (result.baseFresh + result.baseStale) / 2 : result.baseFresh;
    }

    /**
     * The validation window of {@link EaseBaseline#selectLambda} (the same cut of the same
     * events): every user's graph at their validation cut ⌊0.8·b⌋ from {@link
     * #validationSource}, what they had seen by then, popularity of every user's events up to
     * it, and the targets: their liked items of events[⌊0.8·b⌋:b]. Also the stale condition of
     * the blend fit: every user's graph at ⌊0.6·b⌋ ({@link EaseBaseline#STALE_CUT}, lagging the
     * validation cut as the cut a lags b) and what they had seen by then.
     */
    private final class Validation {
        final TemporalSplit inner;
        final List<UserAction> fitEvents;
        final Map<String, UserView> graphs;
        final Map<String, Set<String>> seen;
        final Map<String, Integer> popularity;
        private final List<UserAction> training;
        private Map<String, UserView> staleGraphs;
        private Map<String, Set<String>> staleSeen;
        private Map<String, Set<String>> staleLiked;
        private Map<String, Set<String>> targets;

        Validation(List<UserAction> training) throws Exception {
            this.training = training;
            inner = new TemporalSplit(training, EaseBaseline.VALIDATION_CUT,
                    EaseBaseline.VALIDATION_CUT);
            fitEvents = inner.afterUpdate();
            graphs = materializeAtCut(validationSource.deltas(fitEvents),
                    lastEventTimes(fitEvents));
            seen = itemsByUser(fitEvents, e -> true);
            popularity = ItemItemCosine.popularity(fitEvents);
        }

        /** The targets: every user's liked items between the window's cut and its end. */
        Map<String, Set<String>> targets() {
            if (targets == null) {
                targets = inner.relevantTargets();
            }
            return targets;
        }

        /** Each target user's candidates' signals (fresh or stale graph) and their targets. */
        List<BlendFit.Case> cases(Ranker ranker, Map<String, Set<String>> targets, boolean stale)
                throws Exception {
            if (stale && staleGraphs == null) {
                // replayed once, when the first fit asks for it
                staleGraphs = materializeAtCut(validationSource.deltas(staleEvents()),
                        lastEventTimes(staleEvents()));
            }
            Map<String, UserView> at = stale ? staleGraphs : graphs;
            Map<String, Set<String>> excluded = stale ? staleSeen() : seen;
            List<BlendFit.Case> cases = new ArrayList<>();
            targets.forEach((user, relevant) -> cases.add(BlendFit.prune(new BlendFit.Case(
                    ranker.signals(at.get(user), excluded.getOrDefault(user, Set.of())),
                    relevant), 10))); // the fits score @10: the same figures, a fraction of the rows
            return cases;
        }

        /**
         * The item–item cosine recommender's NDCG@10 per target user (in {@code targets}'
         * order), as its evaluation row ranks: {@code cosine}'s neighbours of the items the user
         * liked by the condition's cut (⌊0.8·b⌋ fresh, ⌊0.6·b⌋ stale), without what the user had
         * seen by then.
         */
        double[] itemItemNdcg(Map<String, Map<String, Float>> cosine,
                Map<String, Set<String>> targets, boolean stale) {
            Map<String, Set<String>> liked = stale ? staleLiked()
                    : itemsByUser(fitEvents, TemporalSplit::isRelevant);
            Map<String, Set<String>> excluded = stale ? staleSeen() : seen;
            return targets.entrySet().stream().mapToDouble(t -> RankingMetrics.at(10,
                    itemItem(liked.getOrDefault(t.getKey(), Set.of()), cosine,
                            excluded.getOrDefault(t.getKey(), Set.of())), t.getValue()).ndcg)
                    .toArray();
        }

        private List<UserAction> staleEvents() {
            return new TemporalSplit(training, EaseBaseline.STALE_CUT,
                    EaseBaseline.VALIDATION_CUT).beforeUpdate();
        }

        private Map<String, Set<String>> staleSeen() {
            if (staleSeen == null) {
                staleSeen = itemsByUser(staleEvents(), e -> true);
            }
            return staleSeen;
        }

        private Map<String, Set<String>> staleLiked() {
            if (staleLiked == null) {
                staleLiked = itemsByUser(staleEvents(), TemporalSplit::isRelevant);
            }
            return staleLiked;
        }
    }

    /**
     * Issue 17: the weights a recommender deployed without neighbours would run with, fitted on
     * the validation window — "interests only" by its stored signals on {@link
     * BlendFit.Grid#noNeighbours} refined once; multi-interest retrieval, whose per-interest
     * retrieval is not linear in the weights, by a search over {@link
     * BlendFit.Grid#multiInterest}. Also the validation window's popularity row.
     */
    private void fitContent(Validation validation, Result result) {
        Recommender.Weights base = weights.copy();
        base.neighbours = 0;
        Ranker ranker = new Ranker(e -> new Recommender(e, Map.of(), validation.popularity, base));
        Map<String, Set<String>> targets = validation.inner.relevantTargets();
        List<BlendFit.Case> cases = new ArrayList<>();
        targets.forEach((user, relevant) -> cases.add(BlendFit.prune(new BlendFit.Case(
                ranker.signals(validation.graphs.get(user),
                        validation.seen.getOrDefault(user, Set.of())), relevant), 10)));
        result.contentFit = BlendFit.fitRefined(cases, BlendFit.Grid.noNeighbours(), base, 10);
        double[] popularOnly = new double[Recommender.Signal.values().length];
        popularOnly[Recommender.Signal.POPULARITY.ordinal()] = 1;
        result.validationPopularityNdcg = BlendFit.ndcg(cases, popularOnly, 10);
        cases.clear(); // ~10,000 signal rows per user: free them before the multi-interest search

        result.multiInterestGrid = BlendFit.Grid.multiInterest(base,
                result.contentFit.weights().shortTerm);
        result.multiInterestFit = BlendFit.search(result.multiInterestGrid, base, w -> {
            Ranker multi = new Ranker(e -> new Recommender(e, Map.of(), validation.popularity, w));
            double total = 0;
            for (Map.Entry<String, Set<String>> user : targets.entrySet()) {
                total += RankingMetrics.at(10, ids(multi.recommendPerInterest(
                        validation.graphs.get(user.getKey()),
                        validation.seen.getOrDefault(user.getKey(), Set.of()), 10)),
                        user.getValue()).ndcg;
            }
            return targets.isEmpty() ? 0 : total / targets.size();
        }, targets.size());
    }

    /**
     * Scores a method's ranked list for one user into its all-users row and its slice rows:
     * cold items (relevant targets with fewer than {@value #COLD_BELOW} interactions across all
     * users before the phase's cut), new users (fewer than {@value #COLD_BELOW} events before
     * their cut; all their targets) and the rest (the non-cold targets of the other users).
     * Users without a relevant item in a slice are not scored in it.
     */
    static final class Slicer {
        private final String phase;
        private final Map<String, Integer> interactions;
        private final Map<String, Integer> eventsByUser = new HashMap<>();
        private final Map<String, Row> rows = new LinkedHashMap<>();
        private final Map<String, Set<String>> usersBySlice = new LinkedHashMap<>();

        Slicer(String phase, List<UserAction> beforeCut) {
            this.phase = phase;
            this.interactions = ItemItemCosine.popularity(beforeCut);
            beforeCut.forEach(e -> eventsByUser.merge(e.userId, 1, Integer::sum));
            SLICES.forEach(slice -> usersBySlice.put(slice, new HashSet<>()));
        }

        boolean isNewUser(String user) {
            return eventsByUser.getOrDefault(user, 0) < COLD_BELOW;
        }

        boolean isColdItem(String item) {
            return interactions(item) < COLD_BELOW;
        }

        /** Interactions with {@code item} across all users before the cut. */
        int interactions(String item) {
            return interactions.getOrDefault(item, 0);
        }

        /** Every item with an interaction before the cut. */
        Set<String> itemsWithInteractions() {
            return java.util.Collections.unmodifiableSet(interactions.keySet());
        }

        /** The slices' relevant sets of one user: slice → targets (only non-empty slices). */
        Map<String, Set<String>> slices(String user, Set<String> targets) {
            Map<String, Set<String>> slices = new LinkedHashMap<>();
            Set<String> cold = new HashSet<>();
            Set<String> warm = new HashSet<>();
            targets.forEach(item -> (isColdItem(item) ? cold : warm).add(item));
            if (!cold.isEmpty()) {
                slices.put(COLD_ITEMS, cold);
            }
            if (isNewUser(user)) {
                slices.put(NEW_USERS, targets);
            } else if (!warm.isEmpty()) {
                slices.put(REST, warm);
            }
            return slices;
        }

        /** Into {@code all} and the method's slice rows. */
        void score(Row all, String user, List<String> ranked, Set<String> targets) {
            Evaluation.score(all, ranked, targets);
            score(all.method, user, ranked, targets);
        }

        /** Into the method's slice rows only. */
        void score(String method, String user, List<String> ranked, Set<String> targets) {
            slices(user, targets).forEach((slice, relevant) -> {
                Evaluation.score(rows.computeIfAbsent(method + "\t" + slice,
                        key -> new Row(method, phase, slice)), ranked, relevant);
                usersBySlice.get(slice).add(user);
            });
        }

        List<Row> rows() {
            return new ArrayList<>(rows.values());
        }

        Map<String, Integer> users() {
            Map<String, Integer> users = new LinkedHashMap<>();
            usersBySlice.forEach((slice, set) -> users.put(slice, set.size()));
            return users;
        }
    }

    /**
     * The standard cold-start item protocol: collaborative methods cannot score an item nobody
     * interacted with, so on the main table's lists (the whole catalogue) warm items fill every
     * top 10 and every method scores about 0 on cold targets, which says nothing about content vs
     * collaborative. Here each user with a relevant cold target (fewer than {@value #COLD_BELOW}
     * interactions across all users before the phase's cut) is scored against their cold targets
     * with the candidates restricted to the unseen cold items of the catalogue. Each method's own
     * ranking counts only for the items it actually scores (a positive score; EASE: the items of
     * its model, in its order); the remaining slots are filled, identically for every method, by
     * a fixed order that is the same for every user: interactions before the cut (descending),
     * then item id. That is the popularity baseline among cold items, so a method whose scores
     * are all 0 gets exactly that list and is never ranked below a non-personalised one: the tie
     * break does not favour the content side.
     */
    static final class ColdRanking {
        private final String phase;
        private final Slicer slicer;
        private final Set<String> notCold = new HashSet<>();
        private final List<String> fillOrder = new ArrayList<>();
        private final Set<String> coldItems = new HashSet<>();
        /** Per part ({@link #COLD_PARTS}): method → row. */
        private final Map<String, Map<String, Row>> rows = new LinkedHashMap<>();
        private final Set<String> users = new HashSet<>();

        /**
         * @param slicer the phase's slices: its interactions before the cut say what is cold
         * @param catalogue every candidate item
         */
        ColdRanking(String phase, Slicer slicer, Collection<String> catalogue) {
            this.phase = phase;
            this.slicer = slicer;
            COLD_PARTS.forEach(part -> rows.put(part, new LinkedHashMap<>()));
            Set<String> all = new HashSet<>(catalogue);
            all.addAll(slicer.itemsWithInteractions());
            for (String item : all) {
                (slicer.isColdItem(item) ? coldItems : notCold).add(item);
            }
            fillOrder.addAll(coldItems);
            fillOrder.sort(Comparator.<String>comparingInt(item -> -slicer.interactions(item))
                    .thenComparing(item -> item));
        }

        boolean hasColdTarget(Set<String> targets) {
            return targets.stream().anyMatch(slicer::isColdItem);
        }

        /** What to pass a method as its exclusions: the user's seen items and every warm item. */
        Set<String> excluding(Set<String> seen) {
            Set<String> exclude = new HashSet<>(notCold);
            exclude.addAll(seen);
            return exclude;
        }

        /** The list scored: the method's cold items in its order, then the fill order. */
        List<String> ranked(List<String> methodRanked, Set<String> seen) {
            java.util.LinkedHashSet<String> ranked = new java.util.LinkedHashSet<>();
            for (String item : methodRanked) {
                if (ranked.size() < MAX_K && coldItems.contains(item) && !seen.contains(item)) {
                    ranked.add(item);
                }
            }
            for (int i = 0; ranked.size() < MAX_K && i < fillOrder.size(); i++) {
                if (!seen.contains(fillOrder.get(i))) {
                    ranked.add(fillOrder.get(i));
                }
            }
            return new ArrayList<>(ranked);
        }

        /**
         * Scores one method for one user against their cold targets ({@code methodRanked} came
         * from the method with {@link #excluding} as its exclusions, {@code seen} the user's seen
         * items); no-op without a cold target.
         */
        void score(String method, String user, List<String> methodRanked, Set<String> targets,
                Set<String> seen) {
            Set<String> relevant = new HashSet<>();
            targets.stream().filter(slicer::isColdItem).forEach(relevant::add);
            if (relevant.isEmpty()) {
                return;
            }
            List<String> ranked = ranked(methodRanked, seen);
            score(COLD_ONLY, method, ranked, relevant);
            // the same list against each part of the user's cold targets: where the content side
            // can win (nobody interacted) and where a collaborative model has a little evidence
            Set<String> unseen = new HashSet<>();
            Set<String> rare = new HashSet<>();
            relevant.forEach(item -> (slicer.interactions(item) == 0 ? unseen : rare).add(item));
            if (!unseen.isEmpty()) {
                score(COLD_UNSEEN, method, ranked, unseen);
            }
            if (!rare.isEmpty()) {
                score(COLD_RARE, method, ranked, rare);
            }
            users.add(user);
        }

        private void score(String part, String method, List<String> ranked, Set<String> relevant) {
            Evaluation.score(rows.get(part).computeIfAbsent(method, m -> new Row(m, phase, part)),
                    ranked, relevant);
        }

        /** Every method's row of the whole protocol, then of each part ({@link #COLD_PARTS}). */
        List<Row> rows() {
            List<Row> all = new ArrayList<>();
            rows.values().forEach(byMethod -> all.addAll(byMethod.values()));
            return all;
        }

        int users() {
            return users.size();
        }

        int candidates() {
            return coldItems.size();
        }

        /** Every cold item (what the protocol ranks, before a user's exclusions). */
        Set<String> coldItems() {
            return java.util.Collections.unmodifiableSet(coldItems);
        }
    }

    /** The ids of the recommendations with a positive score: what the method actually ranks. */
    private static List<String> positive(List<Recommender.Recommendation> recommendations) {
        return recommendations.stream().filter(r -> r.score > 0).map(r -> r.itemId)
                .collect(Collectors.toList());
    }

    private List<String> catalogue() {
        return items.stream().map(item -> item.itemId).collect(Collectors.toList());
    }

    private static void score(Row row, List<String> ranked, Set<String> relevant) {
        for (int k : KS) {
            row.byK.get(k).add(RankingMetrics.at(k, ranked, relevant));
        }
    }

    private static List<String> ids(List<Recommender.Recommendation> recommendations) {
        return recommendations.stream().map(r -> r.itemId).collect(Collectors.toList());
    }

    /**
     * Each user's graph at the time of their own last event in {@code events}: what the
     * evaluation scores (idle expiry later in the replay does not erase a user's graph at the cut).
     */
    public static Map<String, UserView> graphsAtCut(List<GraphDelta> deltas,
            List<UserAction> events) {
        return materializeAtCut(deltas, lastEventTimes(events));
    }

    static Map<String, UserView> materializeAtCut(List<GraphDelta> deltas,
            Map<String, Long> lastEventTime) {
        return materialize(deltas.stream()
                .filter(d -> d.getEventTimeMs() <= lastEventTime.getOrDefault(d.getUserId(),
                        Long.MAX_VALUE))
                .collect(Collectors.toList()));
    }

    private static Map<String, Long> lastEventTimes(List<UserAction> events) {
        Map<String, Long> last = new HashMap<>();
        events.forEach(e -> last.merge(e.userId, e.eventTimeMs, Math::max));
        return last;
    }

    static Map<String, UserView> materialize(List<GraphDelta> deltas) {
        DeltaMaterializer materializer = new DeltaMaterializer();
        deltas.stream().sorted(Comparator.comparing(GraphDelta::getUserId)
                        .thenComparingLong(GraphDelta::getEpoch)
                        .thenComparingLong(GraphDelta::getSeq))
                .forEach(materializer::apply);
        return new HashMap<>(materializer.users());
    }

    private static Map<String, Set<String>> itemsByUser(List<UserAction> events,
            java.util.function.Predicate<UserAction> filter) {
        Map<String, Set<String>> items = new HashMap<>();
        for (UserAction event : events) {
            if (filter.test(event) && event.itemId != null && !event.itemId.isEmpty()) {
                items.computeIfAbsent(event.userId, u -> new HashSet<>()).add(event.itemId);
            }
        }
        return items;
    }

    /** Our recommender without neighbours: the content side ("interests only"). */
    private Ranker interestsOnlyRanker(Map<String, Integer> popularity) {
        Recommender.Weights content = weights.copy();
        content.neighbours = 0;
        return new Ranker(e -> new Recommender(e, Map.of(), popularity, content));
    }

    /** Popularity alone, through the same recommender. */
    private Ranker popularityRanker(Map<String, Integer> popularity) {
        Recommender.Weights popular = weights.copy();
        popular.interests = 0;
        popular.shortTerm = 0;
        popular.neighbours = 0;
        popular.popularity = 1;
        return new Ranker(e -> new Recommender(e, Map.of(), popularity, popular));
    }
}
