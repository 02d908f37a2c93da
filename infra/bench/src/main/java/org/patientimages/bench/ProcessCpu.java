package org.patientimages.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The CPU that processes of this machine have used, from {@code /proc} (Linux only), in clock ticks (USER_HZ, 100
 * per second): what {@code ./dev bench} and {@code ./dev profile} read around what they measure.
 */
final class ProcessCpu {

    /** Linux's USER_HZ, the unit of every CPU time in {@code /proc}. */
    static final double TICKS_PER_SECOND = 100;

    private ProcessCpu() {
    }

    /** CPU used: in all, and by the JIT compiler threads among it. */
    record Used(long ticks, long jitTicks) {

        static final Used NONE = new Used(0, 0);

        Used minus(Used earlier) {
            return new Used(ticks - earlier.ticks, jitTicks - earlier.jitTicks);
        }

        Used plus(Used other) {
            return new Used(ticks + other.ticks, jitTicks + other.jitTicks);
        }
    }

    /** The whole machine's CPU: busy and in all, summed over its cores. */
    record Machine(long busyTicks, long totalTicks) {

        Machine minus(Machine earlier) {
            return new Machine(busyTicks - earlier.busyTicks, totalTicks - earlier.totalTicks);
        }

        double busyShare() {
            return totalTicks == 0 ? 0 : (double) busyTicks / totalTicks;
        }
    }

    /** {@code name=pid,name=pid}, in order; an empty or missing list is no processes. */
    static Map<String, String> pids(String list) {
        Map<String, String> pids = new LinkedHashMap<>();
        if (list == null || list.isBlank()) {
            return pids;
        }
        for (String pair : list.split(",")) {
            String[] nameAndPid = pair.split("=", 2);
            if (nameAndPid.length != 2 || !nameAndPid[1].matches("[0-9]+")) {
                throw new IllegalArgumentException("not name=pid: " + pair);
            }
            pids.put(nameAndPid[0], nameAndPid[1]);
        }
        return pids;
    }

    /**
     * What a process has used since it started: its threads, those that ended included, the children it has
     * reaped (PostgreSQL's ended backends), and the children alive now with theirs. The JIT part counts the
     * compiler threads alive now. A process that is gone has used nothing.
     */
    static Used of(String pid) {
        Path proc = Path.of("/proc", pid);
        List<Path> tasks;
        Used used;
        try (Stream<Path> list = Files.list(proc.resolve("task"))) {
            long[] stat = times(Files.readString(proc.resolve("stat")));
            used = new Used(stat[0] + stat[1] + stat[2] + stat[3], 0);
            tasks = list.toList();
        } catch (IOException e) {
            return Used.NONE; // gone
        }
        for (Path task : tasks) {
            try {
                String comm = Files.readString(task.resolve("comm")).strip();
                if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
                    long[] thread = times(Files.readString(task.resolve("stat")));
                    used = used.plus(new Used(0, thread[0] + thread[1]));
                }
                for (String child : Files.readString(task.resolve("children")).trim().split(" ")) {
                    if (!child.isEmpty()) {
                        used = used.plus(of(child));
                    }
                }
            } catch (IOException e) {
                // a thread that ended meanwhile: its time is in the process's already
            }
        }
        return used;
    }

    /** The machine's CPU from {@code /proc/stat}; empty where there is none. */
    static Optional<Machine> machine() {
        try {
            return Optional.of(machine(Files.readAllLines(Path.of("/proc/stat")).get(0)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The first line of {@code /proc/stat}: {@code cpu user nice system idle iowait irq softirq steal …}. */
    static Machine machine(String cpuLine) {
        List<Long> fields = Stream.of(cpuLine.trim().split("\\s+")).skip(1).map(Long::parseLong).toList();
        // guest time is already in user and nice
        long total = fields.stream().limit(8).mapToLong(Long::longValue).sum();
        long idle = fields.get(3) + fields.get(4);
        return new Machine(total - idle, total);
    }

    /**
     * utime, stime, cutime and cstime of a {@code stat} line of {@code /proc}: the fields after the command name,
     * which is in parentheses and may itself hold spaces and parentheses.
     */
    static long[] times(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12]), Long.parseLong(f[13]), Long.parseLong(f[14])};
    }
}
