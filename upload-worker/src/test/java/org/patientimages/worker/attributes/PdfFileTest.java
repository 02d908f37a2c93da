package org.patientimages.worker.attributes;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.patientimages.localstack.testing.TestPdf;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** PDFs read in the child JVM: its limits of time and memory end it, never the worker. */
class PdfFileTest {

    /** The worker's defaults, with time to spare for a busy build machine. */
    static final PdfFile PDFS = new PdfFile(Duration.ofSeconds(30), 128L << 20, Duration.ofSeconds(60));

    @TempDir
    Path dir;

    @Test
    void one_child_reads_pdf_after_pdf_once_for_its_attributes_and_its_first_page_until_its_uses_are_spent()
            throws Exception {
        try (PdfFile pdfs = new PdfFile(Duration.ofSeconds(30), 128L << 20, Duration.ofSeconds(60), 3)) {
            Path report = Files.write(dir.resolve("report.pdf"), TestPdf.report().pages(2).toBytes());
            Readings.Reading reading = new Readings(100_000_000L, pdfs).read(report, "application/pdf");
            assertThat(reading.attributes().value()).isEqualTo(Map.of("pdf", Map.of("pages", 2, "version", "1.7")));
            assertThat(reading.thumbnail().value().height()).isEqualTo(256);
            Path other = Files.write(dir.resolve("other.pdf"), TestPdf.report().rotated(90).toBytes());
            assertThat(pdfs.read(other).page().value().getWidth()).isEqualTo(512);
            assertThat(pdfs.children()).as("by the same child").isEqualTo(1);
            assertThat(pdfs.waiting()).isEqualTo(1);
            // a third PDF read (both steps of the first were one): the child is ended, and a new one reads the next
            assertThat(pdfs.read(report).page().value().getHeight()).isEqualTo(512);
            assertThat(pdfs.waiting()).isZero();
            assertThat(page(pdfs, report).getHeight()).isEqualTo(512);
            assertThat(pdfs.children()).isEqualTo(2);
            assertThat(pdfs.waiting()).isEqualTo(1);
        }
    }

    /** The first page, or why not. */
    private static BufferedImage page(PdfFile pdfs, Path pdf) throws UnreadableFileException {
        Step<BufferedImage> page = pdfs.read(pdf).page();
        if (page.skipped() != null) {
            throw page.skipped();
        }
        return page.value();
    }

    @Test
    void a_decompression_bomb_runs_its_child_out_of_memory_and_the_next_pdf_gets_a_new_one() throws Exception {
        // a 4000 × 4000 RGB image is 48 MB once inflated, from a few KB in the file
        Path pdf = Files.write(dir.resolve("scan.pdf"), TestPdf.report().image(4000).toBytes());
        assertThat(Files.size(pdf)).isLessThan(200_000);
        try (PdfFile small = new PdfFile(Duration.ofSeconds(30), 32L << 20, Duration.ofSeconds(60))) {
            // the page count, printed before rendering began, holds; the page does not
            PdfFile.Read read = small.read(pdf);
            assertThat(read.attributes().value()).isEqualTo(Map.of("pdf", Map.of("pages", 1, "version", "1.7")));
            assertThat(read.page().skipped()).hasMessage("the PDF needs more than 32 MiB to read");
            assertThat(small.waiting()).isZero();
            Path report = Files.write(dir.resolve("report.pdf"), TestPdf.report().toBytes());
            assertThat(page(small, report).getHeight()).isEqualTo(512);
            assertThat(small.children()).isEqualTo(2);
        }
        assertThat(page(PDFS, pdf).getHeight()).isEqualTo(512);
    }

    @Test
    void a_child_past_the_time_limit_is_killed_and_a_pdf_behind_a_password_is_not_rendered() throws Exception {
        Path pdf = Files.write(dir.resolve("busy.pdf"), TestPdf.report().busy(20_000).toBytes());
        try (PdfFile impatient = new PdfFile(Duration.ofMillis(1), 128L << 20, Duration.ofSeconds(60))) {
            PdfFile.Read read = impatient.read(pdf);
            assertThat(read.attributes().skipped()).hasMessage("the PDF was not read within 1 ms");
            assertThat(read.page().skipped()).hasMessage("the PDF was not read within 1 ms");
            assertThat(impatient.children()).isEqualTo(1);
            assertThat(impatient.waiting()).isZero();
        }
        assertThat(page(PDFS, pdf).getHeight()).isEqualTo(512);
        Path locked = Files.write(dir.resolve("locked.pdf"), TestPdf.report().password("s3cret").toBytes());
        assertThatThrownBy(() -> page(PDFS, locked))
                .isInstanceOf(UnreadableFileException.class).hasMessage("the PDF opens only with a password");
    }

    @Test
    void a_child_ends_itself_at_its_time_limit_should_the_worker_be_gone_and_at_the_end_of_its_requests()
            throws Exception {
        Path pdf = Files.write(dir.resolve("busy.pdf"), TestPdf.report().busy(20_000).toBytes());
        try (PdfFile impatient = new PdfFile(Duration.ofMillis(1), 128L << 20, Duration.ofSeconds(60))) {
            Process child = new ProcessBuilder(impatient.command("serve")).start();
            child.getOutputStream().write((pdf + "\t512\t" + dir.resolve("page.png") + "\n").getBytes());
            child.getOutputStream().flush();
            assertThat(child.waitFor()).isEqualTo(PdfProcess.TIME_UP);
        }
        Process idle = new ProcessBuilder(PDFS.command("serve")).start();
        idle.getOutputStream().close();
        assertThat(idle.waitFor()).isZero();
    }

    @Test
    void a_child_without_a_pdf_for_its_idle_time_is_ended() throws Exception {
        Path report = Files.write(dir.resolve("report.pdf"), TestPdf.report().toBytes());
        try (PdfFile pdfs = new PdfFile(Duration.ofSeconds(30), 128L << 20, Duration.ofMillis(300))) {
            assertThat(page(pdfs, report).getHeight()).isEqualTo(512);
            assertThat(pdfs.waiting()).isEqualTo(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> pdfs.waiting() == 0);
            assertThat(page(pdfs, report).getHeight()).isEqualTo(512);
            assertThat(pdfs.children()).isEqualTo(2);
        }
    }
}
