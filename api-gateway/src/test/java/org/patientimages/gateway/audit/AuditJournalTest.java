package org.patientimages.gateway.audit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AuditJournalTest {

    @TempDir
    Path dir;

    private static byte[] record(int n) {
        return ("{\"n\":" + n + "}").getBytes(StandardCharsets.UTF_8);
    }

    /** Takes every record the journal holds, in batches of at most {@code max}, as the sender does. */
    private static List<String> takeAll(AuditJournal journal, int max) throws Exception {
        List<String> taken = new ArrayList<>();
        while (true) {
            AuditJournal.Batch batch = journal.next(max, Duration.ZERO);
            if (batch.records().isEmpty()) {
                return taken;
            }
            assertThat(batch.records()).hasSizeLessThanOrEqualTo(max);
            batch.records().forEach(r -> taken.add(new String(r, StandardCharsets.UTF_8)));
            journal.taken(batch);
        }
    }

    private long segments() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jsonl")).count();
        }
    }

    @Test
    void records_come_back_in_order_in_batches_and_segments_go_once_all_their_records_were_taken() throws Exception {
        try (AuditJournal journal = AuditJournal.open(dir, 50, 1_000_000)) {
            for (int n = 0; n < 20; n++) {
                assertThat(journal.append(record(n))).isTrue();
            }
            assertThat(segments()).as("8 or 9 bytes a record, at most 50 a segment").isEqualTo(4);
            List<String> taken = takeAll(journal, 3);
            assertThat(taken).hasSize(20);
            for (int n = 0; n < 20; n++) {
                assertThat(taken.get(n)).isEqualTo("{\"n\":" + n + "}");
            }
            assertThat(segments()).as("only the one still written").isEqualTo(1);
            assertThat(journal.append(record(20))).isTrue();
            assertThat(takeAll(journal, 3)).containsExactly("{\"n\":20}");
        }
    }

    @Test
    void what_was_not_taken_before_a_crash_comes_back_at_the_next_open_and_a_torn_last_line_is_skipped()
            throws Exception {
        try (AuditJournal journal = AuditJournal.open(dir, 1_000, 1_000_000)) {
            for (int n = 0; n < 5; n++) {
                journal.append(record(n));
            }
            AuditJournal.Batch first = journal.next(2, Duration.ZERO);
            journal.taken(first);
            journal.next(2, Duration.ZERO); // read, never recorded: the gateway died while sending it
        }
        // the process died in the middle of writing one more record
        try (Stream<Path> files = Files.list(dir)) {
            Path last = files.filter(f -> f.getFileName().toString().endsWith(".jsonl")).sorted().reduce((a, b) -> b)
                    .orElseThrow();
            Files.write(last, "{\"n\":5,\"act".getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
        }
        try (AuditJournal journal = AuditJournal.open(dir, 1_000, 1_000_000)) {
            assertThat(journal.bytes()).isGreaterThan(0);
            journal.append(record(6));
            // the whole segment again (the metadata-service skips records it has by their ids), then the new one
            assertThat(takeAll(journal, 10)).containsExactly("{\"n\":0}", "{\"n\":1}", "{\"n\":2}", "{\"n\":3}",
                    "{\"n\":4}", "{\"n\":6}");
            assertThat(journal.tornLines()).isEqualTo(1);
            assertThat(segments()).isEqualTo(1);
        }
    }

    @Test
    void a_full_journal_keeps_nothing_more_until_records_are_taken() throws Exception {
        try (AuditJournal journal = AuditJournal.open(dir, 16, 40)) {
            for (int n = 0; n < 5; n++) {
                assertThat(journal.append(record(n))).isTrue();
            }
            assertThat(journal.append(record(5))).as("40 bytes waiting").isFalse();
            assertThat(takeAll(journal, 10)).hasSize(5);
            assertThat(journal.append(record(6))).isTrue();
        }
    }

    @Test
    void a_reader_waits_for_the_next_record_and_wakes_when_it_is_written() throws Exception {
        try (AuditJournal journal = AuditJournal.open(dir, 1_000, 1_000_000)) {
            assertThat(journal.next(10, Duration.ofMillis(50)).records()).isEmpty();
            Thread writer = new Thread(() -> {
                try {
                    journal.append(record(1));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            writer.start();
            AuditJournal.Batch batch = journal.next(10, Duration.ofSeconds(30));
            writer.join();
            if (batch.records().isEmpty()) { // written between the read and the wait: the next read has it
                batch = journal.next(10, Duration.ZERO);
            }
            assertThat(batch.records()).hasSize(1);
        }
    }

    @Test
    void one_gateway_per_directory() throws Exception {
        try (AuditJournal journal = AuditJournal.open(dir, 1_000, 1_000_000)) {
            assertThatThrownBy(() -> AuditJournal.open(dir, 1_000, 1_000_000))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("patient-images.audit.journal");
        }
    }
}
