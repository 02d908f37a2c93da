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

/**
 * {@code ./dev profile}: async-profiler attached to running services while a command runs, and the CPU each
 * service used meanwhile, and its JIT compiler threads' part of it ({@link ProcessCpu}, Linux only).
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
        Map<String, String> pids = ProcessCpu.pids(options.get("pids"));
        Path cpuBefore = out.resolve("cpu-at-start.txt");
        if (args[0].equals("start")) {
            String event = options.getOrDefault("event", "cpu");
            for (String pid : pids.values()) {
                load(pid, library, "start,event=" + event + ",interval=1ms");
            }
            List<String> lines = new ArrayList<>();
            pids.forEach((name, pid) -> {
                ProcessCpu.Used used = ProcessCpu.of(pid);
                lines.add(name + " " + used.ticks() + " " + used.jitTicks());
            });
            Files.write(cpuBefore, lines);
            System.out.println("profiling " + String.join(", ", pids.keySet()) + " (" + event + ")");
            return;
        }
        Map<String, ProcessCpu.Used> before = new LinkedHashMap<>();
        for (String line : Files.readAllLines(cpuBefore)) {
            String[] f = line.split(" ");
            before.put(f[0], new ProcessCpu.Used(Long.parseLong(f[1]), Long.parseLong(f[2])));
        }
        System.out.printf("%-18s %12s %12s   %s%n", "process", "CPU s", "of it JIT s", "flame graph");
        for (var entry : pids.entrySet()) {
            String name = entry.getKey();
            String pid = entry.getValue();
            Path collapsed = out.resolve(name + ".collapsed");
            Path html = out.resolve(name + ".html");
            load(pid, library, "dump,collapsed,file=" + collapsed.toAbsolutePath());
            load(pid, library, "stop,file=" + html.toAbsolutePath());
            ProcessCpu.Used used = ProcessCpu.of(pid).minus(before.getOrDefault(name, ProcessCpu.Used.NONE));
            System.out.printf("%-18s %12.2f %12.2f   %s%n", name, used.ticks() / ProcessCpu.TICKS_PER_SECOND,
                    used.jitTicks() / ProcessCpu.TICKS_PER_SECOND, html);
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
}
