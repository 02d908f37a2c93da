package org.patientimages.metadata.webhook;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;
import org.patientimages.metadata.feed.ChangeFeed;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Timestamps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.dao.DataAccessException;
import org.springframework.stereotype.Service;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * Sends each webhook the changes of the feed after its cursor, a batch at a time, in feed order. A batch is
 * acknowledged by any {@code 2xx} answer, and only then does the cursor move past it: a receiver is sent every
 * change at least once, and a batch it did not take is sent again, with the same changes under the same
 * {@code webhook-id}, after a backoff that doubles from one second up to {@code max-backoff}. A webhook that falls
 * behind by more than the feed keeps is disabled.
 * <p>
 * No transaction is open while a receiver answers (an open transaction would hold the whole feed back): a
 * webhook is leased for a round, and each step of the round is a statement that holds only while the lease is
 * still ours. Several instances share the work; a webhook is sent to by one of them at a time.
 */
@Service
class WebhookDelivery implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(WebhookDelivery.class);

    /** The body of a request: Standard Webhooks' {@code type}, {@code timestamp} and {@code data}. */
    record Payload(String type, String timestamp, Object data) {
    }

    /** The data of {@code image.changes}. */
    record Changes(String webhookId, List<ChangeFeed.Change> changes) {
    }

    /** The data of {@code webhook.test}. */
    record Test(String webhookId) {
    }

    private final WebhookRepository webhooks;
    private final ChangeFeed feed;
    private final WebhookProperties properties;
    private final JsonMapper json;
    private final CloseableHttpClient http;
    private final ScheduledExecutorService ticker;
    private final ExecutorService senders;
    private final AtomicInteger busy = new AtomicInteger();
    private final AtomicLong failing = new AtomicLong();
    private volatile boolean databaseDown;
    private final Counter delivered;
    private final Counter failed;

    WebhookDelivery(WebhookRepository webhooks, ChangeFeed feed, WebhookProperties properties, JsonMapper json,
                    MeterRegistry registry) {
        this.webhooks = webhooks;
        this.feed = feed;
        this.properties = properties;
        this.json = json;
        this.http = client(properties);
        this.ticker = Executors.newSingleThreadScheduledExecutor(daemon("webhook-ticker"));
        this.senders = Executors.newFixedThreadPool(properties.senders(), daemon("webhook-sender"));
        this.delivered = Counter.builder("webhook.deliveries").tag("outcome", "delivered")
                .description("Batches of changes a webhook's receiver took").register(registry);
        this.failed = Counter.builder("webhook.deliveries").tag("outcome", "failed")
                .description("Attempts a webhook's receiver refused, failed or did not answer").register(registry);
        Gauge.builder("webhooks.failing", failing, AtomicLong::get)
                .description("Webhooks whose last attempt failed, or that were disabled").register(registry);
    }

    /**
     * Looks for webhooks with changes to send every {@code interval}, on a thread of its own: not on the
     * scheduler's, which the service's other periodic work shares (a database that does not answer would hold it
     * for the pool's connection timeout every second), and not one a stopping service waits for.
     */
    @EventListener(ApplicationReadyEvent.class)
    void start() {
        sealSecrets();
        if (properties.enabled()) {
            long every = properties.interval().toMillis();
            ticker.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Seals again what was stored before a key was set or under a previous key, and says so when secrets are not
     * sealed at all or some do not open.
     */
    private void sealSecrets() {
        if (!webhooks.sealing()) {
            log.warn("Webhook signing secrets are stored as issued:"
                    + " set patient-images.webhooks.secret-key to seal them");
        }
        WebhookRepository.SealedAgain done;
        try {
            done = webhooks.sealAgain();
        } catch (DataAccessException e) {
            log.warn("Webhooks: their secrets could not be sealed again ({}); the next start tries again",
                    e.getClass().getSimpleName());
            return;
        }
        if (done.sealed() > 0) {
            log.info("Webhooks: the secrets of {} sealed again under the current key", done.sealed());
        }
        if (done.unopened() > 0) {
            log.error("Webhooks: the secrets of {} do not open with the keys set (patient-images.webhooks.secret-key,"
                    + " previous-secret-keys); they fail until a key that sealed them is set or they are rotated",
                    done.unopened());
        }
    }

    private void tick() {
        try {
            deliverDue();
            if (databaseDown) {
                log.info("Webhooks: the database answers again");
                databaseDown = false;
            }
        } catch (DataAccessException e) {
            if (!databaseDown) {
                log.warn("Webhooks: the database does not answer ({}); trying again every {}", e.getClass().getSimpleName(),
                        properties.interval());
                databaseDown = true;
            }
        } catch (RuntimeException e) {
            log.warn("Webhooks: a round of deliveries failed ({})", e.toString());
        }
    }

    /** Leases the webhooks that are due, as many as there are idle senders, and hands each to one. */
    void deliverDue() {
        failing.set(webhooks.failing());
        int idle = properties.senders() - busy.get();
        if (idle <= 0) {
            return;
        }
        UUID token = UUID.randomUUID();
        for (WebhookRepository.Row webhook : webhooks.lease(token, properties.lease(), idle)) {
            busy.incrementAndGet();
            senders.execute(() -> {
                try {
                    round(webhook, token);
                } catch (RuntimeException e) {
                    log.warn("Webhook {}: its round ended early ({}); it is tried again when its lease runs out",
                            webhook.id(), e.toString());
                } finally {
                    busy.decrementAndGet();
                }
            });
        }
    }

    /** Sends one webhook its batches until it is up to date, an attempt fails, or it has had its share. */
    void round(WebhookRepository.Row webhook, UUID token) {
        try {
            String cursor = webhook.feedCursor();
            UUID batchId = webhook.batchId();
            Integer batchRows = webhook.batchRows();
            int attempts = webhook.attempts();
            for (int n = 0; n < WebhookProperties.MAX_BATCHES_PER_ROUND; n++) {
                ChangeFeed.ChangePage page;
                try {
                    // a batch sent before is read again as the same rows of the feed (rows below the feed's
                    // settled point never change), so its retry carries the same changes
                    page = feed.read(cursor, webhook.patientId(), null, batchRows != null ? batchRows : properties.batch());
                } catch (ApiException e) {
                    if (e.code().equals("CHANGES_CURSOR_EXPIRED")) {
                        log.warn("Webhook {} is disabled: it fell behind by more than the change feed keeps",
                                webhook.id());
                        webhooks.disable(webhook.id(), token, e.getMessage());
                        return;
                    }
                    throw e;
                }
                if (page.items().isEmpty()) {
                    return;
                }
                List<ChangeFeed.Change> changes = page.items().stream().filter(c -> webhook.wants(c.type())).toList();
                if (changes.isEmpty()) {
                    // none of the types it asked for: past them without a request
                    if (!webhooks.delivered(webhook.id(), token, page.nextCursor(), false)) {
                        return;
                    }
                } else {
                    if (batchId == null) {
                        batchId = UUID.randomUUID();
                        if (!webhooks.startBatch(webhook.id(), token, batchId, page.items().size())) {
                            return;
                        }
                    }
                    String error = send(webhook, batchId, changes);
                    if (error != null) {
                        failed.increment();
                        attempts++;
                        log.info("Webhook {}: attempt {} of batch {} failed: {}", webhook.id(), attempts, batchId, error);
                        webhooks.failed(webhook.id(), token, error, backoff(attempts, properties.maxBackoff()));
                        return;
                    }
                    delivered.increment();
                    if (!webhooks.delivered(webhook.id(), token, page.nextCursor(), true)) {
                        return;
                    }
                }
                cursor = page.nextCursor();
                batchId = null;
                batchRows = null;
                attempts = 0;
                if (!page.more()) {
                    return;
                }
            }
        } finally {
            webhooks.release(webhook.id(), token);
        }
    }

    /** The wait before the next attempt after {@code attempts} failed ones: 1 s, 2 s, 4 s… up to {@code max}. */
    static Duration backoff(int attempts, Duration max) {
        if (attempts >= 31) {
            return max;
        }
        Duration wait = Duration.ofSeconds(1L << Math.max(0, attempts - 1));
        return wait.compareTo(max) > 0 ? max : wait;
    }

    /** Posts the batch; null when the receiver took it, what went wrong otherwise. */
    private String send(WebhookRepository.Row webhook, UUID batchId, List<ChangeFeed.Change> changes) {
        return post(webhook, "msg_" + batchId, new Payload("image.changes", Timestamps.format(Timestamps.now()),
                new Changes(webhook.id().toString(), changes))).error();
    }

    /** What a test request got: the receiver's status (0 without an answer), what went wrong, how long it took. */
    public record TestResult(boolean delivered, int status, String error, long tookMs) {
    }

    /**
     * Sends the webhook a signed {@code webhook.test} request now, outside its deliveries (its cursor and batch
     * stay as they are), for an admin setting up a receiver.
     */
    TestResult test(WebhookRepository.Row webhook) {
        long start = System.nanoTime();
        Attempt attempt = post(webhook, "msg_test_" + UUID.randomUUID(), new Payload("webhook.test",
                Timestamps.format(Timestamps.now()), new Test(webhook.id().toString())));
        return new TestResult(attempt.error() == null, attempt.status(), attempt.error(),
                (System.nanoTime() - start) / 1_000_000);
    }

    /** The receiver's status (0 when there was no answer), and null or what went wrong. */
    private record Attempt(int status, String error) {
    }

    /** Posts {@code payload} to the webhook, signed, under {@code messageId}. */
    private Attempt post(WebhookRepository.Row webhook, String messageId, Object payload) {
        List<String> secrets = webhook.signingSecrets(Timestamps.now());
        if (secrets.isEmpty()) {
            return new Attempt(0, "its signing secret does not open with the keys set; rotate its secret");
        }
        byte[] body = json.writeValueAsBytes(payload);
        long timestamp = System.currentTimeMillis() / 1000;
        HttpPost request = new HttpPost(webhook.url());
        request.setHeader("webhook-id", messageId);
        request.setHeader("webhook-timestamp", Long.toString(timestamp));
        request.setHeader("webhook-signature", secrets.stream()
                .map(secret -> WebhookSignature.sign(secret, messageId, timestamp, body))
                .collect(Collectors.joining(" ")));
        request.setEntity(new ByteArrayEntity(body, ContentType.create("application/json")));
        try {
            int status = http.execute(request, response -> {
                EntityUtils.consume(response.getEntity());
                return response.getCode();
            });
            if (status >= 200 && status < 300) {
                return new Attempt(status, null);
            }
            return new Attempt(status, "answered HTTP " + status
                    + (status >= 300 && status < 400 ? " (redirects are not followed)" : ""));
        } catch (CheckedAddresses.RefusedHostException e) {
            return new Attempt(0, e.getMessage());
        } catch (UnknownHostException e) {
            return new Attempt(0, "the host is not known");
        } catch (ConnectException e) {
            return new Attempt(0, "could not connect");
        } catch (InterruptedIOException e) {
            if (Thread.currentThread().isInterrupted()) {
                return new Attempt(0, "interrupted");
            }
            return new Attempt(0, "no answer within " + properties.timeout().toSeconds() + " s");
        } catch (IOException e) {
            return new Attempt(0, "could not send: " + (e.getMessage() == null ? e.getClass().getSimpleName()
                    : e.getMessage()));
        }
    }

    /**
     * The client that sends webhooks: it connects only to addresses it checked as it resolved them
     * ({@link CheckedAddresses}), follows no redirect (a webhook is sent where its admin said, nowhere else) and
     * retries nothing itself (a failed batch is sent again after its backoff).
     */
    static CloseableHttpClient client(WebhookProperties properties) {
        Timeout timeout = Timeout.of(properties.timeout());
        var connections = PoolingHttpClientConnectionManagerBuilder.create()
                .setDnsResolver(new CheckedAddresses(properties.allowLoopback()))
                .setMaxConnTotal(properties.senders())
                .setMaxConnPerRoute(properties.senders())
                .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(timeout)
                        .setSocketTimeout(timeout).build())
                .build();
        return HttpClients.custom()
                .setConnectionManager(connections)
                .setDefaultRequestConfig(RequestConfig.custom().setResponseTimeout(timeout).build())
                .disableRedirectHandling()
                .disableAutomaticRetries()
                .evictIdleConnections(TimeValue.ofSeconds(30))
                .setUserAgent("patient-image-service-webhooks")
                .build();
    }

    private static ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    @Override
    public void destroy() throws IOException {
        ticker.shutdownNow();
        senders.shutdownNow();
        http.close();
    }
}
