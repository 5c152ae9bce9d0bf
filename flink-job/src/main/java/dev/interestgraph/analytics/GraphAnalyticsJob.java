package dev.interestgraph.analytics;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.FilterFunction;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.GroupReduceFunction;
import org.apache.flink.api.common.functions.JoinFunction;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.RichGroupReduceFunction;
import org.apache.flink.api.java.DataSet;
import org.apache.flink.api.java.ExecutionEnvironment;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.api.java.tuple.Tuple6;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FileSystem.WriteMode;
import org.apache.flink.graph.Graph;
import org.apache.flink.graph.Vertex;
import org.apache.flink.graph.library.ConnectedComponents;
import org.apache.flink.graph.library.LabelPropagation;
import org.apache.flink.graph.library.similarity.AdamicAdar;
import org.apache.flink.graph.library.similarity.JaccardIndex;
import org.apache.flink.types.NullValue;
import org.apache.flink.types.StringValue;
import org.apache.flink.util.Collector;

/**
 * The graph-wide analysis a per-user keyed job cannot do, as a Flink batch job (DataSet API +
 * Gelly) over a {@link GraphSnapshot}:
 *
 * <ol>
 *   <li><b>item–item similarity</b> on the user–item bipartite graph: Gelly's {@link JaccardIndex}
 *       and {@link AdamicAdar} over users shared by two items, pairs with at least {@code
 *       minSupport} shared users, the top {@code neighborsPerItem} per item by the ranking score;
 *   <li><b>communities</b>: Gelly's {@link LabelPropagation} on the mutual-neighbour graph,
 *       each labelled with the words that set its items' text apart (count × idf), with its most
 *       popular items for cold-start users;
 *   <li><b>graph health</b>: Gelly's {@link ConnectedComponents} on the user–item graph (sizes),
 *       plus isolated items ({@link AnalyticsOutput} adds those from the catalogue).
 * </ol>
 *
 * <p>Only positive edges (weight above {@code minEdgeWeight}) connect: a dislike is not
 * evidence that two items are alike. Vertex ids are the ids prefixed "u:" or "i:", so users and
 * items never collide. Writes tab-separated files into the output directory; {@link
 * AnalyticsOutput} reads them and {@link AnalyticsPublisher} puts them on the topic.
 */
public final class GraphAnalyticsJob {
    private static final org.slf4j.Logger LOG =
            org.slf4j.LoggerFactory.getLogger(GraphAnalyticsJob.class);
    static final String USER = "u:";
    static final String ITEM = "i:";
    public static final String NEIGHBORS_FILE = "neighbors.tsv";
    public static final String ITEM_COMMUNITIES_FILE = "item-communities.tsv";
    public static final String COMMUNITIES_FILE = "communities.tsv";
    public static final String COMPONENTS_FILE = "components.tsv";

    /** How neighbours are ranked (and what {@code Neighbor.score} holds). */
    public enum Ranking {
        /** Adamic–Adar normalised by the item's strongest neighbour: rare shared users count more. */
        ADAMIC_ADAR,
        /** Jaccard index: shared users over users of either item. */
        JACCARD
    }

    /** Which item neighbours a run publishes. */
    public enum NeighbourModel {
        /** Gelly's Jaccard or Adamic–Adar neighbours, as {@link Settings#ranking} says. */
        GELLY,
        /**
         * EASE^R's largest positive weights per item ({@link EaseModel}, fitted on the snapshot's
         * positive edges as a binary user × item matrix), scaled into (0, 1] by the model's largest
         * weight, and with {@link Settings#easeNegatives} its most negative ones after them
         * (scores below 0); Gelly's neighbours when more than {@link Settings#easeMaxItems} items have an
         * edge (the dense model's memory and time grow as n² and n³). Communities still come from
         * Gelly's neighbours either way.
         */
        EASE
    }

