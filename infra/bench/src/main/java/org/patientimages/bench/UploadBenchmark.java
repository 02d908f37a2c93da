package org.patientimages.bench;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Upload throughput and latency through the whole pipeline of the running stack ({@code ./dev up}), against
 * the baseline a user would otherwise pick: the same files PUT directly into the same object store with the
 * AWS SDK, at the same concurrency, in the same run.
 * <p>
 * Pipeline: {@code --files} uploads of {@code --size} random bytes (each file distinct) are POSTed to
 * {@code /v1/patients/{id}/images} by {@code --concurrency} clients. Accept latency is the time to the
 * {@code 202}; time to SUCCEEDED runs from the request's start to the moment the job is seen SUCCEEDED in
 * the metadata-service's database (the pending jobs, by primary key, every 20 ms); throughput runs from the first request to the last
 * SUCCEEDED. Direct: the same files, {@code PutObject} by the same number of threads, from first request to
 * last answer. Afterwards the benchmark's patient is deleted with its images, and the direct objects too; the
 * benchmark ends once the workers have deleted the images' objects, so that the next run starts on a quiet stack.
 * <p>
 * By default each client sends its next upload as soon as the last was accepted (a closed loop), so the accept
 * latency is the queue in front of a saturated pipeline: by Little's law, clients ÷ accepted per second. With
 * {@code --rate R} uploads start at R per second whatever the answers (an open loop), at most
 * {@code --concurrency} at a time; their latencies count from the moment each was due.
 * <p>
 * While the pipeline is measured, the CPU the gateway, the worker and the metadata-service use (per upload) and the
 * time their JIT compilers spend are read from their Prometheus endpoints: compilers still at work mean the stack
 * is still warming up.
 */
public final class UploadBenchmark {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int PREFIX = 16;
    /**
     * A poll for ended jobs (every 20 ms) asks for the {@code POLL_WINDOW} earliest started of the pending ones, and
     * every {@code POLLS_PER_LOOK_AT_ALL}-th poll (about every 250 ms) for all of them: jobs end about in the order they
     * were started, and one that ends out of that order while more than 64 are pending is seen at most 250 ms late.
     */
    private static final int POLL_WINDOW = 64;
    private static final int POLLS_PER_LOOK_AT_ALL = 12;
    /** This benchmark's own process among {@link #processes}: its clients share the machine with the stack. */
    private static final String SELF = "benchmark (clients)";
    /** At most this much CPU in a second, in clock ticks (15% of a core), and the stack counts as quiet. */
    private static final long QUIET_TICKS_PER_SECOND = 15;
    private static final Pattern CPU_NANOS = Pattern.compile("^process_cpu_time_ns_total ([0-9.eE+-]+)$", Pattern.MULTILINE);
    private static final Pattern JIT_MILLIS = Pattern.compile(
            "^jvm_compilation_time_ms_total\\{[^}]*} ([0-9.eE+-]+)$", Pattern.MULTILINE);
    /** The jobs a worker has stored: with more than one worker, each has done only its share of the uploads. */
    private static final Pattern JOBS_DONE = Pattern.compile(
            "^upload_jobs_total\\{[^}]*outcome=\"succeeded\"[^}]*} ([0-9.eE+-]+)$", Pattern.MULTILINE);

    private final Map<String, String> options;
    private final int files;
    private final long size;
    private final int concurrency;
    private final double rate;
    private final String api;
    private final String token;
    private final byte[] block;
    private final HttpClient http;
    private final Map<String, String> metrics;
    /** With {@code --tus-chunk}: files are sent as resumable uploads (tus) in pieces of this many bytes. */
    private final int tusChunk;
    /** With {@code --archive N}: files are sent N at a time, as the files of one ZIP archive. */
    private final int archive;
    /** The processes of this machine whose CPU is measured in both runs, this benchmark's own ({@link #SELF}) first. */
    private final Map<String, String> processes = new LinkedHashMap<>();

