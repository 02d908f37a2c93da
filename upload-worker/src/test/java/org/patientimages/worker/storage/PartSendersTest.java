package org.patientimages.worker.storage;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class PartSendersTest {

    @Test
    void a_buffer_is_taken_only_while_fewer_than_count_are_out_and_given_back_ones_are_reused() throws Exception {
        try (PartSenders senders = new PartSenders(2, 1024)) {
            byte[] first = senders.take();
            byte[] second = senders.take();
            assertThat(first).hasSize(1024).isNotSameAs(second);

            CompletableFuture<byte[]> third = new CompletableFuture<>();
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
            assertThat(third.get()).isSameAs(first);
        }
    }

    @Test
    void at_least_one_part_must_be_sendable() {
        assertThatThrownBy(() -> new PartSenders(0, 1024)).isInstanceOf(IllegalArgumentException.class);
    }
}