    /** Parameters of one run; {@link #validate} says which is wrong and how to fix it. */
    public static final class Settings implements java.io.Serializable {
        public int neighborsPerItem = 20;
        public int minSupport = 2;
        public double minEdgeWeight = 0.0;
        public int labelPropagationIterations = 10;
        public int componentIterations = 50;
        public int popularPerCommunity = 20;
        /** Jaccard: best after the update on MovieLens (docs/analytics.md). */
        public Ranking ranking = Ranking.JACCARD;
        public NeighbourModel neighbourModel = NeighbourModel.GELLY;
        /**
         * EASE's λ: what the evaluation's validation window chose on MovieLens ml-latest-small
         * (100 over 300 and 1000; docs/evaluation-ease.md).
         */
        public double easeLambda = 100;
        /**
         * Whether EASE neighbours also carry each item's {@link #neighborsPerItem} most negative
         * weights ({@link EaseModel#neighbours(int, boolean)}). Off: chosen on the evaluation's
         * validation window on MovieLens ml-latest-small, never the target, over its two
         * conditions — the neighbour signal alone gains 0.008 NDCG@10 with a graph ranked right
         * after its cut and loses 0.024 with a graph that lags it (docs/evaluation-ease.md).
         */
        public boolean easeNegatives = false;
        public int easeMaxItems = EaseModel.PRACTICAL_MAX_ITEMS;

        public Settings validate() {
            require(easeLambda > 0, "analytics.ease.lambda", easeLambda, "positive");
            require(easeMaxItems >= 1, "analytics.ease.max-items", easeMaxItems, "at least 1");
            require(neighborsPerItem >= 1, "analytics.neighbors-per-item", neighborsPerItem,
                    "at least 1");
            require(minSupport >= 1, "analytics.min-support", minSupport, "at least 1");
            require(labelPropagationIterations >= 1, "analytics.label-propagation-iterations",
                    labelPropagationIterations, "at least 1");
            require(componentIterations >= 1, "analytics.component-iterations",
                    componentIterations, "at least 1");
            require(popularPerCommunity >= 1, "analytics.popular-per-community",
                    popularPerCommunity, "at least 1");
            return this;
        }

        private static void require(boolean ok, String key, Object value, String range) {
            if (!ok) {
                throw new IllegalArgumentException(
                        "--" + key + " is " + value + ": it must be " + range + ".");
            }
        }
    }

    private GraphAnalyticsJob() {}

