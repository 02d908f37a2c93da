package org.patientimages.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One of the services, run from its executable jar as its own process, the way ./dev runs it. */
final class ServiceProcess implements AutoCloseable {

    private static final Path ROOT = Path.of(System.getProperty("project.root", "../..")).toAbsolutePath().normalize();
    private static final String VERSION = System.getProperty("project.version", "0.1.0-SNAPSHOT");

    final String name;
    final int port;
    /** Where its actuator answers: its own port, or the management port when it has one. */
    final int managementPort;
    final Path log;
    private final List<String> command;
    private Process process;

    private ServiceProcess(String name, int port, int managementPort, Path log, List<String> command) {
        this.name = name;
        this.port = port;
        this.managementPort = managementPort;
        this.log = log;
        this.command = command;
        this.process = launch();
    }

    static ServiceProcess start(String module, String... arguments) {
        return start(module, freePort(), arguments);
    }

    /** A main class of the test classpath (the local-stack servers) as its own JVM. */
    static ServiceProcess startMain(String name, int port, String mainClass, String... arguments) {
        return java(name, port, List.of("-Xmx512m",
                "-Dlogback.configurationFile=" + ROOT.resolve("infra/local-stack/logback-dev.xml"),
                "-cp", System.getProperty("java.class.path"), mainClass), arguments);
    }

    static ServiceProcess start(String module, int port, String... arguments) {
        return start(module, port, port, arguments);
    }

    /** A service whose actuator has a port of its own (the gateway's, kept off the public port). */
    static ServiceProcess start(String module, int port, int managementPort, String... arguments) {
        String artifact = Path.of(module).getFileName().toString();
        Path jar = ROOT.resolve(module).resolve("target").resolve(artifact + "-" + VERSION + "-exec.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("build the services first: " + jar + " is missing");
        }
        List<String> command = new ArrayList<>(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar.toString(),
                "--server.port=" + port));
        if (managementPort != port) {
            command.add("--management.server.port=" + managementPort);
        }
        return java(artifact, port, managementPort, command, arguments);
    }

    private static ServiceProcess java(String name, int port, List<String> jvmAndMain, String... arguments) {
        return java(name, port, port, jvmAndMain, arguments);
    }

    private static ServiceProcess java(String name, int port, int managementPort, List<String> jvmAndMain,
                                       String... arguments) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmAndMain);
        command.addAll(List.of(arguments));
        try {
            Path logs = Files.createDirectories(Path.of("target", "e2e-logs"));
            return new ServiceProcess(name, port, managementPort, logs.resolve(name + "-" + port + ".log"), command);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Process launch() {
        try {
            return new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code kill -9}: no shutdown hook, no goodbye to Kafka, nothing flushed. */
    void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM, without waiting: the process shuts down gracefully on its own. */
    void terminate() {
        process.destroy();
    }

    /** Waits for the process to end by itself; false if it was still running after the timeout. */
    boolean awaitExit(java.time.Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Starts the same command again, on the same port. */
    void restart() {
        if (process.isAlive()) {
            throw new IllegalStateException(name + " is still running");
        }
        process = launch();
    }

    /** SIGSTOP: the process freezes mid-work, as a long GC pause or a stalled VM would. */
    void pause() {
        signal("-STOP");
    }

    /** SIGCONT: the frozen process goes on where it stopped. */
    void resume() {
        signal("-CONT");
    }

    private void signal(String signal) {
        try {
            new ProcessBuilder("kill", signal, Long.toString(process.pid())).inheritIO().start().waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    String managementUrl() {
        return "http://127.0.0.1:" + managementPort;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
