package org.patientimages.localstack;

import org.patientimages.localstack.testing.WebhookReceiver;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Runs one third-party server of the local stack in the foreground until SIGTERM:
 * <pre>
 *   Main kafka    --port 9092 --controller-port 9093 --data DIR
 *   Main s3       --port 9000 --data DIR --access-key K --secret-key S --bucket B[,B2…]
 *   Main postgres --port 5432 --data DIR --database patients_db
 *   Main topics   --port 9092          (lists the broker's topics with their partition counts)
 *   Main token    --issuer URL --user NAME [--password P] | --client ID --secret S   (prints an access token)
 * </pre>
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            usage("name a component: kafka, s3 or postgres");
        }
        Map<String, String> opts = options(args);
        String component = args[0];
        if (component.equals("samples")) {
            writeSamples(Path.of(required(opts, "out")));
            return;
        }
        if (component.equals("token")) {
            java.net.URI issuer = java.net.URI.create(required(opts, "issuer"));
            System.out.println(opts.containsKey("client")
                    ? Tokens.forClient(issuer, opts.get("client"), required(opts, "secret"))
                    : Tokens.forUser(issuer, required(opts, "user"),
                            opts.getOrDefault("password", Tokens.devPassword(opts.get("user")))));
            return;
        }
        int port = Integer.parseInt(required(opts, "port"));
        if (component.equals("topics")) {
            listTopics(port);
            return;
        }
        if (component.equals("webhooks")) {
            String secret = opts.get("secret");
            WebhookReceiver receiver = new WebhookReceiver(port, request -> System.out.println(request.id()
                    + (secret == null ? "" : request.signedWith(secret) ? " signature OK " : " signature WRONG ")
                    + new String(request.body(), java.nio.charset.StandardCharsets.UTF_8)));
            System.out.println("receiving webhooks at " + receiver.url("/"));
            awaitShutdown(receiver);
            return;
        }
        Path data = Path.of(required(opts, "data"));
        requireFree(component, port);
        switch (component) {
            case "kafka" -> {
                int controllerPort = Integer.parseInt(required(opts, "controller-port"));
                requireFree(component + " controller", controllerPort);
                LocalKafka.run(port, controllerPort, data);
            }
            case "s3" -> {
                LocalS3 s3 = LocalS3.start(port, data, required(opts, "access-key"), required(opts, "secret-key"));
                for (String bucket : required(opts, "bucket").split(",")) {
                    s3.createBucket(bucket.trim());
                }
                System.out.println("s3 listening on " + s3.endpoint());
                awaitShutdown(s3);
            }
            case "postgres" -> {
                LocalPostgres pg = LocalPostgres.start(port, data).createDatabase(required(opts, "database"));
                System.out.println("postgres listening on 127.0.0.1:" + pg.port());
                awaitShutdown(pg);
            }
            default -> usage("unknown component " + component);
        }
    }

    /** Sample images to try the API with: a PNG, a JPEG and a CT slice in DICOM (the tests' own makers). */
    private static void writeSamples(Path dir) throws Exception {
        java.nio.file.Files.createDirectories(dir);
        java.nio.file.Files.write(dir.resolve("hand.png"), org.patientimages.localstack.testing.TestImages.aPngImage(640, 480));
        java.nio.file.Files.write(dir.resolve("knee.jpg"), org.patientimages.localstack.testing.TestImages.aJpegImage(300, 900));
        java.nio.file.Files.write(dir.resolve("chest-ct.dcm"), sampleSlice(1, null).toBytes());
        // the same slice as a scanner or PACS often stores it: compressed as lossless JPEG, another instance
        short[] pixels = org.patientimages.localstack.testing.TestDicom.ctPixels(512, 512);
        byte[] jpeg = org.patientimages.localstack.testing.TestJpegLossless.encode(pixels, 512, 512);
        java.nio.file.Files.write(dir.resolve("chest-ct-lossless.dcm"),
                sampleSlice(2, pixels)
                        .string(0x00080018, "UI", "1.2.826.0.1.3680043.2.1125.1.2")
                        .transferSyntax(org.patientimages.localstack.testing.TestDicom.JPEG_LOSSLESS)
                        .encapsulatedPixels(java.util.Arrays.copyOf(jpeg, jpeg.length + jpeg.length % 2)).toBytes());
        // and RLE Lossless, as ultrasound and some archives store it
        java.nio.file.Files.write(dir.resolve("chest-ct-rle.dcm"),
                sampleSlice(3, pixels)
                        .string(0x00080018, "UI", "1.2.826.0.1.3680043.2.1125.1.3")
                        .transferSyntax(org.patientimages.localstack.testing.TestRle.TRANSFER_SYNTAX)
                        .encapsulatedPixels(org.patientimages.localstack.testing.TestRle.encode(pixels)).toBytes());
        java.nio.file.Files.write(dir.resolve("discharge-report.pdf"),
                org.patientimages.localstack.testing.TestPdf.report().pages(2).toBytes());
        System.out.println("wrote hand.png, knee.jpg, chest-ct.dcm, chest-ct-lossless.dcm, chest-ct-rle.dcm and"
                + " discharge-report.pdf to "
                + dir.toAbsolutePath());
    }

    /**
     * The sample series' slice {@code n} (1, 2, 3): the tests' CT slice with what a scanner also writes and a viewer
     * shows (the study's description and accession number, the series' description, the patient's date of birth, the
     * slice's number and place), 5 mm apart.
     */
    private static org.patientimages.localstack.testing.TestDicom sampleSlice(int n, short[] pixels) {
        var slice = pixels == null ? org.patientimages.localstack.testing.TestDicom.ctSlice(512, 512)
                : org.patientimages.localstack.testing.TestDicom.ctSlice(512, 512, pixels);
        return slice.string(0x00080050, "SH", "ACC-2026-0042").string(0x00081030, "LO", "CT CHEST W/O CONTRAST")
                .string(0x0008103E, "LO", "AXIAL 5MM").string(0x00100030, "DA", "19700131")
                .string(0x00180050, "DS", "5").string(0x00200013, "IS", Integer.toString(n))
                .string(0x00200032, "DS", "-179.6\\-179.6\\" + (-5 * (n - 1)))
                .string(0x00200037, "DS", "1\\0\\0\\0\\1\\0").string(0x00280030, "DS", "0.7\\0.7");
    }

    private static void listTopics(int port) throws Exception {
        try (var admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of("bootstrap.servers", "127.0.0.1:" + port, "request.timeout.ms", 5000))) {
            var names = admin.listTopics().names().get();
            admin.describeTopics(names).allTopicNames().get().values().stream()
                    .sorted(java.util.Comparator.comparing(org.apache.kafka.clients.admin.TopicDescription::name))
                    .forEach(t -> System.out.println(t.name() + " partitions=" + t.partitions().size()));
        }
    }

    private static void awaitShutdown(AutoCloseable server) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }));
        stopped.await();
    }

    private static void requireFree(String component, int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
        } catch (IOException e) {
            System.err.println(component + ": port " + port + " is already in use; free it or choose another"
                    + " port with the environment variable named in the README");
            System.exit(2);
        }
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                usage("unexpected argument " + args[i]);
            }
            opts.put(args[i].substring(2), args[i + 1]);
        }
        return opts;
    }

    private static String required(Map<String, String> opts, String name) {
        String value = opts.get(name);
        if (value == null) {
            usage("missing --" + name);
        }
        return value;
    }

    private static void usage(String problem) {
        System.err.println(problem + "\nusage: Main kafka|s3|postgres --port N --data DIR [options] | topics --port N | samples --out DIR | webhooks --port N [--secret S]"
                + " | token --issuer URL --user NAME | token --issuer URL --client ID --secret S");
        System.exit(64);
    }
}
