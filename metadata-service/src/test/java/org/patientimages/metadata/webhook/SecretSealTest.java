package org.patientimages.metadata.webhook;

import org.junit.jupiter.api.Test;

import java.util.Base64;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SecretSealTest {

    private static final String KEY = key(1);
    private static final String OLD_KEY = key(2);
    private static final UUID WEBHOOK = UUID.randomUUID();
    private static final String SECRET = WebhookSignature.newSecret();

    private static String key(int fill) {
        byte[] key = new byte[32];
        java.util.Arrays.fill(key, (byte) fill);
        return Base64.getEncoder().encodeToString(key);
    }

    @Test
    void a_sealed_secret_shows_nothing_of_itself_and_opens_only_for_its_webhook_under_its_key() {
        SecretSeal seal = new SecretSeal(KEY, List.of());
        String sealed = seal.seal(WEBHOOK, SECRET);
        assertThat(sealed).startsWith(SecretSeal.PREFIX).doesNotContain(SECRET.substring("whsec_".length()));
        assertThat(seal.seal(WEBHOOK, SECRET)).as("a new nonce each time").isNotEqualTo(sealed);
        assertThat(seal.open(WEBHOOK, sealed)).contains(SECRET);
        assertThat(seal.current(sealed)).isTrue();
        assertThat(seal.open(UUID.randomUUID(), sealed)).as("another webhook's").isEmpty();
        String value = sealed.substring(sealed.lastIndexOf(':') + 1);
        byte[] bytes = Base64.getDecoder().decode(value);
        bytes[bytes.length - 1] ^= 1;
        String changed = sealed.substring(0, sealed.lastIndexOf(':') + 1) + Base64.getEncoder().encodeToString(bytes);
        assertThat(seal.open(WEBHOOK, changed)).isEmpty();
        assertThat(seal.open(WEBHOOK, SecretSeal.PREFIX + "00000000:" + value)).as("an unknown key's").isEmpty();
        assertThat(seal.open(WEBHOOK, SecretSeal.PREFIX + "garbage")).isEmpty();
        assertThat(new SecretSeal(OLD_KEY, List.of()).open(WEBHOOK, sealed)).isEmpty();
    }

    @Test
    void a_previous_key_opens_what_it_sealed_which_is_no_longer_current_and_a_secret_as_issued_is_itself() {
        String sealedBefore = new SecretSeal(OLD_KEY, List.of()).seal(WEBHOOK, SECRET);
        SecretSeal seal = new SecretSeal(KEY, List.of(OLD_KEY));
        assertThat(seal.open(WEBHOOK, sealedBefore)).contains(SECRET);
        assertThat(seal.current(sealedBefore)).isFalse();
        assertThat(seal.open(WEBHOOK, SECRET)).contains(SECRET);
        assertThat(seal.current(SECRET)).isFalse();
        assertThat(seal.current(null)).isTrue();
        assertThat(seal.sealing()).isTrue();
    }

    @Test
    void without_a_key_secrets_are_stored_as_issued_and_keys_must_be_32_bytes_of_base64() {
        SecretSeal none = new SecretSeal(null, List.of());
        assertThat(none.sealing()).isFalse();
        assertThat(none.seal(WEBHOOK, SECRET)).isEqualTo(SECRET);
        assertThat(none.current(SECRET)).isTrue();
        assertThat(none.open(WEBHOOK, new SecretSeal(KEY, List.of()).seal(WEBHOOK, SECRET))).isEmpty();
        assertThatThrownBy(() -> new SecretSeal("not base64!", List.of())).hasMessageContaining("base64");
        assertThatThrownBy(() -> new SecretSeal(Base64.getEncoder().encodeToString(new byte[16]), List.of()))
                .hasMessageContaining("32 bytes");
        assertThatThrownBy(() -> new SecretSeal(" ", List.of(OLD_KEY))).hasMessageContaining("secret-key");
    }
}
