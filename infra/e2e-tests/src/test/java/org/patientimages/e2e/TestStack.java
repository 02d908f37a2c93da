package org.patientimages.e2e;

import org.patientimages.localstack.LocalPostgres;
import org.patientimages.localstack.LocalS3;
import org.patientimages.localstack.Tokens;
import org.patientimages.localstack.testing.TestHttp;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.awaitility.Awaitility.await;

/**
 * The whole system for one test class: real PostgreSQL and S3 API server in the test JVM, a real Kafka
 * broker, the metadata-service and the gateway as processes, workers as processes started by the test.
 */
final class TestStack implements AutoCloseable {

    static final String BUCKET = "patient-images";
    static final String DATABASE = "patients_db";

    final LocalPostgres postgres;
    /** Apache Kafka's own broker (KRaft) as a process, so that it can be killed and restarted. */
    final ServiceProcess kafka;
    final String bootstrapServers;
    final Path staging;
    final int s3Port;
    final Path s3Data;
    private LocalS3 s3;
    /** The OpenID Connect issuer (the dev stack's own), as a process. */
    final ServiceProcess identity;
    final ServiceProcess metadata;
    final ServiceProcess gateway;
    final List<ServiceProcess> workers = new ArrayList<>();
    /** The gateway as an admin calls it. */
    final TestHttp api;
    final String adminToken;

    private TestStack(long maxFileBytes) throws IOException {
        postgres = LocalPostgres.startTransient().createDatabase(DATABASE);
        int kafkaPort = ServiceProcess.freePort();
        kafka = ServiceProcess.startMain("kafka", kafkaPort, "org.patientimages.localstack.Main", "kafka",
                "--port", Integer.toString(kafkaPort), "--controller-port", Integer.toString(ServiceProcess.freePort()),
                "--data", Files.createTempDirectory("kafka").toString());
        bootstrapServers = "127.0.0.1:" + kafkaPort;
        awaitPort(kafka);
        staging = Files.createTempDirectory("staging");
        s3Data = Files.createTempDirectory("s3");
        s3Port = ServiceProcess.freePort();
        startS3();
        int identityPort = ServiceProcess.freePort();
        identity = ServiceProcess.start("infra/identity", identityPort,
                "--spring.security.oauth2.authorizationserver.issuer=http://127.0.0.1:" + identityPort,
                "--spring.security.oauth2.authorizationserver.client.cli.token.access-token-time-to-live=2h",
                // a machine whose tokens live 2 s, and one whose tokens are for another service
                "--spring.security.oauth2.authorizationserver.client.brief.registration.client-id=brief",
                "--spring.security.oauth2.authorizationserver.client.brief.registration.client-secret={noop}brief-secret",
                "--spring.security.oauth2.authorizationserver.client.brief.registration.client-authentication-methods=client_secret_basic",
                "--spring.security.oauth2.authorizationserver.client.brief.registration.authorization-grant-types=client_credentials",
                "--spring.security.oauth2.authorizationserver.client.brief.token.access-token-time-to-live=2s",
                "--patient-images.identity.client-roles.brief=admin",
                "--spring.security.oauth2.authorizationserver.client.elsewhere.registration.client-id=elsewhere",
                "--spring.security.oauth2.authorizationserver.client.elsewhere.registration.client-secret={noop}elsewhere-secret",
                "--spring.security.oauth2.authorizationserver.client.elsewhere.registration.client-authentication-methods=client_secret_basic",
                "--spring.security.oauth2.authorizationserver.client.elsewhere.registration.authorization-grant-types=client_credentials",
                "--patient-images.identity.client-roles.elsewhere=admin",
                "--patient-images.identity.client-audiences.elsewhere=another-service");
        metadata = ServiceProcess.start("metadata-service",
                "--spring.datasource.url=" + postgres.jdbcUrl(DATABASE),
                "--spring.kafka.bootstrap-servers=" + bootstrapServers,
                // due integrity checks are asked for at once (an image is due 30 days after its last check)
                "--patient-images.integrity.interval=1s",
                // the tests' webhook receivers listen on this machine
                "--patient-images.webhooks.allow-loopback=true",
                // webhook secrets sealed in the database, as in production
                "--patient-images.webhooks.secret-key=" + java.util.Base64.getEncoder().encodeToString(
                        java.security.SecureRandom.getSeed(32)));
        awaitHealthy(metadata);
        awaitPort(identity);
        gateway = startGateway(staging,
                "--patient-images.upload.max-file-size=" + maxFileBytes + "B",
                "--server.tomcat.connection-timeout=3s", // the slow-drip test's read timeout
                // idle connections kept longer than the tests' pauses: a connection the gateway closes just as the
                // client reuses it fails the request ("header parser received no bytes")
                "--server.tomcat.keep-alive-timeout=10m",
                "--patient-images.staging.cleanup-interval=1s",
                "--patient-images.staging.cleanup-grace=5s",
                "--patient-images.resumable.accept-after=2s",
                "--patient-images.security.allowed-origins=" + BROWSER_ORIGIN);
        awaitHealthy(gateway);
        adminToken = token("admin");
        api = new TestHttp(gateway.url()).withToken(adminToken);
    }

