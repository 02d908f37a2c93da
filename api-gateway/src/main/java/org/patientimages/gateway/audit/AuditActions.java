package org.patientimages.gateway.audit;

import org.springframework.http.server.PathContainer;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;

import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/** What a public call does, in the audit trail's words: its action and the resource it names. */
final class AuditActions {

    /** One kind of call; {@code idVariable} is the path variable naming the resource, if any. */
    record Action(String name, String resourceType, String idVariable) {
    }

    /** A call matched: its action, the resource id from the path and the patient id when the path names one. */
    record Match(Action action, String resourceId, String patientId) {
    }

    /** {@code flag}: a query parameter that must be {@code true} for this route (a variant of the next one). */
    private record Route(String method, PathPattern pattern, String flag, Action action) {

        /** The same call with {@code ?parameter=true}, under an action of its own. */
        Route when(String parameter) {
            return new Route(method, pattern, parameter, action);
        }
    }

    private static final PathPatternParser PARSER = new PathPatternParser();

    private static final List<Route> ROUTES = Stream.concat(Stream.of(
            route("POST", "/v1/patients", "patient.create", "patient", null),
            route("GET", "/v1/patients", "patient.list", "patient", null),
            route("GET", "/v1/patients/{patientId}", "patient.read", "patient", "patientId"),
            route("PATCH", "/v1/patients/{patientId}", "patient.update", "patient", "patientId"),
            // a deletion with purge=true removes the objects at once, past any restoring
            route("DELETE", "/v1/patients/{patientId}", "patient.purge", "patient", "patientId").when("purge"),
            route("DELETE", "/v1/patients/{patientId}", "patient.delete", "patient", "patientId"),
            route("POST", "/v1/patients/{patientId}/restore", "patient.restore", "patient", "patientId"),
            route("POST", "/v1/patients/{patientId}/merge", "patient.merge", "patient", "patientId"),
            route("POST", "/v1/patients/{patientId}/unmerge", "patient.unmerge", "patient", "patientId"),
            route("PUT", "/v1/patients/{patientId}/legal-hold", "patient.legal-hold", "patient", "patientId"),
            route("DELETE", "/v1/patients/{patientId}/legal-hold", "patient.legal-hold-release", "patient", "patientId"),
            route("GET", "/v1/patients/{patientId}/grants", "grant.list", "patient", "patientId"),
            route("PUT", "/v1/patients/{patientId}/grants/{username}", "grant.create", "grant", "username"),
            route("DELETE", "/v1/patients/{patientId}/grants/{username}", "grant.delete", "grant", "username"),
            route("POST", "/v1/patients/{patientId}/images", "image.upload", "image", null),
            route("POST", "/v1/patients/{patientId}/images/archive", "image.upload-archive", "image", null),
            route("GET", "/v1/patients/{patientId}/images/archive", "image.archive-download", "image", null),
            route("GET", "/v1/patients/{patientId}/images", "image.list", "image", null),
            route("GET", "/v1/patients/{patientId}/studies", "study.list", "patient", "patientId"),
            route("POST", "/v1/patients/{patientId}/uploads", "upload.create", "upload", null),
            route("HEAD", "/v1/uploads/{uploadId}", "upload.read", "upload", "uploadId"),
            route("GET", "/v1/uploads/{uploadId}", "upload.read", "upload", "uploadId"),
            route("PATCH", "/v1/uploads/{uploadId}", "upload.append", "upload", "uploadId"),
            route("POST", "/v1/uploads/{uploadId}", "upload.append", "upload", "uploadId"),
            route("DELETE", "/v1/uploads/{uploadId}", "upload.delete", "upload", "uploadId"),
            route("GET", "/v1/images", "image.search", "image", null),
            route("GET", "/v1/images/{imageId}", "image.read", "image", "imageId"),
            route("PATCH", "/v1/images/{imageId}", "image.update", "image", "imageId"),
            route("DELETE", "/v1/images/{imageId}", "image.purge", "image", "imageId").when("purge"),
            route("DELETE", "/v1/images/{imageId}", "image.delete", "image", "imageId"),
            route("POST", "/v1/images/{imageId}/restore", "image.restore", "image", "imageId"),
            route("GET", "/v1/images/{imageId}/content", "image.download", "image", "imageId"),
            route("GET", "/v1/images/{imageId}/thumbnail", "image.thumbnail", "image", "imageId"),
            route("PUT", "/v1/images/{imageId}/tags", "image.tag", "image", "imageId"),
            route("POST", "/v1/images/{imageId}/tags", "image.tag", "image", "imageId"),
            route("DELETE", "/v1/images/{imageId}/tags/{tag}", "image.tag", "image", "imageId"),
            route("POST", "/v1/images/{imageId}/move", "image.move", "image", "imageId"),
            route("POST", "/v1/images/{imageId}/integrity-checks", "image.integrity-check", "image", "imageId"),
            route("POST", "/v1/images/{imageId}/derivations", "image.derive", "image", "imageId"),
            route("POST", "/v1/images/derivations", "image.derive-all", "image", null),
            route("GET", "/v1/changes", "change.read", "image", null),
            route("GET", "/v1/storage/orphans", "storage.orphans", "storage", null),
            route("POST", "/v1/storage/orphans/{imageId}/adopt", "storage.adopt", "image", "imageId"),
            route("DELETE", "/v1/storage/orphans/{imageId}", "storage.orphan-delete", "image", "imageId"),
            route("POST", "/v1/webhooks", "webhook.create", "webhook", null),
            route("GET", "/v1/webhooks", "webhook.list", "webhook", null),
            route("GET", "/v1/webhooks/{webhookId}", "webhook.read", "webhook", "webhookId"),
            route("POST", "/v1/webhooks/{webhookId}/rotate-secret", "webhook.rotate-secret", "webhook", "webhookId"),
            route("POST", "/v1/webhooks/{webhookId}/test", "webhook.test", "webhook", "webhookId"),
            route("POST", "/v1/webhooks/{webhookId}/resume", "webhook.resume", "webhook", "webhookId"),
            route("DELETE", "/v1/webhooks/{webhookId}", "webhook.delete", "webhook", "webhookId"),
            route("GET", "/v1/jobs", "job.list", "job", null),
            route("GET", "/v1/jobs/{jobId}", "job.read", "job", "jobId"),
            route("GET", "/v1/jobs/{jobId}/events", "job.read", "job", "jobId"),
            route("POST", "/v1/jobs/{jobId}/cancel", "job.cancel", "job", "jobId"),
            route("POST", "/v1/jobs/{jobId}/retry", "job.retry", "job", "jobId"),
            route("POST", "/v1/jobs/retry-failed", "job.retry-failed", "job", null),
            route("GET", "/v1/audit", "audit.read", "audit", null)),
            // the same DICOMweb store, search and retrieval at a patient's root and at the service's
            Stream.of("/v1/patients/{patientId}/dicomweb", "/v1/dicomweb").flatMap(AuditActions::dicomweb)).toList();

