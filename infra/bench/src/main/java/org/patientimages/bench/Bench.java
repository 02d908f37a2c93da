package org.patientimages.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the benchmarks share: their {@code --name value} options and percentiles. */
final class Bench {

    private Bench() {
    }

    /** {@code --name value} pairs, in order. */
    static Map<String, String> options(String[] args, String usage) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 == args.length) {
                throw new IllegalArgumentException("usage: " + usage + "; got " + Arrays.toString(args));
            }
            options.put(args[i].substring(2), args[++i]);
        }
        return options;
    }

    /** The nearest-rank percentile (100 is the maximum); NaN of no values. */
    static double percentile(List<Double> values, int percentile) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
