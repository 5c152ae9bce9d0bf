package dev.interestgraph.eval;

import dev.interestgraph.recommend.RankingMetrics;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Markdown tables and the prequential plot of an {@link Evaluation.Result}. */
public final class EvaluationReport {
    private EvaluationReport() {}

    /**
     * The before/after table at every K: one line per method and phase; a row asked for but not
     * computed ({@link Evaluation.Result#notComputed}) has dashes, and the reason stands above.
     */
    public static String beforeAfterTable(Evaluation.Result result) {
        StringBuilder md = new StringBuilder();
        if (!result.notComputed.isEmpty()) {
            md.append("\n").append(notComputed(result));
        }
        for (int k : Evaluation.KS) {
            md.append("\n**K = ").append(k).append("**\n\n");
            md.append("| method | graph | P@").append(k).append(" | R@").append(k).append(" | F1@")
                    .append(k).append(" | NDCG@").append(k).append(" | HR@").append(k)
                    .append(" |\n|---|---|---|---|---|---|---|\n");
            for (Evaluation.Row row : result.rows) {
                RankingMetrics.Summary m = row.at(k);
                md.append(String.format("| %s | %s | %.4f | %.4f | %.4f | %.4f | %.4f |%n",
                        row.method, row.phase.equals("before") ? "before update (frozen at a)"
                                : "after update (at b)",
                        m.precision(), m.recall(), m.f1(), m.ndcg(), m.hitRate()));
            }
            for (String method : result.notComputed.keySet()) {
                for (String graph : List.of("before update (frozen at a)", "after update (at b)")) {
                    md.append(String.format("| %s | %s | not computed | – | – | – | – |%n",
                            method, graph));
                }
            }
        }
        return md.toString();
    }

    /** One line per reason: the rows it left out, and why. */
    public static String notComputed(Evaluation.Result result) {
        Map<String, List<String>> byReason = new java.util.LinkedHashMap<>();
        result.notComputed.forEach((method, reason) ->
                byReason.computeIfAbsent(reason, r -> new ArrayList<>()).add(method));
        StringBuilder md = new StringBuilder();
        byReason.forEach((reason, methods) -> md.append("**Not computed**: ")
                .append(String.join(", ", methods)).append(" — ").append(reason).append(".\n"));
        return md.toString();
    }

    /**
     * The slices at K = 10: every method's row per slice and phase, with the users scored in it;
     * an empty slice is named as such.
     */
    public static String sliceTable(Evaluation.Result result) {
        StringBuilder md = new StringBuilder();
        md.append("| slice | graph | method | users | P@10 | R@10 | NDCG@10 | HR@10 |\n"
                + "|---|---|---|---|---|---|---|---|\n");
        for (String phase : List.of("before", "after")) {
            for (String slice : Evaluation.SLICES) {
                int users = result.sliceUsers.getOrDefault(phase + "/" + slice, 0);
                String graph = phase.equals("before") ? "before update" : "after update";
                if (users == 0) {
                    md.append(String.format("| %s | %s | (every method) | 0 | – | – | – | – |%n",
                            slice, graph));
                    continue;
                }
                for (Evaluation.Row row : result.sliceRows) {
                    if (row.phase.equals(phase) && row.slice.equals(slice)) {
                        RankingMetrics.Summary m = row.at(10);
                        md.append(String.format("| %s | %s | %s | %d | %.4f | %.4f | %.4f | %.4f |%n",
                                slice, graph, row.method, m.users(), m.precision(), m.recall(),
                                m.ndcg(), m.hitRate()));
                    }
                }
            }
        }
        return md.toString();
    }

    /**
     * The cold-start item protocol's table: every method, both phases, K = 10; per phase all
     * cold targets, then the same lists against the targets nobody interacted with and against
     * those with 1–4 interactions ({@link Evaluation#COLD_PARTS}).
     */
    public static String coldTable(Evaluation.Result result) {
        StringBuilder md = new StringBuilder();
        md.append("| graph | cold targets | method | users | cold candidates | P@10 | R@10 "
                + "| NDCG@10 | HR@10 |\n|---|---|---|---|---|---|---|---|---|\n");
        for (String phase : List.of("before", "after")) {
            String graph = phase.equals("before") ? "before update" : "after update";
            for (String part : Evaluation.COLD_PARTS) {
                String targets = part.equals(Evaluation.COLD_ONLY) ? "all" : part;
                for (Evaluation.Row row : result.coldRows) {
                    if (row.phase.equals(phase) && row.slice.equals(part)) {
                        RankingMetrics.Summary m = row.at(10);
                        md.append(String.format(
                                "| %s | %s | %s | %d | %,d | %.4f | %.4f | %.4f | %.4f |%n",
                                graph, targets, row.method, m.users(),
                                result.coldCandidates.getOrDefault(phase, 0), m.precision(),
                                m.recall(), m.ndcg(), m.hitRate()));
                    }
                }
            }
        }
        return md.toString();
    }

    /** Prequential HR@10 and NDCG@10, overall and per period. */
    public static String prequentialTable(Evaluation.Prequential prequential) {
        StringBuilder md = new StringBuilder();
        md.append("| method | HR@10 | NDCG@10 | events |\n|---|---|---|---|\n");
        prequential.overall.forEach((method, m) -> md.append(String.format(
                "| %s | %.4f | %.4f | %d |%n", method, m.hitRate(), m.ndcg(), m.users())));
        md.append("\nPer period (NDCG@10):\n\n| period |");
        List<String> methods = new ArrayList<>(prequential.byMethodAndPeriod.keySet());
        methods.forEach(m -> md.append(' ').append(m).append(" |"));
        md.append(" events |\n|---|");
        methods.forEach(m -> md.append("---|"));
        md.append("---|\n");
        Map<String, RankingMetrics.Summary> first =
                prequential.byMethodAndPeriod.get(methods.get(0));
        first.forEach((period, summary) -> {
            md.append("| ").append(period).append(" |");
            for (String method : methods) {
                RankingMetrics.Summary m = prequential.byMethodAndPeriod.get(method).get(period);
                md.append(String.format(" %.4f |", m.ndcg()));
            }
            md.append(' ').append(summary.users()).append(" |\n");
        });
        return md.toString();
    }

    /** A PNG line chart of prequential NDCG@10 per period, one line per method. */
    public static void plotPrequential(Evaluation.Prequential prequential, String title,
            Path png) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title)
                .xAxisTitle("time of the scored event (year)")
                .yAxisTitle("NDCG@10 (prequential)").build();
        chart.getStyler().setDecimalPattern("0.000");
        chart.getStyler().setXAxisDecimalPattern("0.#");
        prequential.byMethodAndPeriod.forEach((method, byPeriod) -> {
            List<Double> times = new ArrayList<>();
            List<Double> ndcg = new ArrayList<>();
            byPeriod.forEach((period, summary) -> {
                times.add(asYear(period));
                ndcg.add(summary.ndcg());
            });
            chart.addSeries(method, times, ndcg).setMarker(SeriesMarkers.CIRCLE);
        });
        String path = png.toString();
        BitmapEncoder.saveBitmap(chart, path.endsWith(".png")
                ? path.substring(0, path.length() - 4) : path, BitmapEncoder.BitmapFormat.PNG);
    }

    /** "2016" → 2016.0, "2016-04" → 2016.25. */
    static double asYear(String period) {
        String[] parts = period.split("-");
        return Integer.parseInt(parts[0])
                + (parts.length > 1 ? (Integer.parseInt(parts[1]) - 1) / 12.0 : 0.0);
    }
}