    /**
     * Adds the analysis of the snapshot in {@code snapshotDir} to {@code env}, writing into {@code
     * outDir}; run it with {@code env.execute()}.
     */
    public static void plan(ExecutionEnvironment env, Path snapshotDir, Path outDir,
            Settings settings) {
        settings.validate();
        String out = outDir.toUri().toString();

        DataSet<Tuple3<StringValue, StringValue, NullValue>> edges = env
                .readCsvFile(snapshotDir.resolve(GraphSnapshot.EDGES_FILE).toUri().toString())
                .fieldDelimiter("\t")
                .types(String.class, String.class, Double.class, Long.class)
                .filter(new PositiveEdges(settings.minEdgeWeight))
                .name("positive edges")
                .map(new ToGraphEdge())
                .name("prefix ids");
        DataSet<Tuple2<String, String>> itemTexts = env
                .readTextFile(snapshotDir.resolve(GraphSnapshot.ITEMS_FILE).toUri().toString())
                .flatMap(new ParseItemText())
                .name("item texts");

        // ---- item–item similarity over shared users
        Graph<StringValue, NullValue, NullValue> bipartite =
                Graph.fromTupleDataSet(edges, env).getUndirected();
        DataSet<Tuple4<String, String, Float, Integer>> jaccard;
        DataSet<Tuple3<String, String, Float>> adamicAdar;
        try {
            jaccard = bipartite
                    .run(new JaccardIndex<StringValue, NullValue, NullValue>()
                            .setMirrorResults(true))
                    .flatMap(new ItemPairsJaccard(settings.minSupport))
                    .name("item pairs (Jaccard)");
            adamicAdar = bipartite
                    .run(new AdamicAdar<StringValue, NullValue, NullValue>()
                            .setMirrorResults(true))
                    .flatMap(new ItemPairsAdamicAdar())
                    .name("item pairs (Adamic-Adar)");
        } catch (Exception e) {
            throw new IllegalStateException("Gelly could not plan the similarity algorithms", e);
        }
        DataSet<Tuple6<String, String, Float, Float, Integer, Float>> neighbors = jaccard
                .join(adamicAdar).where(0, 1).equalTo(0, 1)
                .with(new BothScores())
                .name("Jaccard + Adamic-Adar")
                .groupBy(0)
                .reduceGroup(new TopNeighbors(settings.neighborsPerItem, settings.ranking))
                .name("top neighbours per item");
        neighbors.writeAsCsv(out + "/" + NEIGHBORS_FILE, "\n", "\t", WriteMode.OVERWRITE)
                .setParallelism(1).name(NEIGHBORS_FILE);

        // ---- communities: label propagation on the mutual-neighbour graph. Mutual (each in the
        // other's top N) rather than any top-N link: popular items are everyone's neighbour, and
        // through them label propagation floods one label over most of the graph.
        DataSet<Tuple3<StringValue, StringValue, NullValue>> similarityEdges = neighbors
                .map(new UnorderedPair()).name("unordered pairs")
                .groupBy(0, 1).sum(2)
                .filter(new Mutual()).name("mutual neighbours")
                .map(new WithoutCount());
        DataSet<Vertex<StringValue, StringValue>> labels;
        try {
            labels = Graph.fromTupleDataSet(similarityEdges, new OwnId(), env)
                    .getUndirected()
                    .run(new LabelPropagation<StringValue, StringValue, NullValue>(
                            settings.labelPropagationIterations));
        } catch (Exception e) {
            throw new IllegalStateException("Gelly could not plan label propagation", e);
        }
        DataSet<Tuple2<String, Integer>> degrees = edges
                .map(new ItemOne()).name("item degree")
                .groupBy(0).sum(1);
        DataSet<Tuple3<String, Long, Integer>> itemCommunities = labels
                .map(new Membership()).name("membership")
                .rightOuterJoin(degrees).where(0).equalTo(0)
                .with(new WithDegree())
                .name("item → community, degree");
        itemCommunities.writeAsCsv(out + "/" + ITEM_COMMUNITIES_FILE, "\n", "\t",
                WriteMode.OVERWRITE).setParallelism(1).name(ITEM_COMMUNITIES_FILE);

        DataSet<Tuple2<String, Integer>> documentFrequencies = itemTexts
                .flatMap(new DistinctTokens()).name("tokens per item")
                .groupBy(0).sum(1);
        itemCommunities
                .filter(new InCommunity())
                .leftOuterJoin(itemTexts).where(0).equalTo(0)
                .with(new WithText())
                .name("community members with text")
                .groupBy(1)
                .reduceGroup(new DescribeCommunity(settings.popularPerCommunity))
                .withBroadcastSet(documentFrequencies, DescribeCommunity.DOCUMENT_FREQUENCIES)
                .name("label + popular items per community")
                .writeAsCsv(out + "/" + COMMUNITIES_FILE, "\n", "\t", WriteMode.OVERWRITE)
                .setParallelism(1).name(COMMUNITIES_FILE);

        // ---- graph health: connected components of the user–item graph
        try {
            Graph.fromTupleDataSet(edges, new OwnId(), env)
                    .getUndirected()
                    .run(new ConnectedComponents<StringValue, StringValue, NullValue>(
                            settings.componentIterations))
                    .map(new ComponentMember()).name("component member")
                    .groupBy(0).sum(1).andSum(2)
                    .name("component sizes")
                    .writeAsCsv(out + "/" + COMPONENTS_FILE, "\n", "\t", WriteMode.OVERWRITE)
                    .setParallelism(1).name(COMPONENTS_FILE);
        } catch (Exception e) {
            throw new IllegalStateException("Gelly could not plan connected components", e);
        }
    }

    /**
     * Runs the analysis on a local environment of the given parallelism and reads the result,
     * stamped with {@code runId}.
     */
    public static AnalyticsOutput runLocally(Path snapshotDir, Path outDir, Settings settings,
            int parallelism, long runId) throws Exception {
        Configuration conf = new Configuration();
        // Gelly's similarity joins sort in managed memory; the local default (128 MB) is tight
        conf.setString("taskmanager.memory.managed.size", "256m");
        ExecutionEnvironment env = ExecutionEnvironment.createLocalEnvironment(conf);
        env.setParallelism(parallelism);
        plan(env, snapshotDir, outDir, settings);
        env.execute("interest-graph analytics (Gelly)");
        AnalyticsOutput output = AnalyticsOutput.read(snapshotDir, outDir, runId, settings.ranking);
        return settings.neighbourModel == NeighbourModel.EASE
                ? withEaseNeighbours(output, GraphSnapshot.read(snapshotDir), settings) : output;
    }

