package org.patientimages.gateway.metadata;

import org.patientimages.gateway.web.ApiProblem;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ResponseEntity;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.stereotype.Component;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
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

    private final RestClient http;
    private final JsonMapper json;

    MetadataClient(MetadataProperties properties, JsonMapper json) {
        this.json = json;
        var factory = new JdkClientHttpRequestFactory(HttpClient.newBuilder()
                .connectTimeout(properties.connectTimeout())
                .version(HttpClient.Version.HTTP_1_1)
                .build());
        factory.setReadTimeout(properties.readTimeout());
        this.http = RestClient.builder()
                .baseUrl(properties.url().toString())
                .requestFactory(factory)
                .defaultStatusHandler(HttpStatusCode::isError, (request, response) -> {
                    throw problemOf(response.getStatusCode(), response.getBody().readAllBytes());
                })
                .build();
    }

    public JsonNode get(String path, Object... uriVariables) {
        return call(() -> http.get().uri(path, uriVariables).retrieve().body(JsonNode.class));
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
     * each value as a URI variable, so that it is encoded strictly ('&', '+' and '%' arrive as sent).
     */
    public JsonNode page(String path, org.springframework.util.MultiValueMap<String, String> query,
                         Object... uriVariables) {
        Map<String, Object> variables = new java.util.HashMap<>();
        for (int i = 0; i < uriVariables.length; i++) {
            variables.put("id", uriVariables[i]);
        }
        return call(() -> http.get().uri(u -> {
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
        }).retrieve().body(JsonNode.class));
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
            return request.get();
        } catch (ResourceAccessException e) {
            throw ApiProblem.unavailable("SERVICE_UNAVAILABLE",
                    "The service cannot accept this request right now; try again shortly.");
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
        return ApiProblem.unavailable("SERVICE_UNAVAILABLE",
                "The service cannot accept this request right now; try again shortly.");
    }
}
