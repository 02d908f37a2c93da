package org.patientimages.bench;

import com.sun.tools.attach.VirtualMachine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code ./dev profile}: async-profiler attached to running services while a command runs, and the CPU each
 * service used meanwhile, split into its JIT compiler threads and the rest (from {@code /proc}, Linux only).
 * <p>
 * {@code start}: loads the profiler into each named process and remembers the CPU they had used.
 * {@code stop}: writes each process's flame graph ({@code NAME.html}) and collapsed stacks
 * ({@code NAME.collapsed}, one line per stack, for grep and scripts) to {@code --out}, and prints the CPU used
 * since {@code start}.
 */
public final class Profile {

    private Profile() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || !List.of("start", "stop").contains(args[0])) {
            throw new IllegalArgumentException("usage: start|stop --pids name=pid,... --out DIR [--event cpu|wall]");
        }
        Map<String, String> options = Bench.options(java.util.Arrays.copyOfRange(args, 1, args.length),
                "start|stop --pids name=pid,... --out DIR [--event cpu|wall]");
        Path out = Path.of(options.getOrDefault("out", ".dev/profiles"));
        Files.createDirectories(out);
        Path library = library(out);
        Map<String, String> pids = new LinkedHashMap<>();
        for (String pair : options.getOrDefault("pids", "").split(",")) {
            String[] nameAndPid = pair.split("=", 2);
            pids.put(nameAndPid[0], nameAndPid[1]);
        }
        Path cpuBefore = out.resolve("cpu-at-start.txt");
        if (args[0].equals("start")) {
            String event = options.getOrDefault("event", "cpu");
            for (String pid : pids.values()) {
                load(pid, library, "start,event=" + event + ",interval=1ms");
            }
            List<String> lines = new ArrayList<>();
            pids.forEach((name, pid) -> {
                long[] used = cpu(pid);
                lines.add(name + " " + used[0] + " " + used[1]);
            });
            Files.write(cpuBefore, lines);
            System.out.println("profiling " + String.join(", ", pids.keySet()) + " (" + event + ")");
            return;
        }
        Map<String, long[]> before = new LinkedHashMap<>();
        for (String line : Files.readAllLines(cpuBefore)) {
            String[] f = line.split(" ");
            before.put(f[0], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
        }
        System.out.printf("%-18s %12s %12s   %s%n", "process", "CPU s", "of it JIT s", "flame graph");
        for (var entry : pids.entrySet()) {
            String name = entry.getKey();
            String pid = entry.getValue();
            Path collapsed = out.resolve(name + ".collapsed");
            Path html = out.resolve(name + ".html");
            load(pid, library, "dump,collapsed,file=" + collapsed.toAbsolutePath());
            load(pid, library, "stop,file=" + html.toAbsolutePath());
            long[] now = cpu(pid);
            long[] then = before.getOrDefault(name, new long[] {0, 0});
            System.out.printf("%-18s %12.2f %12.2f   %s%n", name, (now[0] - then[0]) / 100.0, (now[1] - then[1]) / 100.0, html);
        }
    }

    /**
     * The profiler's native library, taken from its jar on the class path into {@code dir} at {@code start};
     * {@code stop} finds it there, the same file the services loaded.
     */
    private static Path library(Path dir) throws IOException {
        Path library = dir.resolve("libasyncProfiler.so").toAbsolutePath();
        if (Files.exists(library)) {
            return library;
        }
        try (InputStream in = Profile.class.getClassLoader().getResourceAsStream("linux-x64/libasyncProfiler.so")) {
            if (in == null) {
                throw new IllegalStateException("async-profiler's linux-x64 library is not on the class path");
            }
            Files.copy(in, library);
        }
        return library;
    }

    private static void load(String pid, Path library, String command) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(pid);
        try {
            vm.loadAgentPath(library.toString(), command);
        } finally {
            vm.detach();
        }
    }

    /**
     * CPU the process and its children alive now have used, in clock ticks (USER_HZ, 100 per second on Linux):
     * all threads, and the JIT compiler threads among them.
     */
    private static long[] cpu(String pid) {
        long[] total = {0, 0};
        Path proc = Path.of("/proc", pid);
        try (Stream<Path> tasks = Files.list(proc.resolve("task"))) {
            for (Path task : tasks.toList()) {
                String stat = Files.readString(task.resolve("stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
                total[0] += ticks;
                String comm = Files.readString(task.resolve("comm")).strip();
                if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
                    total[1] += ticks;
                }
                for (String child : Files.readString(task.resolve("children")).trim().split(" ")) {
                    if (!child.isEmpty()) {
                        long[] c = cpu(child);
                        total[0] += c[0];
                        total[1] += c[1];
                    }
                }
            }
        } catch (IOException e) {
            // a thread or child that ended meanwhile: counted as far as it was read
        }
        return total;
    }
}