    private UploadBenchmark(Map<String, String> options) {
        this.options = options;
        this.files = Integer.parseInt(options.getOrDefault("files", "64"));
        this.size = parseSize(options.getOrDefault("size", "1MiB"));
        this.concurrency = Integer.parseInt(options.getOrDefault("concurrency", "16"));
        this.rate = Double.parseDouble(options.getOrDefault("rate", "0"));
        this.tusChunk = options.containsKey("tus-chunk") ? (int) Math.min(Integer.MAX_VALUE,
                parseSize(options.get("tus-chunk"))) : 0;
        this.archive = Integer.parseInt(options.getOrDefault("archive", "0"));
        if (archive > 0 && tusChunk > 0) {
            throw new IllegalArgumentException("--archive and --tus-chunk are two ways of sending: choose one");
        }
        this.api = options.getOrDefault("api", "http://127.0.0.1:9797");
        this.token = options.get("token");
        this.metrics = Bench.metrics(options, "api-gateway", "upload-worker", "metadata-service");
        Map<String, String> pids = ProcessCpu.pids(options.get("pids"));
        if (!pids.isEmpty()) {
            processes.put(SELF, String.valueOf(ProcessHandle.current().pid()));
            processes.putAll(pids);
        }
        checkSize(size);
        // one random block; each file differs in its first bytes, so every file has its own SHA-256
        this.block = new byte[(int) size];
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < block.length; i += 8) {
            long v = random.nextLong();
            for (int k = 0; k < 8 && i + k < block.length; k++) {
                block[i + k] = (byte) (v >>> (8 * k));
            }
        }
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .executor(Executors.newFixedThreadPool(concurrency)).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** The largest file this benchmark sends: it holds one file's bytes, and sends it, within a 2 GiB heap. */
    static final long MAX_SIZE = 512L << 20;

    /** Refuses a size the benchmark cannot send (a 1 GiB file ran it out of memory); larger files have their own. */
    static void checkSize(long size) {
        if (size < 1 || size > MAX_SIZE) {
            throw new IllegalArgumentException("--size from 1 byte to " + (MAX_SIZE >> 20)
                    + " MiB; for larger files, ./dev bench-memory");
        }
    }

    public static void main(String[] args) throws Exception {
        Bench.runAndExit(() -> new UploadBenchmark(Bench.options(args, "--files N --size 1MiB --concurrency N"
                + " [--rate FILES_PER_S] [--tus-chunk SIZE] [--archive N] [--warmup N] [--skip-direct true] [--keep true] [--verify true] [--await-workers N]"
                + " [--kafka HOST:PORT] [--gateway-metrics URL --worker-metrics URL --metadata-metrics URL]"
                + " [--pids name=pid,...]"
                + " --api URL --token T --jdbc URL --s3 URL --access-key K --secret-key K --bucket B --out FILE")).run());
    }

    private void run() throws Exception {
        System.out.printf("Upload benchmark: %d files of %s at concurrency %d%s%s%n%s%n", files, human(size), concurrency,
                rate > 0 ? String.format(", uploads started at %.1f/s (open loop)", rate) : "",
                tusChunk > 0 ? ", as resumable uploads (tus) in pieces of " + human(tusChunk)
                        : archive > 0 ? ", " + archive + " to a ZIP archive" : "", Machine.describe());
        if (options.containsKey("await-workers")) {
            awaitWorkers(Integer.parseInt(options.get("await-workers")));
        }
        String patient = post("/v1/patients", "{\"name\":\"Upload benchmark\",\"username\":\"upload-bench-"
                + UUID.randomUUID().toString().substring(0, 8) + "\"}").path("patientId").asString();
        // by default 256 MiB of uploads, at least 16 and at most 200 files
        long defaultWarmup = Math.max(16, Math.min(200, (256L << 20) / size));
        int warmup = Integer.parseInt(options.getOrDefault("warmup", String.valueOf(defaultWarmup)));
        if (warmup > 0) {
            // the services' JIT compilers warm up on the same path first, on files of their own
            pipeline(patient, warmup, files, "warm-up", 0);
        }
        awaitQuietStack("the pipeline");
        Map<String, Usage> before = usage();
        MachineUse pipelineCpu = new MachineUse();
        Run pipeline = pipeline(patient, files, 0, "pipeline", rate);
        pipelineCpu.end();
        Map<String, Map<String, Object>> services = usedSince(before, files);
        Map<String, Object> once = Boolean.parseBoolean(options.getOrDefault("verify", "false"))
                ? exactlyOnce(pipeline.jobIds()) : null;
        Run direct = null;
        MachineUse directCpu = null;
        if (!Boolean.parseBoolean(options.getOrDefault("skip-direct", "false"))) {
            if (warmup > 0) {
                direct(warmup, "warm-up"); // the client's SDK warms up as much as its pipeline side did
            }
            awaitQuietStack("the direct PUTs");
            directCpu = new MachineUse();
            direct = direct(files, "direct PUT");
            directCpu.end();
        }
        if (!Boolean.parseBoolean(options.getOrDefault("keep", "false"))) {
            // after both runs: the workers deleting the objects would slow the direct run down
            deleteAndAwaitObjectsGone(patient, warmup + files);
        }

        System.out.printf("%n%-22s %10s %10s %10s %10s %10s%n", "", "files/s", "MiB/s", "p50 ms", "p95 ms", "p99 ms");
        System.out.printf("%-22s %10s %10s %10.1f %10.1f %10.1f%n", "pipeline: accepted", "-", "-",
                p(pipeline.accept, 50), p(pipeline.accept, 95), p(pipeline.accept, 99));
        System.out.printf("%-22s %10.2f %10.1f %10.1f %10.1f %10.1f%n", "pipeline: SUCCEEDED", pipeline.filesPerSecond(),
                pipeline.mibPerSecond(size), p(pipeline.done, 50), p(pipeline.done, 95), p(pipeline.done, 99));
        if (direct != null) {
            System.out.printf("%-22s %10.2f %10.1f %10.1f %10.1f %10.1f%n", "direct PUT", direct.filesPerSecond(),
                    direct.mibPerSecond(size), p(direct.done, 50), p(direct.done, 95), p(direct.done, 99));
            System.out.printf("%nthroughput pipeline ÷ direct: %.2f%n", pipeline.filesPerSecond() / direct.filesPerSecond());
        }
        if (pipeline.failed > 0) {
            System.out.printf("%d jobs FAILED%n", pipeline.failed);
        }
        if (!services.isEmpty()) {
            System.out.printf("%nwhile the pipeline was measured %18s %16s%n", "CPU ms per upload", "JIT compiling s");
            services.forEach((service, used) -> System.out.printf("%-32s %18.1f %16.1f%n", service,
                    used.get("cpuMsPerUpload"), used.get("jitCompilingSeconds")));
            System.out.println("(a worker's CPU is per job it stored; JIT compiling is the time HotSpot's compiler threads"
                    + " spent compiling, wall time: seconds of it mean a stack still warming up)");
        }
        Map<String, Object> cpu = printMachineUse(pipelineCpu, directCpu);

        Map<String, Object> report = Bench.report("upload");
        report.put("files", files);
        report.put("sizeBytes", size);
        report.put("concurrency", concurrency);
        if (rate > 0) {
            report.put("rate", rate);
        }
        if (tusChunk > 0) {
            report.put("tusChunkBytes", tusChunk);
        }
        if (archive > 0) {
            report.put("filesPerArchive", archive);
        }
        report.put("pipeline", pipeline.toMap(size));
        if (direct != null) {
            report.put("direct", direct.toMap(size));
            report.put("ratio", Math.round(pipeline.filesPerSecond() / direct.filesPerSecond() * 1000) / 1000.0);
        }
        if (once != null) {
            report.put("exactlyOnce", once);
        }
        report.put("services", services);
        if (!cpu.isEmpty()) {
            report.put("cpuMsPerUpload", cpu);
        }
        Path out = Path.of(options.getOrDefault("out", "upload-benchmark.json"));
        Bench.write(out, report);
    }

