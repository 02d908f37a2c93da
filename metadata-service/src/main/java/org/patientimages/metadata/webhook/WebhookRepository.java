package org.patientimages.metadata.webhook;

import org.patientimages.metadata.web.Timestamps;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** The {@code webhooks} table: the endpoints, their cursors in the change feed and the state of their delivery. */
@Repository
class WebhookRepository {

    /**
     * A webhook's row. {@code batchId} and {@code batchRows}: the batch sent and not yet answered 2xx, if any.
     * {@code secret} as issued (opened from its seal; null when it does not open with this instance's keys).
     * {@code previousSecret}: the secret a rotation replaced, which signs too until {@code previousSecretUntil}.
     */
    record Row(UUID id, String url, String secret, UUID patientId, List<String> types, String createdBy,
               Instant createdAt, String feedCursor, UUID batchId, Integer batchRows, int attempts,
               Instant nextAttemptAt, Instant deliveredAt, Instant failingSince, String lastError, Instant disabledAt,
               String previousSecret, Instant previousSecretUntil) {

        /**
         * The secrets that sign a request at {@code now}: the current one, and the replaced one while it may; empty
         * when the current one does not open.
         */
        List<String> signingSecrets(Instant now) {
            if (secret == null) {
                return List.of();
            }
            return previousSecret != null && previousSecretUntil != null && now.isBefore(previousSecretUntil)
                    ? List.of(secret, previousSecret) : List.of(secret);
        }

        Webhook toApi(boolean withSecret) {
            String status = disabledAt != null ? "DISABLED" : failingSince != null ? "FAILING" : "ACTIVE";
            return new Webhook(id.toString(), url, patientId == null ? null : patientId.toString(), types, createdBy,
                    Timestamps.format(createdAt), new Webhook.Delivery(status, Timestamps.format(deliveredAt),
                    Timestamps.format(failingSince), attempts, lastError,
                    status.equals("FAILING") ? Timestamps.format(nextAttemptAt) : null), withSecret ? secret : null);
        }

        boolean wants(String type) {
            return types == null || types.contains(type);
        }
    }

    private static final String COLUMNS = """
            id, url, secret, patient_id, types, created_by, created_at, feed_cursor, batch_id, batch_rows, attempts,
            next_attempt_at, delivered_at, failing_since, last_error, disabled_at, previous_secret, previous_secret_until""";

    private final RowMapper<Row> mapper = (rs, n) -> new Row(rs.getObject("id", UUID.class),
            rs.getString("url"), opened(rs, "secret"), rs.getObject("patient_id", UUID.class),
            strings(rs.getArray("types")), rs.getString("created_by"), Timestamps.instant(rs.getTimestamp("created_at")),
            rs.getString("feed_cursor"), rs.getObject("batch_id", UUID.class), (Integer) rs.getObject("batch_rows"),
            rs.getInt("attempts"), Timestamps.instant(rs.getTimestamp("next_attempt_at")),
            Timestamps.instant(rs.getTimestamp("delivered_at")), Timestamps.instant(rs.getTimestamp("failing_since")),
            rs.getString("last_error"), Timestamps.instant(rs.getTimestamp("disabled_at")),
            opened(rs, "previous_secret"), Timestamps.instant(rs.getTimestamp("previous_secret_until")));

    private final JdbcClient jdbc;
    private final SecretSeal seal;

    WebhookRepository(JdbcClient jdbc, WebhookProperties properties) {
        this.jdbc = jdbc;
        this.seal = new SecretSeal(properties.secretKey(), properties.previousSecretKeys());
    }

    private String opened(ResultSet rs, String column) throws SQLException {
        return seal.open(rs.getObject("id", UUID.class), rs.getString(column)).orElse(null);
    }

    /** Whether signing secrets are sealed in the database (a key is set). */
    boolean sealing() {
        return seal.sealing();
    }

    /** A webhook's secrets as stored. */
    private record Stored(UUID id, String secret, String previousSecret) {
    }

    /** What {@link #sealAgain} did: webhooks sealed again, and those whose secrets do not open. */
    record SealedAgain(int sealed, int unopened) {
    }

    /**
     * Seals again, under the current key, every secret stored as issued (before a key was set) or under a
     * previous key. A row changed meanwhile (a rotation) is left as it now is.
     *
     */
    SealedAgain sealAgain() {
        int sealed = 0;
        int unopened = 0;
        List<Stored> rows = jdbc.sql("select id, secret, previous_secret from webhooks")
                .query((rs, n) -> new Stored(rs.getObject("id", UUID.class), rs.getString("secret"),
                        rs.getString("previous_secret"))).list();
        for (Stored row : rows) {
            if (seal.current(row.secret()) && seal.current(row.previousSecret())) {
                continue;
            }
            var secret = seal.open(row.id(), row.secret());
            var previous = seal.open(row.id(), row.previousSecret());
            if (secret.isEmpty() || row.previousSecret() != null && previous.isEmpty()) {
                unopened++;
                continue;
            }
            sealed += jdbc.sql("""
                            update webhooks set secret = ?, previous_secret = ?
                            where id = ? and secret = ? and previous_secret is not distinct from ?""")
                    .params(seal.seal(row.id(), secret.get()), previous.map(p -> seal.seal(row.id(), p)).orElse(null),
                            row.id(), row.secret(), row.previousSecret()).update();
        }
        return new SealedAgain(sealed, unopened);
    }

