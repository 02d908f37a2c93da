package org.patientimages.localstack;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * A single-node Kafka broker in KRaft mode (broker and controller in one process), Apache Kafka's own
 * server from Maven Central. Used by {@code ./dev up}; the tests use spring-kafka-test's embedded KRaft
 * broker instead.
 */
public final class LocalKafka {

    private LocalKafka() {
    }

    /** Formats the log directory on first use, then runs the broker until the JVM is told to stop. */
    public static void run(int port, int controllerPort, Path dataDir) throws IOException {
        Path logDir = dataDir.resolve("logs");
        Files.createDirectories(dataDir);
        Path config = dataDir.resolve("server.properties");
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", "1");
        p.setProperty("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("log.dirs", logDir.toAbsolutePath().toString());
        p.setProperty("num.partitions", "12");
        p.setProperty("offsets.topic.replication.factor", "1");
        p.setProperty("offsets.topic.num.partitions", "12");
        p.setProperty("transaction.state.log.replication.factor", "1");
        p.setProperty("transaction.state.log.min.isr", "1");
        p.setProperty("share.coordinator.state.topic.replication.factor", "1");
        p.setProperty("share.coordinator.state.topic.min.isr", "1");
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        p.setProperty("auto.create.topics.enable", "false");
        try (Writer w = Files.newBufferedWriter(config)) {
            p.store(w, "written by infra/local-stack on every start");
        }
        if (!Files.exists(logDir.resolve("meta.properties"))) {
            // Kafka's own ids never start with '-', which the storage tool would read as an option (1 in 64 of
            // plain base64 UUIDs did, and the broker then failed to start)
            String clusterId = org.apache.kafka.common.Uuid.randomUuid().toString();
            int rc = kafka.tools.StorageTool.execute(new String[] {
                    "format", "-t", clusterId, "-c", config.toString(), "--ignore-formatted"}, System.out);
            if (rc != 0) {
                throw new IllegalStateException("formatting Kafka's log directory failed with " + rc);
            }
        }
        kafka.Kafka.main(new String[] {config.toString()});
    }
}