    /** The CPU the processes of {@link #processes}, and the machine as a whole, used over one run. */
    private final class MachineUse {
        private final Map<String, ProcessCpu.Used> start = cpuOfProcesses();
        private final Optional<ProcessCpu.Machine> machineStart = ProcessCpu.machine();
        private final Map<String, ProcessCpu.Used> used = new LinkedHashMap<>();
        private Optional<ProcessCpu.Machine> machine = Optional.empty();

        void end() {
            cpuOfProcesses().forEach((name, now) -> used.put(name, now.minus(start.get(name))));
            machine = ProcessCpu.machine().flatMap(now -> machineStart.map(now::minus));
        }

        /** What each process used, then all of them together. */
        Map<String, ProcessCpu.Used> withTotal() {
            Map<String, ProcessCpu.Used> rows = new LinkedHashMap<>(used);
            rows.put("all of these", used.values().stream().reduce(ProcessCpu.Used.NONE, ProcessCpu.Used::plus));
            return rows;
        }
    }

    /** What each process of {@link #processes} has used so far. */
    private Map<String, ProcessCpu.Used> cpuOfProcesses() {
        Map<String, ProcessCpu.Used> cpu = new LinkedHashMap<>();
        processes.forEach((name, pid) -> cpu.put(name, ProcessCpu.of(pid)));
        return cpu;
    }