    /**
     * The run's output with each item's neighbours from EASE^R fitted on the snapshot's positive
     * edges — or the output unchanged (Gelly's neighbours), with a warning, when more than {@code
     * settings.easeMaxItems} items have an edge. The model is fitted here, in the client, not in
     * the cluster: it is one dense matrix inverse, which a DataSet job would not spread.
     */
    public static AnalyticsOutput withEaseNeighbours(AnalyticsOutput output,
            GraphSnapshot snapshot, Settings settings) {
        Map<String, Set<String>> liked = new HashMap<>();
        for (GraphSnapshot.Edge edge : snapshot.edges()) {
            if (edge.weight() > settings.minEdgeWeight) {
                liked.computeIfAbsent(edge.userId(), u -> new HashSet<>()).add(edge.itemId());
            }
        }
        int items = EaseModel.itemCount(liked);
        if (items > settings.easeMaxItems) {
            LOG.warn("EASE neighbours skipped: {} items have an edge, more than "
                    + "analytics.ease.max-items = {} (a dense model would need {} MB and hours "
                    + "of CPU); publishing the Gelly {} neighbours instead", items,
                    settings.easeMaxItems, EaseModel.denseBytes(items) / 1_000_000,
                    settings.ranking);
            return output;
        }
        long started = System.nanoTime();
        EaseModel model = EaseModel.fit(liked, settings.easeLambda);
        AnalyticsOutput ease = output.withNeighbours(model.neighbours(settings.neighborsPerItem,
                settings.easeNegatives),
                "ease");
        LOG.info("EASE neighbours: {} items, λ = {}, {} s", items, settings.easeLambda,
                String.format("%.1f", (System.nanoTime() - started) / 1e9));
        return ease;
    }

    /**
     * Writes the snapshot under {@code workDir}/snapshot, analyses it into {@code workDir}/out on
     * a local environment and reads the result.
     */
    public static AnalyticsOutput runLocally(GraphSnapshot snapshot, Path workDir,
            Settings settings, int parallelism, long runId) throws Exception {
        Path snapshotDir = workDir.resolve("snapshot");
        snapshot.write(snapshotDir);
        return runLocally(snapshotDir, workDir.resolve("out"), settings, parallelism, runId);
    }

    // ---------------------------------------------------------------- functions (named: Gelly
    // and the DataSet API extract types from them; lambdas lose the generics)

    static final class PositiveEdges implements FilterFunction<Tuple4<String, String, Double, Long>> {
        private final double minWeight;

        PositiveEdges(double minWeight) {
            this.minWeight = minWeight;
        }

        @Override
        public boolean filter(Tuple4<String, String, Double, Long> edge) {
            return edge.f2 > minWeight;
        }
    }

    static final class ToGraphEdge implements
            MapFunction<Tuple4<String, String, Double, Long>, Tuple3<StringValue, StringValue, NullValue>> {
        @Override
        public Tuple3<StringValue, StringValue, NullValue> map(
                Tuple4<String, String, Double, Long> edge) {
            return Tuple3.of(new StringValue(USER + edge.f0), new StringValue(ITEM + edge.f1),
                    NullValue.getInstance());
        }
    }

    static final class ParseItemText implements FlatMapFunction<String, Tuple2<String, String>> {
        @Override
        public void flatMap(String line, Collector<Tuple2<String, String>> out) {
            int tab = line.indexOf('\t');
            if (tab > 0) {
                out.collect(Tuple2.of(line.substring(0, tab), line.substring(tab + 1)));
            }
        }
    }

    static boolean isItem(StringValue id) {
        return id.length() > 2 && id.charAt(0) == 'i' && id.charAt(1) == ':';
    }

    static String itemId(StringValue id) {
        return id.getValue().substring(ITEM.length());
    }

    static final class ItemPairsJaccard implements
            FlatMapFunction<JaccardIndex.Result<StringValue>, Tuple4<String, String, Float, Integer>> {
        private final int minSupport;

        ItemPairsJaccard(int minSupport) {
            this.minSupport = minSupport;
        }

        @Override
        public void flatMap(JaccardIndex.Result<StringValue> result,
                Collector<Tuple4<String, String, Float, Integer>> out) {
            int shared = result.getSharedNeighborCount().getValue();
            if (shared >= minSupport && isItem(result.getVertexId0())
                    && isItem(result.getVertexId1())) {
                out.collect(Tuple4.of(itemId(result.getVertexId0()),
                        itemId(result.getVertexId1()), (float) result.getJaccardIndexScore(),
                        shared));
            }
        }
    }

    static final class ItemPairsAdamicAdar implements
            FlatMapFunction<AdamicAdar.Result<StringValue>, Tuple3<String, String, Float>> {
        @Override
        public void flatMap(AdamicAdar.Result<StringValue> result,
                Collector<Tuple3<String, String, Float>> out) {
            if (isItem(result.getVertexId0()) && isItem(result.getVertexId1())) {
                out.collect(Tuple3.of(itemId(result.getVertexId0()),
                        itemId(result.getVertexId1()), result.getAdamicAdarScore().getValue()));
            }
        }
    }