    static TestStack start(long maxFileBytes) {
        try {
            return new TestStack(maxFileBytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A gateway process on this stack, staging into the given directory; extra arguments override its defaults. */
    ServiceProcess startGateway(Path stagingDirectory, String... extra) {
        List<String> args = new ArrayList<>(List.of(
                "--patient-images.metadata.url=" + metadata.url(),
                "--patient-images.security.issuer-uri=" + identity.url(),
                "--patient-images.security.clock-skew=0s",
                "--patient-images.staging.directory=" + stagingDirectory,
                "--patient-images.resumable.directory=" + resumableDirectory(stagingDirectory),
                "--patient-images.audit.journal=" + stagingDirectory.resolveSibling(stagingDirectory.getFileName()
                        + "-audit"),
                "--patient-images.storage.endpoint=" + s3Endpoint()));
        args.addAll(List.of(extra));
        return ServiceProcess.start("api-gateway", ServiceProcess.freePort(), ServiceProcess.freePort(),
                args.toArray(String[]::new));
    }

    /** The one web origin whose pages may call the stack's gateway from a browser. */
    static final String BROWSER_ORIGIN = "https://viewer.hospital.example";

    /** Where a gateway staging into {@code stagingDirectory} keeps its resumable uploads in progress. */
    static Path resumableDirectory(Path stagingDirectory) {
        return stagingDirectory.resolveSibling(stagingDirectory.getFileName() + "-resumable");
    }

    /** Starts one more worker process; extra arguments override its defaults. */
    ServiceProcess startWorker(String... extra) {
        List<String> args = new ArrayList<>(List.of(
                "--spring.kafka.bootstrap-servers=" + bootstrapServers,
                "--patient-images.staging.directory=" + staging,
                "--patient-images.storage.endpoint=" + s3Endpoint()));
        args.addAll(List.of(extra));
        ServiceProcess worker = ServiceProcess.start("upload-worker", args.toArray(String[]::new));
        workers.add(worker);
        awaitHealthy(worker);
        return worker;
    }

    /** A demo user's access token from the issuer, got through its login form. */
    String token(String user) {
        return Tokens.forUser(URI.create(identity.url()), user, Tokens.devPassword(user));
    }

    /** A machine's access token (client credentials). */
    String clientToken(String clientId, String secret) {
        return Tokens.forClient(URI.create(identity.url()), clientId, secret);
    }

    String s3Endpoint() {
        return "http://127.0.0.1:" + s3Port;
    }

    /** The object store, its objects kept on disk so that it can go away and come back. */
    void startS3() {
        s3 = LocalS3.start(s3Port, s3Data, LocalS3.DEV_ACCESS_KEY, LocalS3.DEV_SECRET_KEY).createBucket(BUCKET);
    }

    void stopS3() {
        s3.close();
    }

    S3Client s3Client() {
        return S3Client.builder().endpointOverride(java.net.URI.create(s3Endpoint())).region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(LocalS3.DEV_ACCESS_KEY, LocalS3.DEV_SECRET_KEY)))
                .build();
    }

    /** Waits until a server without an HTTP health check accepts connections. */
    static void awaitPort(ServiceProcess server) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            if (!server.isAlive()) {
                throw new AssertionError(server.name + " exited; see " + server.log.toAbsolutePath());
            }
            try (java.net.Socket ignored = new java.net.Socket("127.0.0.1", server.port)) {
                return true;
            } catch (IOException e) {
                return false;
            }
        });
    }

    static void awaitHealthy(ServiceProcess service) {
        TestHttp http = new TestHttp(service.managementUrl());
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).ignoreExceptions().until(() -> {
            if (!service.isAlive()) {
                throw new AssertionError(service.name + " exited; see " + service.log.toAbsolutePath());
            }
            return http.get("/actuator/health").json().path("status").asString().equals("UP");
        });
    }

    @Override
    public void close() {
        List<ServiceProcess> services = new ArrayList<>(workers);
        services.add(gateway);
        services.add(metadata);
        services.add(identity);
        for (ServiceProcess service : services) {
            if (service != null) {
                service.close();
            }
        }
        kafka.close();
        s3.close();
        postgres.close();
    }
}
