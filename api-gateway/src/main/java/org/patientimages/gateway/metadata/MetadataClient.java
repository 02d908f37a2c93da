package org.patientimages.gateway.metadata;

import org.patientimages.gateway.audit.AuditContext;
import org.patientimages.gateway.audit.AuditFilter;
import org.patientimages.gateway.security.Roles;
import org.slf4j.MDC;
import org.springframework.http.HttpHeaders;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;

import org.patientimages.gateway.web.ApiProblem;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ResponseEntity;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ConnectionRequestTimeoutException;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;
import org.springframework.http.client.HttpComponentsClientHttpRequestFactory;
import org.springframework.stereotype.Component;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.ConnectException;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The metadata-service's internal API. Its problem answers (4xx) reach the client with their code and
 * detail; when it cannot be reached or fails, the client gets 503 with {@code retryable: true}.
 */
@Component
public class MetadataClient {

    @ConfigurationProperties("patient-images.metadata")
    public record MetadataProperties(@DefaultValue("http://127.0.0.1:9798") URI url,
                                     @DefaultValue("2s") Duration connectTimeout,
                                     @DefaultValue("30s") Duration readTimeout) {
    }

    /** The metadata-service's marks on a 404 that hides a denial, for the audit trail only. */
    private static final String DENIED_HEADER = "X-Access-Denied";
    private static final String PATIENT_HEADER = "X-Patient-Id";

    /** At least the request threads of the gateway (Tomcat's 200), each of which may call at once. */
    private static final int MAX_CONNECTIONS = 256;
    private static final String UNAVAILABLE = "The service cannot accept this request right now; try again shortly.";

    private final RestClient http;
    private final JsonMapper json;

    MetadataClient(MetadataProperties properties, JsonMapper json) {
        this.json = json;
        this.http = RestClient.builder()
                .baseUrl(properties.url().toString())
                .requestFactory(new HttpComponentsClientHttpRequestFactory(httpClient(properties)))
                .requestInterceptor((request, body, execution) -> {
                    nameTheCaller(request.getHeaders());
                    return execution.execute(request, body);
                })
                .defaultStatusHandler(HttpStatusCode::isError, (request, response) -> {
                    if ("true".equals(response.getHeaders().getFirst(DENIED_HEADER))) {
                        AuditContext.noteDenied();
                        AuditContext.notePatient(response.getHeaders().getFirst(PATIENT_HEADER));
                    }
                    throw problemOf(response.getStatusCode(), response.getBody().readAllBytes());
                })
                .build();
    }