    private static final Action OTHER = new Action("other", null, null);

    private AuditActions() {
    }

    /** DICOMweb's store, searches and retrievals (thumbnails too) under a root; the study UID names the resource. */
    private static Stream<Route> dicomweb(String root) {
        return Stream.of(
                route("POST", root + "/studies", "image.store-instances", "image", null),
                route("GET", root + "/studies", "dicomweb.search", "study", null),
                route("GET", root + "/instances", "dicomweb.search", "study", null),
                route("GET", root + "/studies/{study}/series", "dicomweb.search", "study", "study"),
                route("GET", root + "/studies/{study}/instances", "dicomweb.search", "study", "study"),
                route("GET", root + "/studies/{study}/series/{series}/instances", "dicomweb.search", "study", "study"),
                // a study, a series, an instance and their thumbnails ("/**" also matches none more)
                route("GET", root + "/studies/{study}/**", "dicomweb.retrieve", "study", "study"));
    }

    private static Route route(String method, String pattern, String name, String type, String idVariable) {
        return new Route(method, PARSER.parse(pattern), null, new Action(name, type, idVariable));
    }

    /** The call's action; {@code parameters} gives a query parameter's value by name (null when absent). */
    static Match match(String method, String path, UnaryOperator<String> parameters) {
        PathContainer container = PathContainer.parsePath(path);
        for (Route route : ROUTES) {
            if (!route.method.equals(method) || route.flag != null && !"true".equals(parameters.apply(route.flag))) {
                continue;
            }
            PathPattern.PathMatchInfo info = route.pattern.matchAndExtract(container);
            if (info != null) {
                Map<String, String> variables = info.getUriVariables();
                String id = route.action.idVariable() == null ? null : variables.get(route.action.idVariable());
                return new Match(route.action, id, variables.get("patientId"));
            }
        }
        return new Match(OTHER, null, null);
    }
}
