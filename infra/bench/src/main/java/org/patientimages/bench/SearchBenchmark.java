package org.patientimages.bench;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Search latency over a large image table, through the public API of the running stack ({@code ./dev up}).
 * <p>
 * Seeds the stack's PostgreSQL with {@code --images} images (default 100,000) of {@code --patients} patients
 * (one patient holds a tenth of them), each with three tags, a name and a description from a small
 * vocabulary, an upload time over the last year, and for a third of them DICOM attributes (modality, study).
 * Seeding writes rows directly (it measures search, not ingest) and is skipped when the rows are there from
 * an earlier run. Then every kind of query is sent {@code --rounds} times, one at a time, to
 * {@code GET /v1/images}, and the latencies (client-side, whole HTTP exchange) are reported: a table on
 * stdout and a JSON file.
 */
public final class SearchBenchmark {

    private static final String[] WORDS = {"knee", "hand", "chest", "spine", "skull", "ankle", "wrist", "hip",
            "shoulder", "elbow", "pelvis", "foot", "abdomen", "brain", "heart", "lung"};
    private static final String[] MODALITIES = {"CT", "MR", "US", "CR", "DX"};
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final String api;
    private final String token;

    private SearchBenchmark(String api, String token) {
        this.api = api;
        this.token = token;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Bench.options(args, "--images N --patients N --rounds N --api URL --token T"
                + " --jdbc URL [--user U --password P] --out FILE | --clean true");
        int images = Integer.parseInt(options.getOrDefault("images", "100000"));
        int patients = Integer.parseInt(options.getOrDefault("patients", "1000"));
        int rounds = Integer.parseInt(options.getOrDefault("rounds", "200"));
        String jdbc = options.getOrDefault("jdbc", "jdbc:postgresql://127.0.0.1:5432/patients_db");
        Path out = Path.of(options.getOrDefault("out", "search-benchmark.json"));
        SearchBenchmark bench = new SearchBenchmark(options.getOrDefault("api", "http://127.0.0.1:9797"),
                options.get("token"));

        String heavyPatient;
        long total;
        try (Connection db = DriverManager.getConnection(jdbc, options.getOrDefault("user", "postgres"),
                options.getOrDefault("password", ""))) {
            if (Boolean.parseBoolean(options.getOrDefault("clean", "false"))) {
                clean(db);
                return;
            }
            heavyPatient = seed(db, images, patients);
            total = count(db, "select count(*) from images where status <> 'DELETED'");
        }

        Map<String, String> queries = new LinkedHashMap<>();
        String study = "1.2.826.0.1.3680043.9.3"; // the study of images 30-39
        queries.put("newest first, no filter", "/v1/images");
        queries.put("one patient (10% of all)", "/v1/images?patientId=" + heavyPatient);
        queries.put("tag", "/v1/images?tag=bench-t3");
        queries.put("two tags, match=all", "/v1/images?tag=bench-t3&tag=bench-t23");
        queries.put("two tags, match=any", "/v1/images?tag=bench-t3&tag=bench-t42&match=any");
        queries.put("modality", "/v1/images?modality=MR");
        queries.put("studyInstanceUid", "/v1/images?studyInstanceUid=" + study);
        queries.put("contentType", "/v1/images?contentType=image/png");
        queries.put("from/to (30 days)", "/v1/images?from=" + Instant.now().minus(Duration.ofDays(200))
                + "&to=" + Instant.now().minus(Duration.ofDays(170)));
        queries.put("q (text in name or description)", "/v1/images?q=shoulder");
        queries.put("q, rare text (2 matches)", "/v1/images?q=pelvis%209994");
        queries.put("sort=name, asc", "/v1/images?sort=name&order=asc");
        queries.put("patient + tag + from", "/v1/images?patientId=" + heavyPatient + "&tag=bench-t10&from="
                + Instant.now().minus(Duration.ofDays(300)));
        queries.put("modality + tag + sort=name", "/v1/images?modality=US&tag=bench-t25&sort=name");

        System.out.printf("%nSearch benchmark: %,d images (%,d patients), %d rounds per query, limit 50, sequential%n",
                total, patients, rounds);
        System.out.println(Machine.describe());
        System.out.printf("%n%-34s %8s %8s %8s %8s %6s%n", "query", "p50 ms", "p95 ms", "p99 ms", "max ms", "items");
        for (String path : queries.values()) { // warm the services' JIT on every query before measuring any
            for (int i = 0; i < 30; i++) {
                bench.get(path);
            }
        }
        Map<String, Object> results = new LinkedHashMap<>();
        List<Double> all = new ArrayList<>();
        for (var q : queries.entrySet()) {
            Result r = bench.measure(q.getValue(), rounds);
            results.put(q.getKey(), r.toMap(q.getValue()));
            all.addAll(r.millis());
            System.out.printf("%-34s %8.1f %8.1f %8.1f %8.1f %6d%n", q.getKey(), r.p(50), r.p(95), r.p(99), r.p(100), r.items());
        }
        Result pages = bench.measurePages("/v1/images?limit=50", 20, Math.max(1, rounds / 20));
        results.put("cursor pages 1-20, newest first", pages.toMap("/v1/images?limit=50&cursor=..."));
        all.addAll(pages.millis());
        System.out.printf("%-34s %8.1f %8.1f %8.1f %8.1f %6d%n", "cursor pages 1-20, newest first", pages.p(50),
                pages.p(95), pages.p(99), pages.p(100), pages.items());
        Result overall = new Result(all, 0);
        System.out.printf("%n%-34s %8.1f %8.1f %8.1f %8.1f%n", "all queries", overall.p(50), overall.p(95), overall.p(99),
                overall.p(100));

        Map<String, Object> report = Bench.report("search");
        report.put("images", total);
        report.put("patients", patients);
        report.put("rounds", rounds);
        report.put("queries", results);
        report.put("overall", overall.toMap(null));
        Bench.write(out, report);
    }