    /**
     * Blocking calls on the request's own thread, over kept-alive connections, as many at once as the gateway
     * has request threads. Apache HttpClient rather than the JDK's, whose asynchronous client hands every call to
     * two other threads and back and builds an exception to close each answer. No automatic retries: what the
     * metadata-service refuses or fails reaches the client as it is.
     */
    private static CloseableHttpClient httpClient(MetadataProperties properties) {
        var connections = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnTotal(MAX_CONNECTIONS)
                .setMaxConnPerRoute(MAX_CONNECTIONS)
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.of(properties.connectTimeout()))
                        .setSocketTimeout(Timeout.of(properties.readTimeout()))
                        .build())
                .build();
        return HttpClients.custom()
                .setConnectionManager(connections)
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setResponseTimeout(Timeout.of(properties.readTimeout()))
                        .build())
                .disableAutomaticRetries()
                .evictIdleConnections(TimeValue.ofSeconds(30))
                .build();
    }

    /**
     * The caller (the token's user and roles) and the request id go with every internal call: the
     * metadata-service decides from them which patients the caller may see. Background calls name no caller.
     */
    private static void nameTheCaller(HttpHeaders headers) {
        Authentication caller = SecurityContextHolder.getContext().getAuthentication();
        if (caller instanceof JwtAuthenticationToken) {
            headers.set("X-Caller", caller.getName());
            headers.set("X-Caller-Roles", Roles.of(caller));
        }
        String requestId = MDC.get(AuditFilter.REQUEST_ID_MDC);
        if (requestId != null) {
            headers.set(AuditFilter.REQUEST_ID_HEADER, requestId);
        }
    }

    public JsonNode get(String path, Object... uriVariables) {
        return call(() -> http.get().uri(path, uriVariables).retrieve().body(JsonNode.class));
    }

    /** An answer that is a single resource names its patient: the audit record of this request will too. */
    private static void noted(Object answer) {
        Object body = answer instanceof ResponseEntity<?> entity ? entity.getBody() : answer;
        if (body instanceof JsonNode resource && resource.hasNonNull("patientId")) {
            AuditContext.notePatient(resource.path("patientId").asString());
        }
    }

    /** Appends records to the audit trail, in one transaction. */
    public void appendAudit(java.util.List<?> records) {
        call(() -> http.post().uri("/internal/v1/audit").body(Map.of("records", records)).retrieve().toBodilessEntity());
    }

    public JsonNode get(String path, Map<String, ?> query, Object... uriVariables) {
        return call(() -> http.get().uri(u -> {
            u.path(path);
            query.forEach((k, v) -> {
                if (v != null) {
                    u.queryParam(k, v);
                }
            });
            return u.build(uriVariables);
        }).retrieve().body(JsonNode.class));
    }

    /**
     * A list or search: the client's query parameters are passed on as they came (the service checks them),
     * a {@code patientId} among them noted for the request's audit record,
     * each value as a URI variable, so that it is encoded strictly ('&', '+' and '%' arrive as sent).
     */
    public JsonNode page(String path, org.springframework.util.MultiValueMap<String, String> query,
                         Object... uriVariables) {
        return call(() -> http.get().uri(withQuery(path, query, uriVariables)).retrieve().body(JsonNode.class));
    }

    /** A POST whose parameters are the client's query, passed on as {@link #page} passes them; no body. */
    public ResponseEntity<JsonNode> post(String path, org.springframework.util.MultiValueMap<String, String> query) {
        return call(() -> http.post().uri(withQuery(path, query)).retrieve().toEntity(JsonNode.class));
    }

    /**
     * The URI of {@code path} (its {@code {id}} the URI variable) with the client's query, each value a URI variable;
     * a {@code patientId} among them is noted: the request's audit record names that patient.
     */
    private static java.util.function.Function<org.springframework.web.util.UriBuilder, URI> withQuery(
            String path, org.springframework.util.MultiValueMap<String, String> query, Object... uriVariables) {
        AuditContext.notePatient(query.getFirst("patientId"));
        Map<String, Object> variables = new java.util.HashMap<>();
        for (Object uriVariable : uriVariables) {
            variables.put("id", uriVariable);
        }
        return u -> {
            u.path(path);
            int n = 0;
            for (var entry : query.entrySet()) {
                for (String value : entry.getValue()) {
                    String name = "q" + n++;
                    variables.put(name, value);
                    variables.put(name + "k", entry.getKey());
                    u.queryParam("{" + name + "k}", "{" + name + "}");
                }
            }
            return u.build(variables);
        };
    }

    /** Like {@link #get(String, Map, Object...)}, but empty when the answer is 404. */
    public Optional<JsonNode> find(String path, Map<String, ?> query, Object... uriVariables) {
        try {
            return Optional.of(get(path, query, uriVariables));
        } catch (ApiProblem e) {
            if (e.status().value() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    public ResponseEntity<JsonNode> post(String path, Object body) {
        return call(() -> http.post().uri(path).body(body).retrieve().toEntity(JsonNode.class));
    }

    /** Any other call: the answer's status and body, or the service's problem. */
    public ResponseEntity<JsonNode> exchange(org.springframework.http.HttpMethod method, String path, Object body,
                                             Object... uriVariables) {
        return call(() -> {
            var request = http.method(method).uri(path, uriVariables);
            if (body != null) {
                request.body(body);
            }
            return request.retrieve().toEntity(JsonNode.class);
        });
    }

    /** Whether the metadata-service answers its health check. */
    public boolean isUp() {
        try {
            JsonNode health = http.get().uri("/actuator/health").retrieve().body(JsonNode.class);
            return health != null && "UP".equals(health.path("status").asString());
        } catch (RuntimeException e) {
            return false;
        }
    }

    private <T> T call(java.util.function.Supplier<T> request) {
        try {
            T answer = request.get();
            noted(answer);
            return answer;
        } catch (ResourceAccessException e) {
            if (neverSent(e)) {
                throw ApiProblem.unavailable("SERVICE_UNAVAILABLE", UNAVAILABLE);
            }
            throw new AnswerLost();
        }
    }

    /** The connection was never made (refused, timed out, no pooled connection free): the request did not arrive. */
    private static boolean neverSent(ResourceAccessException e) {
        return e.getCause() instanceof ConnectException || e.getCause() instanceof ConnectTimeoutException
                || e.getCause() instanceof ConnectionRequestTimeoutException;
    }

    /**
     * The request went out but its answer never came (the connection broke, the read timed out, the service died
     * mid-call): the service may have done what was asked. The client gets the same 503; a caller whose request
     * changes something must not undo its own side as if it had been refused. Any 5xx answer, by contrast, is
     * the service's own: its transaction was rolled back.
     */
    public static final class AnswerLost extends ApiProblem {
        AnswerLost() {
            super(org.springframework.http.HttpStatus.SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE", UNAVAILABLE, true);
        }
    }

    private ApiProblem problemOf(HttpStatusCode status, byte[] body) {
        if (status.is4xxClientError()) {
            try {
                JsonNode problem = json.readTree(body);
                return new ApiProblem(status, problem.path("code").asString("ERROR"),
                        problem.path("detail").asString(""), problem.path("retryable").asBoolean(false));
            } catch (RuntimeException unreadable) {
                // fall through: not a problem document
            }
        }
        return ApiProblem.unavailable("SERVICE_UNAVAILABLE", UNAVAILABLE);
    }
}
