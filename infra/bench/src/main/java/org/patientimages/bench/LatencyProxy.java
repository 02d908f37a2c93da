package org.patientimages.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A TCP proxy on loopback that makes the object store slow the way a distant one is: every chunk a client
 * sends waits {@code --latency-ms} before it is passed on, so a job's upload is bound by waiting, not by CPU.
 * For {@code ./dev bench-scale}, which points the workers at it. Runs until killed.
 * <pre>
 *   LatencyProxy --port 9100 --target-port 9000 --latency-ms 20
 * </pre>
 */
public final class LatencyProxy {

    private LatencyProxy() {
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> options = Bench.options(args, "--port N --target-port N --latency-ms N");
        int port = Integer.parseInt(options.getOrDefault("port", "9100"));
        int target = Integer.parseInt(options.getOrDefault("target-port", "9000"));
        long latencyNanos = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(options.getOrDefault("latency-ms", "20")));
        ExecutorService pumps = Executors.newCachedThreadPool();
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            System.out.printf("latency proxy 127.0.0.1:%d -> 127.0.0.1:%d, %d ms per chunk%n", port, target,
                    TimeUnit.NANOSECONDS.toMillis(latencyNanos));
            while (true) {
                Socket client = server.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                pumps.submit(() -> pump(client, upstream, latencyNanos));
                pumps.submit(() -> pump(upstream, client, 0));
            }
        }
    }

    /** Copies one direction until it ends, holding each chunk back by the latency; then closes both sockets. */
    private static void pump(Socket from, Socket to, long latencyNanos) {
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                if (latencyNanos > 0) {
                    LockSupport.parkNanos(latencyNanos); // the injected latency itself, not a wait for something
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // one side closed: the connection is over
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