    static final class BothScores implements JoinFunction<Tuple4<String, String, Float, Integer>,
            Tuple3<String, String, Float>, Tuple6<String, String, Float, Float, Integer, Float>> {
        @Override
        public Tuple6<String, String, Float, Float, Integer, Float> join(
                Tuple4<String, String, Float, Integer> jaccard,
                Tuple3<String, String, Float> adamicAdar) {
            return Tuple6.of(jaccard.f0, jaccard.f1, jaccard.f2, adamicAdar.f2, jaccard.f3, 0f);
        }
    }

    /** Scores each item's neighbours in [0, 1] and keeps the top N (ties: by neighbour id). */
    static final class TopNeighbors implements GroupReduceFunction<
            Tuple6<String, String, Float, Float, Integer, Float>,
            Tuple6<String, String, Float, Float, Integer, Float>> {
        private final int topN;
        private final Ranking ranking;

        TopNeighbors(int topN, Ranking ranking) {
            this.topN = topN;
            this.ranking = ranking;
        }

        @Override
        public void reduce(Iterable<Tuple6<String, String, Float, Float, Integer, Float>> pairs,
                Collector<Tuple6<String, String, Float, Float, Integer, Float>> out) {
            List<Tuple6<String, String, Float, Float, Integer, Float>> all = new ArrayList<>();
            float maxAdamicAdar = 0;
            for (Tuple6<String, String, Float, Float, Integer, Float> pair : pairs) {
                all.add(pair.copy());
                maxAdamicAdar = Math.max(maxAdamicAdar, pair.f3);
            }
            for (Tuple6<String, String, Float, Float, Integer, Float> pair : all) {
                pair.f5 = ranking == Ranking.JACCARD ? pair.f2
                        : maxAdamicAdar > 0 ? pair.f3 / maxAdamicAdar : 0f;
            }
            all.sort(Comparator.<Tuple6<String, String, Float, Float, Integer, Float>>comparingDouble(
                    p -> -p.f5).thenComparing(p -> p.f1));
            for (int i = 0; i < Math.min(topN, all.size()); i++) {
                out.collect(all.get(i));
            }
        }
    }

    /** (smaller id, larger id, 1): a pair seen from both sides sums to 2. */
    static final class UnorderedPair implements MapFunction<
            Tuple6<String, String, Float, Float, Integer, Float>, Tuple3<String, String, Integer>> {
        @Override
        public Tuple3<String, String, Integer> map(
                Tuple6<String, String, Float, Float, Integer, Float> pair) {
            boolean ordered = pair.f0.compareTo(pair.f1) < 0;
            return Tuple3.of(ordered ? pair.f0 : pair.f1, ordered ? pair.f1 : pair.f0, 1);
        }
    }

    static final class Mutual implements FilterFunction<Tuple3<String, String, Integer>> {
        @Override
        public boolean filter(Tuple3<String, String, Integer> pair) {
            return pair.f2 >= 2;
        }
    }

    static final class WithoutCount implements
            MapFunction<Tuple3<String, String, Integer>, Tuple3<StringValue, StringValue, NullValue>> {
        @Override
        public Tuple3<StringValue, StringValue, NullValue> map(
                Tuple3<String, String, Integer> pair) {
            return Tuple3.of(new StringValue(pair.f0), new StringValue(pair.f1),
                    NullValue.getInstance());
        }
    }

    /** Each vertex starts with its own id as its value (label or component). */
    static final class OwnId implements MapFunction<StringValue, StringValue> {
        @Override
        public StringValue map(StringValue id) {
            return new StringValue(id);
        }
    }

    static final class ItemOne implements
            MapFunction<Tuple3<StringValue, StringValue, NullValue>, Tuple2<String, Integer>> {
        @Override
        public Tuple2<String, Integer> map(Tuple3<StringValue, StringValue, NullValue> edge) {
            return Tuple2.of(itemId(edge.f1), 1);
        }
    }

    static final class Membership implements
            MapFunction<Vertex<StringValue, StringValue>, Tuple2<String, Long>> {
        @Override
        public Tuple2<String, Long> map(Vertex<StringValue, StringValue> vertex) {
            return Tuple2.of(vertex.getId().getValue(), communityId(vertex.getValue().getValue()));
        }
    }