    /** Latencies of one query. */
    private Result measure(String path, int rounds) throws IOException, InterruptedException {
        List<Double> millis = new ArrayList<>();
        int items = 0;
        for (int i = 0; i < rounds; i++) {
            long start = System.nanoTime();
            JsonNode page = get(path);
            millis.add((System.nanoTime() - start) / 1e6);
            items = page.path("items").size();
        }
        return new Result(millis, items);
    }

    /** Latencies of following the cursor from page 1 to page {@code pages}, {@code rounds} times. */
    private Result measurePages(String first, int pages, int rounds) throws IOException, InterruptedException {
        List<Double> millis = new ArrayList<>();
        int items = 0;
        for (int round = 0; round < rounds + 1; round++) {
            String path = first;
            for (int page = 0; page < pages && path != null; page++) {
                long start = System.nanoTime();
                JsonNode answer = get(path);
                if (round > 0) { // the first walk warms up
                    millis.add((System.nanoTime() - start) / 1e6);
                    items += answer.path("items").size();
                }
                path = answer.path("nextCursor").isNull() ? null : first + "&cursor=" + answer.path("nextCursor").asString();
            }
        }
        return new Result(millis, items / Math.max(1, rounds));
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<byte[]> response = http.send(Bench.request(api + path, token).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(path + " answered " + response.statusCode() + ": " + new String(response.body()));
        }
        return JSON.readTree(response.body());
    }

    private record Result(List<Double> millis, int items) {

        double p(int percentile) {
            return Bench.percentile(millis, percentile);
        }

        Map<String, Object> toMap(String path) {
            Map<String, Object> m = new LinkedHashMap<>();
            if (path != null) {
                m.put("path", path.replaceAll("patientId=[0-9a-f-]+", "patientId=<heavy patient>"));
                m.put("items", items);
            }
            m.put("samples", millis.size());
            m.put("p50Ms", round(p(50)));
            m.put("p95Ms", round(p(95)));
            m.put("p99Ms", round(p(99)));
            m.put("maxMs", round(p(100)));
            return m;
        }

        private static double round(double v) {
            return Math.round(v * 100) / 100.0;
        }
    }

