package org.patientimages.bench;

import org.patientimages.localstack.testing.TestDicom;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * DICOMweb through the public API of the running stack ({@code ./dev up}), as a modality and a viewer use it: a
 * series of {@code --instances} CT slices of 512×512 16-bit pixels (512 KiB each, generated) stored by STOW-RS at the
 * service's root in requests of {@code --batch}, filed under a patient by its identifier; then, once all are
 * available, the series' metadata once (what a viewer reads first; every file's header read from the store) and
 * {@code --rounds} times again (the headers as the gateway keeps them), QIDO-RS of its instances and of the service's
 * study list (a viewer's, the latest 101 studies of the stack), and WADO-RS of the
 * whole series; and every instance's first frame once, one after another (what a viewer reads to show the series).
 * Run it more than once on a stack: the first run's numbers include the gateway compiling these paths. Latencies
 * are client-side, whole HTTP exchanges, bodies read to their end. A table on stdout and a JSON file; the patient
 * and its images are deleted afterwards, purged.
 */
public final class DicomWebBenchmark {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String BOUNDARY = "bench-dicomweb-part";
    private static final int SIDE = 512;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final String api;
    private final String token;

    private DicomWebBenchmark(String api, String token) {
        this.api = api;
        this.token = token;
    }

    public static void main(String[] args) {
        Bench.runAndExit(() -> run(Bench.options(args, "--instances N --batch N --rounds N --api URL --token T"
                + " --out FILE --keep true|false")));
    }

    private static void run(Map<String, String> options) throws Exception {
        int instances = Integer.parseInt(options.getOrDefault("instances", "200"));
        int batch = Integer.parseInt(options.getOrDefault("batch", "50"));
        int rounds = Integer.parseInt(options.getOrDefault("rounds", "20"));
        Path out = Path.of(options.getOrDefault("out", "dicomweb-benchmark.json"));
        DicomWebBenchmark bench = new DicomWebBenchmark(options.getOrDefault("api", "http://127.0.0.1:9797"),
                options.get("token"));

        String mark = Long.toString(System.currentTimeMillis());
        String identifier = "BENCH-" + mark;
        String patient = bench.json(Bench.expect(bench.http.send(Bench.request(bench.api + "/v1/patients", bench.token)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("name", "DICOMweb benchmark",
                        "username", "bench-dicomweb-" + mark, "identifier", identifier)))).build(),
                HttpResponse.BodyHandlers.ofString()), 201).body()).path("patientId").asString();
        String study = "1.2.826.0.1.3680043.2.1125.90." + mark;
        String series = study + ".1";
        String seriesUrl = bench.api + "/v1/dicomweb/studies/" + study + "/series/" + series;
        short[] pixels = TestDicom.ctPixels(SIDE, SIDE);
        try {
            System.out.printf("%nDICOMweb benchmark: %d CT slices of %dx%d (%d KiB each), STOW-RS in requests of %d,"
                    + " %d rounds%n", instances, SIDE, SIDE, SIDE * SIDE * 2 / 1024, batch, rounds);
            System.out.println(Machine.describe());
            List<Double> stores = new ArrayList<>();
            long started = System.nanoTime();
            long bytes = 0;
            for (int from = 0; from < instances; from += batch) {
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                for (int i = from; i < Math.min(instances, from + batch); i++) {
                    byte[] file = TestDicom.ctSlice(SIDE, SIDE, pixels).string(0x00100020, "LO", identifier)
                            .string(0x0020000D, "UI", study).string(0x0020000E, "UI", series)
                            .string(0x00080018, "UI", series + "." + (i + 1))
                            .string(0x00200013, "IS", Integer.toString(i + 1)).toBytes();
                    body.writeBytes(("--" + BOUNDARY + "\r\nContent-Type: application/dicom\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    body.writeBytes(file);
                    body.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
                    bytes += file.length;
                }
                body.writeBytes(("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.US_ASCII));
                long start = System.nanoTime();
                Bench.expect(bench.http.send(Bench.request(bench.api + "/v1/dicomweb/studies", bench.token)
                        .header("Content-Type", "multipart/related; type=\"application/dicom\"; boundary=" + BOUNDARY)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
                        HttpResponse.BodyHandlers.ofString()), 200);
                stores.add((System.nanoTime() - start) / 1e6);
                System.err.printf("\rstored %d of %d", Math.min(instances, from + batch), instances);
            }
            double storing = (System.nanoTime() - started) / 1e9;
            Bench.poll(Duration.ofMillis(200), Duration.ofMinutes(10), () -> {
                JsonNode found = bench.json(bench.get(seriesUrl + "/instances", "application/dicom+json"));
                return found.size() == instances ? Optional.of(true) : Optional.empty();
            });
            double available = (System.nanoTime() - started) / 1e9;
            System.err.println();
            System.out.printf("%nstored by STOW-RS in %.2f s (%.1f instances/s, %.1f MiB/s; requests p50 %.0f ms),"
                            + " all available after %.2f s%n", storing, instances / storing,
                    bytes / 1048576.0 / storing, Bench.percentile(stores, 50), available);

            Map<String, Object> results = new LinkedHashMap<>();
            System.out.printf("%n%-34s %8s %8s %8s %8s %10s%n", "request", "p50 ms", "p95 ms", "max ms", "count",
                    "bytes");
            // the series' metadata once, each file's header read from the store (the gateway keeps what it read)
            results.put("series metadata, first", bench.measure("series metadata, first", seriesUrl + "/metadata",
                    "application/dicom+json", 1));
            results.put("series metadata, again", bench.measure("series metadata, again", seriesUrl + "/metadata",
                    "application/dicom+json", rounds));
            results.put("QIDO-RS series instances", bench.measure("QIDO-RS series instances",
                    seriesUrl + "/instances", "application/dicom+json", rounds));
            // what a viewer's study list asks of the service's root first (OHIF's query)
            results.put("QIDO-RS study list", bench.measure("QIDO-RS study list", bench.api + "/v1/dicomweb/studies"
                    + "?limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060",
                    "application/dicom+json", rounds));
            results.put("WADO-RS series", bench.measure("WADO-RS series", seriesUrl,
                    "multipart/related; type=\"application/dicom\"", Math.max(1, rounds / 4)));
            List<Double> frames = new ArrayList<>();
            long frameBytes = 0;
            long framesStarted = System.nanoTime();
            for (int i = 1; i <= instances; i++) {
                long start = System.nanoTime();
                frameBytes += bench.get(seriesUrl + "/instances/" + series + "." + i + "/frames/1",
                        "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*").length;
                frames.add((System.nanoTime() - start) / 1e6);
            }
            double framesSeconds = (System.nanoTime() - framesStarted) / 1e9;
            results.put("frames, every instance's first", latencies(frames, frameBytes));
            print("frames, every instance's first", frames, frameBytes);
            System.out.printf("%nevery frame of the series in %.2f s, one after another (%.1f MiB/s)%n", framesSeconds,
                    frameBytes / 1048576.0 / framesSeconds);

            Map<String, Object> report = Bench.report("dicomweb");
            report.put("instances", instances);
            report.put("batch", batch);
            report.put("rounds", rounds);
            report.put("stowSeconds", storing);
            report.put("stowInstancesPerSecond", instances / storing);
            report.put("availableSeconds", available);
            report.put("requests", results);
            report.put("framesSeconds", framesSeconds);
            Bench.write(out, report);
        } finally {
            if (!Boolean.parseBoolean(options.getOrDefault("keep", "false"))) {
                Bench.expect(bench.http.send(Bench.request(bench.api + "/v1/patients/" + patient
                        + "?cascade=true&purge=true", bench.token).DELETE().build(),
                        HttpResponse.BodyHandlers.ofString()), 204);
            }
        }
    }

    /** The latencies of {@code rounds} requests of one URL. */
    private Map<String, Object> measure(String name, String url, String accept, int rounds) throws Exception {
        List<Double> millis = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < rounds; i++) {
            long start = System.nanoTime();
            bytes = get(url, accept).length;
            millis.add((System.nanoTime() - start) / 1e6);
        }
        print(name, millis, bytes);
        return latencies(millis, bytes);
    }

    private static void print(String name, List<Double> millis, long bytes) {
        System.out.printf("%-34s %8.1f %8.1f %8.1f %8d %10d%n", name, Bench.percentile(millis, 50),
                Bench.percentile(millis, 95), Bench.percentile(millis, 100), millis.size(), bytes);
    }

    private static Map<String, Object> latencies(List<Double> millis, long bytes) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("count", millis.size());
        result.put("p50Ms", Bench.percentile(millis, 50));
        result.put("p95Ms", Bench.percentile(millis, 95));
        result.put("maxMs", Bench.percentile(millis, 100));
        result.put("bytes", bytes);
        return result;
    }

    /** The body of a {@code GET} that must answer 200, read to its end. */
    private byte[] get(String url, String accept) throws Exception {
        HttpResponse<byte[]> response = http.send(Bench.request(url, token).header("Accept", accept).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("GET " + response.uri().getPath() + " answered " + response.statusCode()
                    + ": " + new String(response.body(), StandardCharsets.UTF_8));
        }
        return response.body();
    }

    private JsonNode json(String body) {
        return JSON.readTree(body);
    }

    private JsonNode json(byte[] body) {
        return JSON.readTree(body);
    }
}