    /** A stable non-negative id for the community a label item names (FNV-1a, 63 bits). */
    static long communityId(String labelItem) {
        long hash = 0xcbf29ce484222325L;
        for (int i = 0; i < labelItem.length(); i++) {
            hash ^= labelItem.charAt(i);
            hash *= 0x100000001b3L;
        }
        return hash & Long.MAX_VALUE;
    }

    static final class WithDegree implements JoinFunction<Tuple2<String, Long>,
            Tuple2<String, Integer>, Tuple3<String, Long, Integer>> {
        @Override
        public Tuple3<String, Long, Integer> join(Tuple2<String, Long> membership,
                Tuple2<String, Integer> degree) {
            return Tuple3.of(degree.f0, membership == null ? -1L : membership.f1, degree.f1);
        }
    }

    static final class InCommunity implements FilterFunction<Tuple3<String, Long, Integer>> {
        @Override
        public boolean filter(Tuple3<String, Long, Integer> item) {
            return item.f1 >= 0;
        }
    }

    static final class WithText implements JoinFunction<Tuple3<String, Long, Integer>,
            Tuple2<String, String>, Tuple4<String, Long, Integer, String>> {
        @Override
        public Tuple4<String, Long, Integer, String> join(Tuple3<String, Long, Integer> item,
                Tuple2<String, String> text) {
            return Tuple4.of(item.f0, item.f1, item.f2, text == null ? "" : text.f1);
        }
    }

    static final class DistinctTokens implements
            FlatMapFunction<Tuple2<String, String>, Tuple2<String, Integer>> {
        @Override
        public void flatMap(Tuple2<String, String> item, Collector<Tuple2<String, Integer>> out) {
            out.collect(Tuple2.of(CommunityLabels.DOCUMENTS, 1));
            for (String token : CommunityLabels.tokens(item.f1)) {
                out.collect(Tuple2.of(token, 1));
            }
        }
    }

    /**
     * One community: its readable label from its members' text and its most popular members;
     * emits (community id, label, size, "item \\t degree \\t item \\t degree ...").
     */
    static final class DescribeCommunity extends RichGroupReduceFunction<
            Tuple4<String, Long, Integer, String>, Tuple4<Long, String, Integer, String>> {
        static final String DOCUMENT_FREQUENCIES = "document-frequencies";
        private final int popular;
        private transient Map<String, Integer> documentFrequencies;

        DescribeCommunity(int popular) {
            this.popular = popular;
        }

        @Override
        public void open(Configuration parameters) {
            documentFrequencies = new HashMap<>();
            Collection<Tuple2<String, Integer>> broadcast =
                    getRuntimeContext().getBroadcastVariable(DOCUMENT_FREQUENCIES);
            for (Tuple2<String, Integer> df : broadcast) {
                documentFrequencies.put(df.f0, df.f1);
            }
        }

        @Override
        public void reduce(Iterable<Tuple4<String, Long, Integer, String>> members,
                Collector<Tuple4<Long, String, Integer, String>> out) {
            long id = -1;
            List<Tuple4<String, Long, Integer, String>> all = new ArrayList<>();
            for (Tuple4<String, Long, Integer, String> member : members) {
                id = member.f1;
                all.add(member.copy());
            }
            List<String> texts = new ArrayList<>();
            for (Tuple4<String, Long, Integer, String> member : all) {
                texts.add(member.f3);
            }
            String label = CommunityLabels.label(texts, documentFrequencies, 3);
            all.sort(Comparator.<Tuple4<String, Long, Integer, String>>comparingInt(m -> -m.f2)
                    .thenComparing(m -> m.f0));
            // item ids never hold control characters (input limits): tabs separate the list
            StringBuilder top = new StringBuilder();
            for (int i = 0; i < Math.min(popular, all.size()); i++) {
                top.append(i == 0 ? "" : "\t").append(all.get(i).f0).append('\t')
                        .append(all.get(i).f2);
            }
            out.collect(Tuple4.of(id, label, all.size(), top.toString()));
        }
    }

    static final class ComponentMember implements
            MapFunction<Vertex<StringValue, StringValue>, Tuple3<String, Integer, Integer>> {
        @Override
        public Tuple3<String, Integer, Integer> map(Vertex<StringValue, StringValue> vertex) {
            boolean item = isItem(vertex.getId());
            return Tuple3.of(vertex.getValue().getValue(), item ? 0 : 1, item ? 1 : 0);
        }
    }

}
