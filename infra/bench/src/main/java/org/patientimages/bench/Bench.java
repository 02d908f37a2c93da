package org.patientimages.bench;

import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** What the benchmarks share: their {@code --name value} options, polling, percentiles and JSON reports. */
final class Bench {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern OPTION = Pattern.compile("--([a-z][a-z0-9-]*)");

    private Bench() {
    }

    /**
     * {@code --name value} pairs, in order; only names that {@code usage} shows are taken, so that a mistyped option
     * stops the run instead of leaving a default in its place.
     */
    static Map<String, String> options(String[] args, String usage) {
        Set<String> known = OPTION.matcher(usage).results().map(m -> m.group(1)).collect(Collectors.toSet());
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            // only the name is told back: values include the caller's token
            if (!args[i].startsWith("--") || !known.contains(args[i].substring(2))) {
                throw new IllegalArgumentException("unknown option " + args[i] + "; usage: " + usage);
            }
            if (i + 1 == args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value; usage: " + usage);
            }
            options.put(args[i].substring(2), args[++i]);
        }
        return options;
    }

    /** A request to the gateway, with the caller's bearer token ({@code --token}; ./dev passes an admin's). */
    static java.net.http.HttpRequest.Builder request(String uri, String token) {
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(uri));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return request;
    }

    /** The pieces of a resumable upload: bytes {@code from} (inclusive) to {@code to} (exclusive) of the file. */
    interface Pieces {
        java.net.http.HttpRequest.BodyPublisher bytes(long from, long to) throws IOException;
    }

    /** The job and the image of an accepted upload. */
    record Accepted(String jobId, String imageId) {
    }

    /**
     * Sends a file as a resumable upload (tus) for the patient in pieces of {@code piece} bytes: the first with the
     * creation request (creation-with-upload, as tus-js-client's {@code uploadDataDuringCreation}), each other in a
     * {@code PATCH}; the last answer names the job and the image ({@code Link}).
     */
    static Accepted resumable(java.net.http.HttpClient http, String api, String token, String patient, long size,
                              long piece, String filename, Pieces pieces) throws Exception {
        long first = Math.min(size, piece);
        var create = request(api + "/v1/patients/" + patient + "/uploads", token)
                .header("Tus-Resumable", "1.0.0").header("Upload-Length", Long.toString(size))
                .header("Upload-Metadata", "filename " + java.util.Base64.getEncoder().encodeToString(
                        filename.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .header("Content-Type", "application/offset+octet-stream")
                .POST(pieces.bytes(0, first)).build();
        java.net.http.HttpResponse<String> last = expect(http.send(create,
                java.net.http.HttpResponse.BodyHandlers.ofString()), 201);
        String location = api + last.headers().firstValue("Location").orElseThrow();
        for (long from = first; from < size; from += piece) {
            long to = Math.min(size, from + piece);
            var patch = request(location, token).header("Tus-Resumable", "1.0.0")
                    .header("Upload-Offset", Long.toString(from))
                    .header("Content-Type", "application/offset+octet-stream")
                    .method("PATCH", pieces.bytes(from, to)).build();
            last = expect(http.send(patch, java.net.http.HttpResponse.BodyHandlers.ofString()), 204);
        }
        return new Accepted(linked(last, "job"), linked(last, "image"));
    }

    /** The id in an answer's {@code Link: </v1/<rel>s/<id>>; rel="<rel>"}. */
    private static String linked(java.net.http.HttpResponse<?> response, String rel) {
        String link = response.headers().allValues("Link").stream().filter(l -> l.endsWith("rel=\"" + rel + "\""))
                .findFirst().orElseThrow(() -> new IllegalStateException("the last piece's answer names no " + rel));
        return link.substring(link.lastIndexOf('/', link.indexOf('>')) + 1, link.indexOf('>'));
    }

    /** The answer, when it has the status expected. */
    static <T> java.net.http.HttpResponse<T> expect(java.net.http.HttpResponse<T> response, int status) {
        if (response.statusCode() != status) {
            throw new IllegalStateException(response.request().method() + " " + response.uri().getPath() + " answered "
                    + response.statusCode() + ": " + response.body());
        }
        return response;
    }

    /**
     * The Prometheus endpoints of the named services on this host ({@code /actuator/prometheus} on their management
     * ports, as {@code ./dev up} runs them), each replaced by {@code --<gateway|worker|metadata>-metrics URL}.
     */
    static Map<String, String> metrics(Map<String, String> options, String... services) {
        Map<String, String> urls = new LinkedHashMap<>();
        for (String service : services) {
            String[] optionAndPort = switch (service) {
                case "api-gateway" -> new String[] {"gateway-metrics", "9796"};
                case "upload-worker" -> new String[] {"worker-metrics", "9799"};
                case "metadata-service" -> new String[] {"metadata-metrics", "9798"};
                default -> throw new IllegalArgumentException("no metrics known for " + service);
            };
            urls.put(service, options.getOrDefault(optionAndPort[0],
                    "http://127.0.0.1:" + optionAndPort[1] + "/actuator/prometheus"));
        }
        return urls;
    }

    /** The text of a Prometheus endpoint. */
    static String scrape(java.net.http.HttpClient http, String url) {
        try {
            return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A benchmark's run. */
    @FunctionalInterface
    interface Benchmark {
        void run() throws Exception;
    }

    /**
     * Runs a benchmark and ends the JVM with its status, whatever threads its HTTP clients left behind: 0 when it
     * ran through, else 1 after printing why.
     */
    static void runAndExit(Benchmark benchmark) {
        int status = 1;
        try {
            benchmark.run();
            status = 0;
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage()); // a usage error: its message says it all
        } catch (Exception | Error e) {
            e.printStackTrace();
        } finally {
            System.exit(status);
        }
    }

    /** What a poll looks for: empty until it is there. */
    @FunctionalInterface
    interface Probe<T> {
        Optional<T> look() throws Exception;
    }

    /**
     * Asks {@code probe} every {@code every}, on a scheduler thread, until it answers, and returns the answer. An
     * exception of the probe ends the wait with it; {@code atMost} ends it with a {@link TimeoutException}.
     */
    static <T> T poll(Duration every, Duration atMost, Probe<T> probe) throws Exception {
        CompletableFuture<T> found = new CompletableFuture<>();
        ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor();
        poller.scheduleWithFixedDelay(() -> {
            try {
                probe.look().ifPresent(found::complete);
            } catch (Exception e) {
                found.completeExceptionally(e);
            }
        }, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        try {
            return found.get(atMost.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } finally {
            poller.shutdownNow();
        }
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

    /** A report's head: which benchmark, when, on what machine; the caller adds its results. */
    static Map<String, Object> report(String benchmark) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("benchmark", benchmark);
        report.put("at", Instant.now().toString());
        report.put("machine", Machine.facts());
        return report;
    }

    static void write(Path out, Map<String, Object> report) throws IOException {
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        Files.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
        System.out.println("written to " + out.toAbsolutePath());
    }
}
