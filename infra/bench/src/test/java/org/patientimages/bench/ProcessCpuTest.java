package org.patientimages.bench;

import org.junit.jupiter.api.Test;

import java.security.MessageDigest;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ProcessCpuTest {

    @Test
    void reads_user_system_and_reaped_childrens_times_after_a_command_name_with_spaces_and_parentheses() {
        String stat = "4242 (C2 (Compiler) 1) S 1 4242 4242 0 -1 4194304 900 0 0 0 731 58 12 3 20 0 40 0 9126 0";
        assertThat(ProcessCpu.times(stat)).containsExactly(731, 58, 12, 3);
    }

    @Test
    void busy_is_all_but_idle_and_io_wait_and_guest_time_is_counted_once() {
        // user nice system idle iowait irq softirq steal guest guest_nice
        ProcessCpu.Machine machine = ProcessCpu.machine("cpu  600 10 200 1000 90 5 15 30 400 0");
        assertThat(machine.totalTicks()).isEqualTo(1950);
        assertThat(machine.busyTicks()).isEqualTo(860);
        ProcessCpu.Machine later = ProcessCpu.machine("cpu  700 10 250 1100 90 5 15 30 400 0");
        assertThat(later.minus(machine).busyShare()).isCloseTo(150.0 / 250, within(1e-9));
    }

    @Test
    void takes_a_list_of_named_pids_in_order_and_refuses_anything_else() {
        assertThat(ProcessCpu.pids("kafka=12,api-gateway=7")).containsExactly(Map.entry("kafka", "12"),
                Map.entry("api-gateway", "7"));
        assertThat(ProcessCpu.pids("")).isEmpty();
        assertThat(ProcessCpu.pids(null)).isEmpty();
        assertThatThrownBy(() -> ProcessCpu.pids("kafka=12,s3")).hasMessage("not name=pid: s3");
        assertThatThrownBy(() -> ProcessCpu.pids("kafka=$(id)")).hasMessage("not name=pid: kafka=$(id)");
    }

    @Test
    void the_cpu_this_process_uses_shows() throws Exception {
        String self = String.valueOf(ProcessHandle.current().pid());
        ProcessCpu.Used before = ProcessCpu.of(self);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] block = new byte[1 << 20];
        long deadline = System.nanoTime() + 20_000_000_000L;
        // at least five clock ticks of work on this thread
        while (ProcessCpu.of(self).minus(before).ticks() < 5 && System.nanoTime() < deadline) {
            sha.update(block);
        }
        assertThat(ProcessCpu.of(self).minus(before).ticks()).isGreaterThanOrEqualTo(5);
        assertThat(ProcessCpu.of("999999999")).isEqualTo(new ProcessCpu.Used(0, 0));
    }

    @Test
    void threads_ending_while_it_reads_do_not_lose_the_process() throws Exception {
        String self = String.valueOf(ProcessHandle.current().pid());
        java.util.concurrent.atomic.AtomicBoolean churning = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread churn = new Thread(() -> {
            while (churning.get()) {
                Thread shortLived = new Thread(() -> { });
                shortLived.start();
                try {
                    shortLived.join();
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        churn.start();
        try {
            long last = ProcessCpu.of(self).ticks();
            for (int i = 0; i < 2000; i++) {
                long now = ProcessCpu.of(self).ticks();
                assertThat(now).as("read %d", i).isGreaterThanOrEqualTo(last);
                last = now;
            }
        } finally {
            churning.set(false);
            churn.join();
        }
    }
}