    void insert(Row row) {
        jdbc.sql("""
                        insert into webhooks (id, url, secret, patient_id, types, created_by, created_at, feed_cursor,
                                              next_attempt_at)
                        values (?, ?, ?, ?, ?::text[], ?, ?, ?, ?)""")
                .params(row.id(), row.url(), seal.seal(row.id(), row.secret()), row.patientId(),
                        row.types() == null ? null : row.types().toArray(String[]::new), row.createdBy(),
                        Timestamps.sql(row.createdAt()), row.feedCursor(), Timestamps.sql(row.nextAttemptAt()))
                .update();
    }

    Optional<Row> find(UUID id) {
        return jdbc.sql("select " + COLUMNS + " from webhooks where id = ?").param(id).query(mapper).optional();
    }

    /** Every webhook, oldest first (an installation has a handful). */
    List<Row> list() {
        return jdbc.sql("select " + COLUMNS + " from webhooks order by created_at, id").query(mapper).list();
    }

    /** Gives the webhook a new secret; the one it had keeps signing too until {@code previousUntil}. */
    Optional<Row> rotate(UUID id, String secret, Instant previousUntil) {
        return jdbc.sql("update webhooks set previous_secret = secret, previous_secret_until = ?, secret = ?"
                        + " where id = ? returning " + COLUMNS)
                .params(Timestamps.sql(previousUntil), seal.seal(id, secret), id).query(mapper).optional();
    }

    /**
     * Due at once, its backoff started over. A disabled webhook is active again from {@code oldestCursor} (the
     * feed's start), the batch it could not send dropped. It stays failing until a batch is taken.
     */
    Optional<Row> resume(UUID id, String oldestCursor) {
        return jdbc.sql("""
                        update webhooks set
                            feed_cursor = case when disabled_at is null then feed_cursor else ? end,
                            batch_id = case when disabled_at is null then batch_id end,
                            batch_rows = case when disabled_at is null then batch_rows end,
                            disabled_at = null, attempts = 0, next_attempt_at = now()
                        where id = ? returning\s""" + COLUMNS)
                .params(oldestCursor, id).query(mapper).optional();
    }

    long count() {
        return jdbc.sql("select count(*) from webhooks").query(Long.class).single();
    }

    boolean delete(UUID id) {
        return jdbc.sql("delete from webhooks where id = ?").param(id).update() == 1;
    }

    /**
     * Leases up to {@code limit} webhooks that are due and not leased by another instance (or whose lease ran
     * out), for {@code lease}, under {@code token}.
     */
    List<Row> lease(UUID token, Duration lease, int limit) {
        return jdbc.sql("""
                        update webhooks set lease_token = ?, lease_until = now() + ? * interval '1 millisecond'
                        where id in (select id from webhooks
                                     where disabled_at is null and next_attempt_at <= now()
                                       and (lease_until is null or lease_until < now())
                                     order by next_attempt_at limit ? for update skip locked)
                        returning\s""" + COLUMNS)
                .params(token, lease.toMillis(), limit).query(mapper).list();
    }

    /**
     * Remembers a batch about to be sent (so that a retry sends the same one under the same id).
     * @return false when the lease was lost (the webhook deleted, or leased again after ours ran out)
     */
    boolean startBatch(UUID id, UUID token, UUID batchId, int rows) {
        return leased(jdbc.sql("update webhooks set batch_id = ?, batch_rows = ? where id = ? and lease_token = ?")
                .params(batchId, rows, id, token));
    }

    /** The receiver took the batch, or there was none to send: the cursor moves on past it. */
    boolean delivered(UUID id, UUID token, String cursor, boolean sent) {
        return leased(jdbc.sql("""
                        update webhooks set feed_cursor = ?, batch_id = null, batch_rows = null, attempts = 0,
                                            failing_since = null, last_error = null,
                                            delivered_at = case when ? then now() else delivered_at end
                        where id = ? and lease_token = ?""")
                .params(cursor, sent, id, token));
    }

    /** The attempt failed: the same batch is sent again after {@code backoff}. */
    boolean failed(UUID id, UUID token, String error, Duration backoff) {
        return leased(jdbc.sql("""
                        update webhooks set attempts = attempts + 1, last_error = ?,
                                            failing_since = coalesce(failing_since, now()),
                                            next_attempt_at = now() + ? * interval '1 millisecond'
                        where id = ? and lease_token = ?""")
                .params(error, backoff.toMillis(), id, token));
    }

    /** The change feed no longer has the webhook's next changes: nothing more is sent. */
    boolean disable(UUID id, UUID token, String error) {
        return leased(jdbc.sql("""
                        update webhooks set disabled_at = now(), last_error = ?,
                                            failing_since = coalesce(failing_since, now())
                        where id = ? and lease_token = ?""")
                .params(error, id, token));
    }

    /** Ends the round: the lease is given back, the webhook due again at once or after its backoff. */
    void release(UUID id, UUID token) {
        jdbc.sql("update webhooks set lease_token = null, lease_until = null where id = ? and lease_token = ?")
                .params(id, token).update();
    }

    /** How many webhooks are failing or disabled. */
    long failing() {
        return jdbc.sql("select count(*) from webhooks where failing_since is not null").query(Long.class).single();
    }

    private static boolean leased(JdbcClient.StatementSpec update) {
        return update.update() == 1;
    }

    private static List<String> strings(Array array) throws SQLException {
        return array == null ? null : Arrays.asList((String[]) array.getArray());
    }
}
