package org.patientimages.metadata.webhook;

import org.patientimages.metadata.access.Caller;
import org.patientimages.metadata.feed.ChangeFeed;
import org.patientimages.metadata.patient.VisiblePatients;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Ids;
import org.patientimages.metadata.web.Page;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.net.URI;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/** Webhooks, for admins: endpoints of other systems that are sent the change feed as it grows. */
@RestController
@RequestMapping("/internal/v1/webhooks")
class WebhookController {

    /** What an admin asks for: where to send, and optionally one patient's changes only, or some types only. */
    record NewWebhook(String url, String patientId, List<String> types) {
    }

    /** The most webhooks an installation may have: each is a query of the feed every second. */
    static final int MAX_WEBHOOKS = 100;

    private static final List<String> TYPES = Arrays.stream(ChangeFeed.Type.values()).map(Enum::name).toList();

    private final WebhookRepository webhooks;
    private final ChangeFeed feed;
    private final VisiblePatients visible;
    private final WebhookProperties properties;
    private final WebhookDelivery delivery;

    WebhookController(WebhookRepository webhooks, ChangeFeed feed, VisiblePatients visible,
                      WebhookProperties properties, WebhookDelivery delivery) {
        this.webhooks = webhooks;
        this.feed = feed;
        this.visible = visible;
        this.properties = properties;
        this.delivery = delivery;
    }

    /**
     * A new webhook, sent the changes made from now on. The answer is the only one with its {@code secret}, the
     * key by which the receiver checks each request's signature.
     */
    @PostMapping
    ResponseEntity<Webhook> create(@RequestBody NewWebhook request, Caller caller) {
        caller.requireAdmin("manage webhooks");
        URI url = WebhookTarget.parse(request.url(), properties.allowLoopback());
        UUID patient = request.patientId() == null ? null : visible.require(request.patientId(), caller);
        List<String> types = request.types() == null ? null : request.types().stream().distinct().toList();
        if (types != null && (types.isEmpty() || !TYPES.containsAll(types))) {
            throw ApiException.badRequest("INVALID_WEBHOOK", "types must be some of " + TYPES
                    + ", or left out for every type.");
        }
        if (webhooks.count() >= MAX_WEBHOOKS) {
            throw ApiException.conflict("TOO_MANY_WEBHOOKS", "There are " + MAX_WEBHOOKS
                    + " webhooks already; delete one first.");
        }
        Instant now = Timestamps.now();
        var row = new WebhookRepository.Row(UUID.randomUUID(), url.toString(), WebhookSignature.newSecret(), patient,
                types, caller.name(), now, feed.latest().nextCursor(), null, null, 0, now, null, null, null, null, null,
                null);
        webhooks.insert(row);
        return ResponseEntity.created(URI.create("/v1/webhooks/" + row.id())).body(row.toApi(true));
    }

    @GetMapping
    Page<Webhook> list(Caller caller) {
        caller.requireAdmin("manage webhooks");
        // an installation has a handful: one page
        return new Page<>(webhooks.list().stream().map(row -> row.toApi(false)).toList(), null);
    }

    @GetMapping("/{webhookId}")
    Webhook get(@PathVariable String webhookId, Caller caller) {
        caller.requireAdmin("manage webhooks");
        return Ids.parse(webhookId).flatMap(webhooks::find).orElseThrow(() -> notFound(webhookId)).toApi(false);
    }

    /**
     * A new secret for the webhook (a leaked one, or a scheduled change): the answer is the only one that shows it.
     * The secret it replaces keeps signing each request too for {@code secret-overlap}, so that the receiver can
     * take the new one meanwhile without a request it cannot verify.
     */
    @PostMapping("/{webhookId}/rotate-secret")
    Webhook rotateSecret(@PathVariable String webhookId, Caller caller) {
        caller.requireAdmin("manage webhooks");
        return Ids.parse(webhookId).flatMap(id -> webhooks.rotate(id, WebhookSignature.newSecret(),
                Timestamps.now().plus(properties.secretOverlap()))).orElseThrow(() -> notFound(webhookId)).toApi(true);
    }

    /**
     * Sends the webhook a signed {@code webhook.test} request at once and answers how it went, for an admin
     * setting up its receiver. Its deliveries are not touched.
     */
    @PostMapping("/{webhookId}/test")
    WebhookDelivery.TestResult test(@PathVariable String webhookId, Caller caller) {
        caller.requireAdmin("manage webhooks");
        return delivery.test(Ids.parse(webhookId).flatMap(webhooks::find).orElseThrow(() -> notFound(webhookId)));
    }

    /**
     * Sends again at once: a failing webhook's batch without waiting out its backoff (its receiver is mended), and
     * a disabled one's from the oldest change the feed still keeps (what was pruned before is not sent: its
     * receiver syncs that by searching). An active webhook is only looked at sooner.
     */
    @PostMapping("/{webhookId}/resume")
    Webhook resume(@PathVariable String webhookId, Caller caller) {
        caller.requireAdmin("manage webhooks");
        return Ids.parse(webhookId).flatMap(id -> webhooks.resume(id, feed.oldest()))
                .orElseThrow(() -> notFound(webhookId)).toApi(false);
    }

    /** Removes the webhook: nothing more is sent to it (a request already under way still ends). */
    @DeleteMapping("/{webhookId}")
    ResponseEntity<Void> delete(@PathVariable String webhookId, Caller caller) {
        caller.requireAdmin("manage webhooks");
        if (!Ids.parse(webhookId).map(webhooks::delete).orElse(false)) {
            throw notFound(webhookId);
        }
        return ResponseEntity.noContent().build();
    }

    private static ApiException notFound(String webhookId) {
        return ApiException.notFound("WEBHOOK_NOT_FOUND", "No webhook " + webhookId + ".");
    }
}