    /**
     * Prints, and returns for the report, the CPU per upload that each process of {@link #processes} and the machine
     * as a whole used in the pipeline's run and in the direct PUTs' (null if none): on a machine the runs keep busy,
     * the ratio of the two totals is about the inverse of the throughput ratio, so the table shows where it comes from.
     */
    private Map<String, Object> printMachineUse(MachineUse pipeline, MachineUse direct) {
        Map<String, Object> table = new LinkedHashMap<>();
        if (processes.isEmpty()) {
            return table;
        }
        System.out.printf("%n%-32s %10s %10s%s%n", "CPU ms per upload, this machine", "pipeline", "of it JIT",
                direct == null ? "" : String.format(" %12s %10s", "direct PUT", "of it JIT"));
        List<MachineUse> runs = direct == null ? List.of(pipeline) : List.of(pipeline, direct);
        List<Map<String, Object>> rows = new ArrayList<>();
        runs.forEach(run -> rows.add(new LinkedHashMap<>()));
        List<Map<String, ProcessCpu.Used>> used = runs.stream().map(MachineUse::withTotal).toList();
        for (String name : used.get(0).keySet()) {
            StringBuilder line = new StringBuilder(String.format("%-32s", name));
            for (int r = 0; r < runs.size(); r++) {
                ProcessCpu.Used cpu = used.get(r).get(name);
                line.append(String.format(r == 0 ? " %10.1f %10.1f" : " %12.1f %10.1f", perUpload(cpu.ticks()),
                        perUpload(cpu.jitTicks())));
                rows.get(r).put(name, Map.of("cpuMs", round(perUpload(cpu.ticks())),
                        "jitMs", round(perUpload(cpu.jitTicks()))));
            }
            System.out.println(line);
        }
        StringBuilder machine = new StringBuilder(String.format("%-32s", "the whole machine (busy)"));
        for (int r = 0; r < runs.size() && runs.get(r).machine.isPresent(); r++) {
            ProcessCpu.Machine whole = runs.get(r).machine.get();
            machine.append(String.format(r == 0 ? " %10.1f %9.0f%%" : " %12.1f %9.0f%%", perUpload(whole.busyTicks()),
                    whole.busyShare() * 100));
            rows.get(r).put("whole machine", Map.of("cpuMs", round(perUpload(whole.busyTicks())), "busy",
                    round(whole.busyShare())));
        }
        System.out.println(machine);
        table.put("pipeline", rows.get(0));
        if (direct != null) {
            table.put("direct", rows.get(1));
        }
        return table;
    }

    /**
     * Waits until the stack's processes (all of {@link #processes} but this one) are quiet: what the last run left
     * them to do (JIT compiling, above all, which can go on for seconds after a run) would otherwise be measured as
     * part of the next. Quiet is at most {@link #QUIET_TICKS_PER_SECOND} in a second, all of them together; an idle
     * stack uses about 5. After two minutes the run goes on anyway, and says so.
     */
    private void awaitQuietStack(String before) throws Exception {
        if (processes.isEmpty()) {
            return;
        }
        long start = System.nanoTime();
        long[] last = {-1};
        try {
            Bench.poll(Duration.ofSeconds(1), Duration.ofMinutes(2), () -> {
                Map<String, ProcessCpu.Used> stack = cpuOfProcesses();
                stack.remove(SELF);
                long now = stack.values().stream().mapToLong(ProcessCpu.Used::ticks).sum();
                boolean quiet = last[0] >= 0 && now - last[0] <= QUIET_TICKS_PER_SECOND;
                last[0] = now;
                return quiet ? Optional.of(true) : Optional.empty();
            });
        } catch (java.util.concurrent.TimeoutException e) {
            System.out.println("(the stack was still busy two minutes after the last run; measuring " + before + " anyway)");
            return;
        }
        long waited = Duration.ofNanos(System.nanoTime() - start).toSeconds();
        if (waited > 2) {
            System.out.printf("(waited %d s for the stack to settle before %s)%n", waited, before);
        }
    }

    /** The ids of at most {@code limit} jobs started and not yet seen ended, the earliest started first. */
    static List<String> pending(Map<String, Long> started, Map<String, ?> ended, int limit) {
        return started.entrySet().stream().filter(job -> !ended.containsKey(job.getKey()))
                .sorted(Map.Entry.comparingByValue()).limit(limit).map(Map.Entry::getKey).toList();
    }

    /** Clock ticks of a run as milliseconds per file of it. */
    private double perUpload(long ticks) {
        return ticks * 1000 / ProcessCpu.TICKS_PER_SECOND / files;
    }

    /** What a service has used since it started, and what it has done: all uploads, or a worker's stored jobs. */
    private record Usage(double cpuSeconds, double jitSeconds, OptionalDouble jobsDone) {
    }

    /** Each service's {@link Usage}, from its Prometheus endpoint; a service that does not answer is left out. */
    private Map<String, Usage> usage() {
        Map<String, Usage> usage = new LinkedHashMap<>();
        metrics.forEach((service, url) -> {
            String text;
            try {
                text = Bench.scrape(http, url);
            } catch (RuntimeException e) {
                return;
            }
            // a worker's counter of stored jobs appears with its first one
            usage.put(service, new Usage(value(CPU_NANOS, text) / 1e9, value(JIT_MILLIS, text) / 1e3,
                    service.equals("upload-worker") ? OptionalDouble.of(find(JOBS_DONE, text).orElse(0))
                            : OptionalDouble.empty()));
        });
        return usage;
    }

