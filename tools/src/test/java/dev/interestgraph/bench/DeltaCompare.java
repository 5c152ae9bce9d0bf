package dev.interestgraph.bench;

import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.proto.v1.DeltaOp;
import dev.interestgraph.proto.v1.GraphDelta;
import dev.interestgraph.proto.v1.InterestUpsert;
import dev.interestgraph.proto.v1.ProfileUpdate;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How far two runs' deltas (two {@link DeltaDigest} dumps of the same workload, e.g. before and
 * after a lossy state change) are apart: the share of deltas byte-identical, the share that
 * differ in more than their vectors' values (other ops, ids, labels, top items, edges), and the
 * cosine between the two runs' vectors wherever both sent one for the same interest or profile
 * in the same delta. Each run is decoded by its own {@link DeltaMaterializer}.
 *
 * <p>{@code java -cp <bench classpath> dev.interestgraph.bench.DeltaCompare before.bin after.bin}
 */
public final class DeltaCompare {
    private DeltaCompare() {}

    private static List<byte[]> read(Path file) throws Exception {
        List<byte[]> payloads = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(
                new BufferedInputStream(Files.newInputStream(file)))) {
            while (true) {
                int length;
                try {
                    length = in.readInt();
                } catch (EOFException end) {
                    return payloads;
                }
                byte[] payload = new byte[length];
                in.readFully(payload);
                payloads.add(payload);
            }
        }
    }

    private static double cosine(List<Float> a, List<Float> b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.size(); i++) {
            dot += a.get(i) * b.get(i);
            na += a.get(i) * a.get(i);
            nb += b.get(i) * b.get(i);
        }
        return na == 0 || nb == 0 ? (na == nb ? 1 : 0) : dot / Math.sqrt(na * nb);
    }

    /** The delta without its vectors' values (what must not change beyond them). */
    private static GraphDelta withoutVectors(GraphDelta delta) {
        GraphDelta.Builder b = delta.toBuilder();
        for (int i = 0; i < b.getOpsCount(); i++) {
            DeltaOp op = b.getOps(i);
            if (op.hasInterestUpsert()) {
                b.setOps(i, op.toBuilder().setInterestUpsert(op.getInterestUpsert().toBuilder()
                        .clearCentroid().clearWeight()));
            } else if (op.hasProfileUpdate()) {
                b.setOps(i, op.toBuilder().setProfileUpdate(op.getProfileUpdate().toBuilder()
                        .clearLongTerm().clearShortTerm()));
            }
        }
        return b.build();
    }

    public static void main(String[] args) throws Exception {
        List<byte[]> before = read(Path.of(args[0]));
        List<byte[]> after = read(Path.of(args[1]));
        DeltaMaterializer mb = new DeltaMaterializer();
        DeltaMaterializer ma = new DeltaMaterializer();
        int n = Math.min(before.size(), after.size());
        int identical = 0;
        int structural = 0;
        List<Double> centroidCosines = new ArrayList<>();
        List<Double> profileCosines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (Arrays.equals(before.get(i), after.get(i))) {
                identical++;
            }
            GraphDelta b = mb.decodeAndApply(
                    dev.interestgraph.proto.v2.GraphDelta.parseFrom(before.get(i)));
            GraphDelta a = ma.decodeAndApply(
                    dev.interestgraph.proto.v2.GraphDelta.parseFrom(after.get(i)));
            if (!withoutVectors(b).equals(withoutVectors(a))) {
                structural++;
            }
            Map<Integer, InterestUpsert> centroids = new HashMap<>();
            ProfileUpdate profile = null;
            for (DeltaOp op : b.getOpsList()) {
                if (op.hasInterestUpsert()) {
                    centroids.put(op.getInterestUpsert().getInterestId(), op.getInterestUpsert());
                } else if (op.hasProfileUpdate()) {
                    profile = op.getProfileUpdate();
                }
            }
            for (DeltaOp op : a.getOpsList()) {
                if (op.hasInterestUpsert()) {
                    InterestUpsert other = centroids.get(op.getInterestUpsert().getInterestId());
                    List<Float> mine = op.getInterestUpsert().getCentroidList();
                    if (other != null && !mine.isEmpty()
                            && other.getCentroidCount() == mine.size()) {
                        centroidCosines.add(cosine(other.getCentroidList(), mine));
                    }
                } else if (op.hasProfileUpdate() && profile != null) {
                    ProfileUpdate p = op.getProfileUpdate();
                    if (p.getLongTermCount() > 0
                            && p.getLongTermCount() == profile.getLongTermCount()) {
                        profileCosines.add(cosine(profile.getLongTermList(), p.getLongTermList()));
                    }
                    if (p.getShortTermCount() > 0
                            && p.getShortTermCount() == profile.getShortTermCount()) {
                        profileCosines.add(
                                cosine(profile.getShortTermList(), p.getShortTermList()));
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "deltas %d / %d; byte-identical %.1f %%; different beyond "
                        + "vector values %.1f %% (%d)%n", before.size(), after.size(),
                100.0 * identical / n, 100.0 * structural / n, structural);
        summary("centroid cosine (same interest, same delta)", centroidCosines);
        summary("profile cosine (same delta)", profileCosines);
    }

    private static void summary(String what, List<Double> cosines) {
        if (cosines.isEmpty()) {
            System.out.println(what + ": none");
            return;
        }
        double[] sorted = cosines.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        System.out.printf(Locale.ROOT, "%s: n %d, min %.5f, p1 %.5f, median %.6f, mean %.6f%n",
                what, sorted.length, sorted[0], sorted[sorted.length / 100],
                sorted[sorted.length / 2], Arrays.stream(sorted).average().orElse(1));
    }
}
