package org.patientimages.worker.attributes;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.patientimages.localstack.testing.TestPdf;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** PDFs read in the child JVM: its limits of time and memory end it, never the worker. */
class PdfFileTest {

    /** The worker's defaults, with time to spare for a busy build machine. */
    static final PdfFile PDFS = new PdfFile(Duration.ofSeconds(30), 128L << 20);

    @TempDir
    Path dir;

    @Test
    void a_decompression_bomb_runs_the_child_out_of_memory_and_the_same_image_fits_the_default_heap() throws Exception {
        // a 4000 × 4000 RGB image is 48 MB once inflated, from a few KB in the file
        Path pdf = Files.write(dir.resolve("scan.pdf"), TestPdf.report().image(4000).toBytes());
        assertThat(Files.size(pdf)).isLessThan(200_000);
        assertThatThrownBy(() -> new PdfFile(Duration.ofSeconds(30), 32L << 20).firstPage(pdf, 512))
                .isInstanceOf(UnreadableFileException.class).hasMessage("the PDF needs more than 32 MiB to read");
        BufferedImage page = PDFS.firstPage(pdf, 512);
        assertThat(page.getHeight()).isEqualTo(512);
    }

    @Test
    void a_child_past_the_time_limit_is_killed_and_a_pdf_behind_a_password_is_not_rendered() throws Exception {
        Path pdf = Files.write(dir.resolve("busy.pdf"), TestPdf.report().busy(20_000).toBytes());
        assertThatThrownBy(() -> new PdfFile(Duration.ofMillis(1), 128L << 20).firstPage(pdf, 512))
                .isInstanceOf(UnreadableFileException.class).hasMessage("the PDF was not read within 1 ms");
        assertThat(PDFS.firstPage(pdf, 512).getHeight()).isEqualTo(512);
        Path locked = Files.write(dir.resolve("locked.pdf"), TestPdf.report().password("s3cret").toBytes());
        assertThatThrownBy(() -> PDFS.firstPage(locked, 512))
                .isInstanceOf(UnreadableFileException.class).hasMessage("the PDF opens only with a password");
    }

    @Test
    void a_child_ends_itself_at_its_time_limit_should_the_worker_be_gone() throws Exception {
        Path pdf = Files.write(dir.resolve("busy.pdf"), TestPdf.report().busy(20_000).toBytes());
        Process child = new ProcessBuilder(new PdfFile(Duration.ofMillis(1), 128L << 20)
                .command("render", pdf.toString(), "512", dir.resolve("page.png").toString())).start();
        assertThat(child.waitFor()).isEqualTo(PdfProcess.TIME_UP);
    }
}