    /** Per service: CPU per upload it handled (a worker: per job it stored) and JIT compiling, since {@code before}. */
    private Map<String, Map<String, Object>> usedSince(Map<String, Usage> before, int uploads) {
        Map<String, Map<String, Object>> used = new LinkedHashMap<>();
        usage().forEach((service, now) -> {
            Usage then = before.get(service);
            if (then != null) {
                double handled = now.jobsDone().isPresent()
                        ? Math.max(1, now.jobsDone().getAsDouble() - then.jobsDone().orElse(0)) : uploads;
                used.put(service, Map.of("cpuMsPerUpload", round((now.cpuSeconds() - then.cpuSeconds()) * 1000 / handled),
                        "jitCompilingSeconds", round(now.jitSeconds() - then.jitSeconds())));
            }
        });
        return used;
    }

    private static double value(Pattern metric, String text) {
        return find(metric, text).orElseThrow(() -> new IllegalStateException("no " + metric.pattern() + " in the metrics"));
    }

    private static OptionalDouble find(Pattern metric, String text) {
        Matcher m = metric.matcher(text);
        return m.find() ? OptionalDouble.of(Double.parseDouble(m.group(1))) : OptionalDouble.empty();
    }

    /** The measurements of one way of storing the files. */
    private record Run(long startNanos, long endNanos, List<Double> accept, List<Double> done, int files, int failed,
                       List<String> jobIds) {

        double seconds() {
            return (endNanos - startNanos) / 1e9;
        }

        double filesPerSecond() {
            return (files - failed) / seconds();
        }

        double mibPerSecond(long size) {
            return filesPerSecond() * size / (1024.0 * 1024);
        }

        Map<String, Object> toMap(long size) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("seconds", round(seconds()));
            m.put("filesPerSecond", round(filesPerSecond()));
            m.put("mibPerSecond", round(mibPerSecond(size)));
            m.put("failed", failed);
            if (!accept.isEmpty()) {
                m.put("acceptMs", Map.of("p50", round(p(accept, 50)), "p95", round(p(accept, 95)), "p99", round(p(accept, 99))));
            }
            m.put("doneMs", Map.of("p50", round(p(done, 50)), "p95", round(p(done, 95)), "p99", round(p(done, 99))));
            return m;
        }
    }

    /**
     * {@code count} uploads, files {@code first}, {@code first + 1}, …, measured; as fast as the clients go, or
     * started at {@code rate} per second (an open loop).
     */
    private Run pipeline(String patient, int count, int first, String label, double rate) throws Exception {
        Map<String, Long> started = new ConcurrentHashMap<>();
        List<Double> accept = java.util.Collections.synchronizedList(new ArrayList<>());
        Map<String, Double> done = new ConcurrentHashMap<>();
        AtomicInteger failed = new AtomicInteger();
        Progress progress = new Progress(label, count);
        ExecutorService clients = Executors.newFixedThreadPool(concurrency);
        // --rate: each upload has its moment, i / rate after the start, and its latencies count from that moment,
        // so time spent waiting for a free client (the pipeline falling behind) is measured, not hidden
        ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
        long start = System.nanoTime();
        List<Future<?>> sent = new ArrayList<>();
        int step = Math.max(archive, 1); // files per request
        for (int i = 0; i < count; i += step) {
            int index = first + i;
            int n = Math.min(step, count - i);
            long due = rate > 0 ? start + (long) (i * 1e9 / rate) : 0;
            Callable<Void> upload = () -> {
                long t0 = rate > 0 ? due : System.nanoTime();
                List<String> jobIds = archive > 0 ? uploadArchive(patient, index, n) : List.of(upload(patient, index));
                accept.add((System.nanoTime() - t0) / 1e6);
                jobIds.forEach(jobId -> started.put(jobId, t0));
                return null;
            };
            if (rate > 0) {
                CompletableFuture<Void> result = new CompletableFuture<>();
                pacer.schedule(() -> clients.submit(() -> {
                    try {
                        result.complete(upload.call());
                    } catch (Exception e) {
                        result.completeExceptionally(e);
                    }
                }), due - start, TimeUnit.NANOSECONDS);
                sent.add(result);
            } else {
                sent.add(clients.submit(upload));
            }
        }
        AtomicInteger polls = new AtomicInteger();
        try (Connection db = DriverManager.getConnection(options.getOrDefault("jdbc",
                "jdbc:postgresql://127.0.0.1:5432/patients_db"), "postgres", "");
             PreparedStatement ended = db.prepareStatement(
                     "select id::text, status from jobs where id = any(?::uuid[]) and status in ('SUCCEEDED', 'FAILED')")) {
            // every 20 ms on a scheduler thread; this thread waits for the last job to end
            Bench.poll(Duration.ofMillis(20), Duration.ofHours(6), () -> {
                for (Future<?> f : sent) {
                    if (f.isDone()) {
                        f.get(); // an upload that was refused ends the benchmark here
                    }
                }
                // only jobs still pending, by primary key, and most of the time only the earliest started of them:
                // the benchmark's own load on the database stays small however far the pipeline falls behind
                boolean all = polls.getAndIncrement() % POLLS_PER_LOOK_AT_ALL == 0;
                ended.setArray(1, db.createArrayOf("text", pending(started, done, all ? Integer.MAX_VALUE : POLL_WINDOW)
                        .toArray()));
                try (ResultSet rs = ended.executeQuery()) {
                    long now = System.nanoTime();
                    while (rs.next()) {
                        String jobId = rs.getString(1);
                        Long t0 = started.get(jobId);
                        if (t0 != null && !done.containsKey(jobId)) {
                            done.put(jobId, (now - t0) / 1e6);
                            if (rs.getString(2).equals("FAILED")) {
                                failed.incrementAndGet();
                            }
                            progress.set(done.size());
                        }
                    }
                }
                return done.size() >= count ? Optional.of(done.size()) : Optional.empty();
            });
        }
        long end = System.nanoTime();
        clients.shutdown();
        pacer.shutdown();
        progress.finish();
        return new Run(start, end, accept, new ArrayList<>(done.values()), count, failed.get(),
                new ArrayList<>(started.keySet()));
    }

    /**
     * {@code --verify true}: every job of the run SUCCEEDED, with one SUCCEEDED and one STORED fact recorded,
     * and its object in the bucket once; jobs a second worker started again after a rebalance are counted
     * (their work is redone idempotently, not duplicated).
     */
    private Map<String, Object> exactlyOnce(List<String> jobIds) throws Exception {
        Map<String, Object> result = new LinkedHashMap<>();
        try (Connection db = DriverManager.getConnection(options.getOrDefault("jdbc",
                "jdbc:postgresql://127.0.0.1:5432/patients_db"), "postgres", "");
             PreparedStatement counts = db.prepareStatement("""
                     select count(*) filter (where j.status = 'SUCCEEDED'),
                            count(*) filter (where e.succeeded <> 1 or e.stored <> 1),
                            count(*) filter (where e.started > 1),
                            count(distinct i.object_key) filter (where i.object_key is not null)
                     from jobs j
                     join images i on i.id = j.image_id
                     join (select job_id, count(*) filter (where type = 'SUCCEEDED') as succeeded,
                                  count(*) filter (where type = 'STORED') as stored,
                                  count(*) filter (where type = 'STARTED') as started
                           from job_events where job_id = any(?::uuid[]) group by job_id) e on e.job_id = j.id
                     where j.id = any(?::uuid[])""")) {
            var ids = db.createArrayOf("text", jobIds.toArray());
            counts.setArray(1, ids);
            counts.setArray(2, ids);
            try (ResultSet rs = counts.executeQuery()) {
                rs.next();
                result.put("jobs", jobIds.size());
                result.put("succeeded", rs.getLong(1));
                result.put("notExactlyOnce", rs.getLong(2));
                result.put("startedAgain", rs.getLong(3));
                result.put("objects", rs.getLong(4));
            }
        }
        boolean ok = result.get("succeeded").equals((long) jobIds.size()) && result.get("notExactlyOnce").equals(0L)
                && result.get("objects").equals((long) jobIds.size());
        result.put("ok", ok);
        System.out.printf("%nexactly once: %s: %d of %d jobs SUCCEEDED, %d without exactly one SUCCEEDED and one STORED,"
                        + " %d objects; %d jobs started again by another worker after a rebalance%n",
                ok ? "yes" : "NO", result.get("succeeded"), jobIds.size(), result.get("notExactlyOnce"),
                result.get("objects"), result.get("startedAgain"));
        return result;
    }

    /**
     * Deletes the benchmark's patient with its images, purged (no recovery window), then waits until the workers have deleted the images'
     * objects too (the deletion events of at least {@code images} images published and consumed), so that a run
     * right after this one is not measured while they do. Gives up after five minutes, saying so.
     */
    private void deleteAndAwaitObjectsGone(String patient, int images) throws Exception {
        String topic = "patient-images.image-deletions";
        String group = "upload-workers-deletions";
        try (var admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of("bootstrap.servers", options.getOrDefault("kafka", "127.0.0.1:9092")))) {
            long before = published(admin, topic);
            http.send(Bench.request(api + "/v1/patients/" + patient + "?cascade=true&purge=true", token).DELETE().build(),
                    HttpResponse.BodyHandlers.discarding());
            Bench.poll(Duration.ofMillis(500), Duration.ofMinutes(5), () -> {
                long end = published(admin, topic);
                return end >= before + images && consumed(admin, group, topic) >= end ? Optional.of(end) : Optional.empty();
            });
        } catch (java.util.concurrent.TimeoutException e) {
            System.err.println("the workers had not deleted the benchmark's objects after 5 minutes; not waiting longer");
        }
    }

    /** Records ever written to the topic: the sum of its partitions' end offsets. */
    private static long published(org.apache.kafka.clients.admin.Admin admin, String topic) throws Exception {
        var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().stream()
                .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition()))
                .collect(java.util.stream.Collectors.toMap(tp -> tp,
                        tp -> org.apache.kafka.clients.admin.OffsetSpec.latest()));
        return admin.listOffsets(partitions).all().get().values().stream().mapToLong(o -> o.offset()).sum();
    }

    /** Records of the topic the group has committed: the sum of its committed offsets there. */
    private static long consumed(org.apache.kafka.clients.admin.Admin admin, String group, String topic) throws Exception {
        return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().entrySet().stream()
                .filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
                .mapToLong(e -> e.getValue().offset()).sum();
    }

    /**
     * {@code --await-workers N}: waits until the workers' consumer group is stable with N members, so that a
     * run with more workers does not include the rebalance that adding them caused.
     */
    private void awaitWorkers(int members) throws Exception {
        String bootstrap = options.getOrDefault("kafka", "127.0.0.1:9092");
        try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            Bench.poll(Duration.ofMillis(500), Duration.ofSeconds(120), () -> {
                var group = admin.describeConsumerGroups(List.of("upload-workers")).all().get().get("upload-workers");
                return group.groupState() == org.apache.kafka.common.GroupState.STABLE && group.members().size() == members
                        && group.members().stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty())
                        ? Optional.of(group) : Optional.empty();
            });
        }
        System.out.printf("consumer group upload-workers stable with %d members%n", members);
    }

    private Run direct(int count, String label) throws Exception {
        String prefix = "bench-direct/" + UUID.randomUUID() + "/";
        List<Double> done = java.util.Collections.synchronizedList(new ArrayList<>());
        Progress progress = new Progress(label, count);
        AtomicInteger finished = new AtomicInteger();
        try (S3Client s3 = S3Client.builder()
                .endpointOverride(URI.create(options.getOrDefault("s3", "http://127.0.0.1:9000")))
                .region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        options.getOrDefault("access-key", "minioadmin"), options.getOrDefault("secret-key", "minioadmin"))))
                .build()) {
            String bucket = options.getOrDefault("bucket", "patient-images");
            ExecutorService clients = Executors.newFixedThreadPool(concurrency);
            long start = System.nanoTime();
            List<Future<?>> sent = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int index = i;
                sent.add(clients.submit(() -> {
                    long t0 = System.nanoTime();
                    s3.putObject(b -> b.bucket(bucket).key(prefix + index).contentLength(size),
                            RequestBody.fromContentProvider(() -> content(index), size, "application/octet-stream"));
                    done.add((System.nanoTime() - t0) / 1e6);
                    progress.set(finished.incrementAndGet());
                    return null;
                }));
            }
            for (Future<?> f : sent) {
                f.get();
            }
            long end = System.nanoTime();
            clients.shutdown();
            progress.finish();
            for (int from = 0; from < count; from += 1000) {
                List<ObjectIdentifier> keys = new ArrayList<>();
                for (int i = from; i < Math.min(count, from + 1000); i++) {
                    keys.add(ObjectIdentifier.builder().key(prefix + i).build());
                }
                s3.deleteObjects(b -> b.bucket(bucket).delete(d -> d.objects(keys)));
            }
            return new Run(start, end, List.of(), done, count, 0, List.of());
        }
    }

    /**
     * The bytes of file {@code index}: a marker that no format detector takes for a known type (random bytes
     * may start like a PCX or a ZIP), its number, then the shared random block.
     */
    private InputStream content(int index) {
        byte[] head = marker(index);
        return new SequenceInputStream(new ByteArrayInputStream(head),
                new ByteArrayInputStream(block, head.length, block.length - head.length));
    }

    private byte[] marker(int index) {
        byte[] head = Arrays.copyOf("PISBENCH".getBytes(StandardCharsets.US_ASCII), Math.min(PREFIX, block.length));
        for (int k = 0; k < 8 && 8 + k < head.length; k++) {
            head[8 + k] = (byte) (index >>> (8 * k));
        }
        return head;
    }

    /** Sends file {@code index} and returns its job id, once the upload is accepted. */
    private String upload(String patient, int index) throws Exception {
        return tusChunk > 0 ? uploadResumable(patient, index) : uploadMultipart(patient, index);
    }

    private String uploadMultipart(String patient, int index) throws Exception {
        return postFile("/v1/patients/" + patient + "/images", "bench-" + index + ".bin", "application/octet-stream",
                bytes(index, 0, block.length)).path("jobId").asString();
    }

    /** A multipart form with one part, {@code file}, and the 202's JSON. */
    private JsonNode postFile(String path, String filename, String type, HttpRequest.BodyPublisher body)
            throws Exception {
        String boundary = "bench" + UUID.randomUUID().toString().replace("-", "");
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename
                + "\"\r\nContent-Type: " + type + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
        HttpRequest request = Bench.request(api + path, token)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.concat(HttpRequest.BodyPublishers.ofByteArray(head), body,
                        HttpRequest.BodyPublishers.ofByteArray(tail)))
                .build();
        return JSON.readTree(Bench.expect(http.send(request, HttpResponse.BodyHandlers.ofString()), 202).body());
    }

    /**
     * Files {@code first} to {@code first + n - 1} as the files of one ZIP archive, stored rather than deflated (their
     * bytes are random), and the job ids of the answer.
     */
    private List<String> uploadArchive(String patient, int first, int n) throws Exception {
        java.io.ByteArrayOutputStream zipped = new java.io.ByteArrayOutputStream(n * (block.length + 128));
        try (var zip = new java.util.zip.ZipOutputStream(zipped)) {
            for (int index = first; index < first + n; index++) {
                byte[] file = content(index).readAllBytes();
                var crc = new java.util.zip.CRC32();
                crc.update(file);
                var entry = new java.util.zip.ZipEntry("bench/bench-" + index + ".bin");
                entry.setMethod(java.util.zip.ZipEntry.STORED);
                entry.setSize(file.length);
                entry.setCompressedSize(file.length);
                entry.setCrc(crc.getValue());
                zip.putNextEntry(entry);
                zip.write(file);
                zip.closeEntry();
            }
        }
        List<String> jobIds = new ArrayList<>();
        postFile("/v1/patients/" + patient + "/images/archive", "bench-" + first + ".zip", "application/zip",
                HttpRequest.BodyPublishers.ofByteArray(zipped.toByteArray()))
                .path("items").forEach(item -> jobIds.add(item.path("jobId").asString()));
        return jobIds;
    }

    /** The same file as a resumable upload (tus), in {@code --tus-chunk} pieces. */
    private String uploadResumable(String patient, int index) throws Exception {
        return Bench.resumable(http, api, token, patient, block.length, tusChunk, "bench-" + index + ".bin",
                (from, to) -> bytes(index, (int) from, (int) to)).jobId();
    }

    /**
     * Bytes {@code from} to {@code to} of file {@code index}, straight from the shared block, as curl sends a file:
     * the client's own copying is not measured.
     */
    private HttpRequest.BodyPublisher bytes(int index, int from, int to) {
        byte[] marker = marker(index);
        if (from >= marker.length) {
            return HttpRequest.BodyPublishers.ofByteArray(block, from, to - from);
        }
        int end = Math.min(to, marker.length);
        return HttpRequest.BodyPublishers.concat(HttpRequest.BodyPublishers.ofByteArray(marker, from, end - from),
                HttpRequest.BodyPublishers.ofByteArray(block, end, to - end));
    }

    private JsonNode post(String path, String json) throws Exception {
        HttpResponse<byte[]> response = http.send(Bench.request(api + path, token)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 201) {
            throw new IllegalStateException(path + " answered " + response.statusCode() + ": " + new String(response.body()));
        }
        return JSON.readTree(response.body());
    }

    /** A progress bar on stderr. */
    private static final class Progress {
        private final String name;
        private final int total;
        private int shown = -1;

        Progress(String name, int total) {
            this.name = name;
            this.total = total;
        }

        synchronized void set(int done) {
            int width = 40;
            int filled = (int) ((long) done * width / Math.max(1, total));
            if (filled != shown || done == total) {
                shown = filled;
                System.err.printf("\r%-12s [%s%s] %d/%d", name, "#".repeat(filled), ".".repeat(width - filled), done, total);
            }
        }

        void finish() {
            System.err.println();
        }
    }

    private static double p(List<Double> values, int percentile) {
        return Bench.percentile(values, percentile);
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    static long parseSize(String s) {
        String v = s.strip().toUpperCase();
        long unit = v.endsWith("GIB") || v.endsWith("G") ? 1L << 30 : v.endsWith("MIB") || v.endsWith("M") ? 1L << 20
                : v.endsWith("KIB") || v.endsWith("K") ? 1L << 10 : 1;
        return Long.parseLong(v.replaceAll("[^0-9]", "")) * unit;
    }

    static String human(long bytes) {
        return bytes >= 1 << 20 ? bytes / (1 << 20) + " MiB" : bytes >= 1024 ? bytes / 1024 + " KiB" : bytes + " B";
    }
}
