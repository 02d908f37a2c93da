package org.patientimages.e2e;

import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The Prometheus alerting rules of {@code infra/monitoring}, read as Prometheus reads them. */
final class Alerts {

    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*(\\s*\\()?");
    /** PromQL's keywords and the label lists of its groupings, which are no metric names. */
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "and", "or", "unless", "offset", "bool");

    private Alerts() {
    }

    /**
     * The metric names the rules' expressions use, each rule checked for what a person needs on its page: a name,
     * an expression, a severity and a summary.
     */
    @SuppressWarnings("unchecked")
    static List<String> metricNames(Path rules) throws IOException {
        Map<String, Object> file;
        try (Reader reader = Files.newBufferedReader(rules)) {
            file = new Yaml().load(reader);
        }
        Set<String> names = new TreeSet<>();
        for (Map<String, Object> group : (List<Map<String, Object>>) file.get("groups")) {
            for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                assertThat(rule).as("rule %s", rule.get("alert")).containsKeys("alert", "expr", "labels", "annotations");
                assertThat((Map<String, Object>) rule.get("labels")).containsKey("severity");
                assertThat((Map<String, Object>) rule.get("annotations")).containsKey("summary");
                names.addAll(metricNames(rule.get("expr").toString()));
            }
        }
        return List.copyOf(names);
    }

    /** The metric names of one expression: its identifiers less functions, keywords, labels, ranges and strings. */
    static Set<String> metricNames(String expr) {
        String bare = expr.replaceAll("\"[^\"]*\"", "\"\"")       // strings
                .replaceAll("\\{[^}]*}", "")                          // label matchers
                .replaceAll("\\[[^]]*]", "")                          // ranges
                .replaceAll("\\b(by|without|on|ignoring)\\s*\\([^)]*\\)", ""); // grouping labels
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(bare);
        while (m.find()) {
            String token = m.group();
            if (token.endsWith("(") || KEYWORDS.contains(token) || m.start() > 0 && bare.charAt(m.start() - 1) == '$') {
                continue; // a function, a keyword, or a template variable
            }
            names.add(token);
        }
        return names;
    }
}
