package org.patientimages.worker.storage;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class PartSendersTest {

    @Test
    void a_buffer_is_taken_only_while_fewer_than_count_are_out_and_one_given_back_is_taken_again_empty()
            throws Exception {
        try (PartSenders senders = new PartSenders(2, 1024)) {
            ByteBuffer first = senders.take();
            ByteBuffer second = senders.take();
            assertThat(first).isNotSameAs(second);
            assertThat(first.capacity()).isEqualTo(1024);
            first.put(new byte[100]).flip();

            CompletableFuture<ByteBuffer> third = new CompletableFuture<>();
            Thread taker = new Thread(() -> {
                try {
                    third.complete(senders.take());
                } catch (InterruptedException e) {
                    third.completeExceptionally(e);
                }
            });
            taker.start();
            await().until(() -> taker.getState() == Thread.State.WAITING);
            assertThat(third).isNotDone();

            senders.giveBack(first);
            assertThat(third).succeedsWithin(Duration.ofMinutes(1)).isSameAs(first)
                    .satisfies(b -> assertThat(b.remaining()).isEqualTo(1024));
        }
    }

    @Test
    void a_buffer_reads_as_a_stream_from_its_position_to_its_limit_each_time_it_is_opened() throws IOException {
        ByteBuffer bytes = ByteBuffer.allocateDirect(8).put(new byte[] {1, 2, (byte) 0xff, 4, 5}).flip();
        for (int opened = 0; opened < 2; opened++) {
            try (InputStream in = PartSenders.read(bytes)) {
                assertThat(in.available()).isEqualTo(5);
                assertThat(in.read()).isEqualTo(1);
                byte[] rest = new byte[8];
                assertThat(in.read(rest, 1, 8 - 1)).isEqualTo(4);
                assertThat(rest).startsWith(0, 2, (byte) 0xff, 4, 5);
                assertThat(in.read()).isEqualTo(-1);
                assertThat(in.read(rest, 0, 8)).isEqualTo(-1);
            }
        }
        assertThat(bytes.position()).isZero();
    }

    @Test
    void at_least_one_part_must_be_sendable() {
        assertThatThrownBy(() -> new PartSenders(0, 1024)).isInstanceOf(IllegalArgumentException.class);
    }
}