    /** Writes the bench rows unless an earlier run did; the id of the patient holding a tenth of them. */
    private static String seed(Connection db, int images, int patients) throws SQLException {
        db.setAutoCommit(true);
        try (Statement s = db.createStatement()) {
            s.execute("insert into patients (id, name, username, created_at) select gen_random_uuid(), 'Bench patient '"
                    + " || g, 'bench-' || lpad(g::text, 6, '0'), now() from generate_series(1, " + patients + ") g"
                    + " on conflict (username) do nothing");
            s.execute("insert into tags (name) select 'bench-t' || g from generate_series(0, 49) g on conflict do nothing");
        }
        long present = count(db, "select count(*) from images i join patients p on p.id = i.patient_id"
                + " where p.username ~ '^bench-[0-9]{6}$'");
        String words = "array['" + String.join("','", WORDS) + "']";
        String modalities = "array['" + String.join("','", MODALITIES) + "']";
        int batch = 10_000;
        for (long from = present + 1; from <= images; from += batch) {
            long to = Math.min(images, from + batch - 1);
            String sql = """
                    with p as (select id, row_number() over (order by username) - 1 as n from patients
                               where username ~ '^bench-[0-9]{6}$'),
                    src as materialized (select g, gen_random_uuid() as id from generate_series(%d, %d) g),
                    ins as (
                      insert into images (id, patient_id, name, description, status, original_filename, content_type,
                                          size_bytes, sha256, bucket, object_key, uploaded_at, stored_at, attributes)
                      select s.id, p.id,
                             initcap((%s)[1 + s.g %% 16]) || ' ' || s.g,
                             'Follow-up ' || (%s)[1 + (s.g * 7) %% 16] || ' study ' || s.g,
                             'AVAILABLE', 'scan-' || s.g || '.bin',
                             (array['application/dicom', 'image/png', 'image/jpeg'])[1 + s.g %% 3],
                             100000 + s.g, md5(s.g::text) || md5((s.g + 1)::text), 'patient-images',
                             'images/' || s.id || '/original',
                             now() - s.g * interval '5 minutes', now() - s.g * interval '5 minutes',
                             case when s.g %% 3 = 0 then jsonb_build_object('width', 512, 'height', 512, 'dicom',
                                    jsonb_build_object('Modality', (%s)[1 + (s.g / 3) %% 5],
                                                       'StudyInstanceUID', '1.2.826.0.1.3680043.9.' || (s.g / 10)))
                                  else '{"width": 640, "height": 480}'::jsonb end
                      from src s join p on p.n = case when s.g %% 10 = 0 then 0 else s.g %% %d end
                      returning id)
                    insert into image_tags (image_id, tag_id)
                    select s.id, t.id from src s join tags t on t.name in
                        ('bench-t' || (s.g %% 20), 'bench-t' || (20 + s.g %% 17), 'bench-t' || (40 + s.g %% 7))
                    """.formatted(from, to, words, words, modalities, patients);
            try (Statement s = db.createStatement()) {
                s.execute(sql);
            }
            System.out.printf("\rseeding images: %,d / %,d", to, images);
        }
        if (present < images) {
            System.out.println();
            try (Statement s = db.createStatement()) {
                s.execute("analyze images");
                s.execute("analyze image_tags");
                s.execute("analyze tags");
            }
        }
        try (var s = db.createStatement(); var rs = s.executeQuery(
                "select id from patients where username = 'bench-000001'")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Removes every row the benchmark wrote. */
    private static void clean(Connection db) throws SQLException {
        try (Statement s = db.createStatement()) {
            String bench = "select i.id from images i join patients p on p.id = i.patient_id where p.username ~ '^bench-[0-9]{6}$'";
            s.execute("delete from image_tags where image_id in (" + bench + ")");
            int images = s.executeUpdate("delete from images where id in (" + bench + ")");
            int patients = s.executeUpdate("delete from patients where username ~ '^bench-[0-9]{6}$'");
            s.execute("delete from tags t where t.name like 'bench-t%' and not exists"
                    + " (select 1 from image_tags it where it.tag_id = t.id)");
            System.out.printf("removed %,d benchmark images of %,d patients%n", images, patients);
        }
    }

    private static long count(Connection db, String sql) throws SQLException {
        try (var s = db.createStatement(); var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
