package org.patientimages.gateway;

import org.patientimages.localstack.testing.TestHttp;
import org.springframework.boot.test.web.server.LocalServerPort;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import org.yaml.snakeyaml.Yaml;

import java.io.InputStream;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** The OpenAPI document and the controllers describe the same public operations. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"patient-images.staging.directory=target/test-staging",
                "patient-images.resumable.directory=target/test-resumable",
                "patient-images.audit.journal=target/test-audit-journal", "management.server.port=0"})
class OpenApiDocumentTest {

    @LocalServerPort
    int port;

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    RequestMappingHandlerMapping mappings;

    @Test
    void every_public_operation_is_documented_and_every_documented_operation_exists() throws Exception {
        Set<String> implemented = new TreeSet<>();
        mappings.getHandlerMethods().keySet().forEach(info -> info.getPatternValues().stream()
                .filter(path -> path.startsWith("/v1/"))
                .forEach(path -> info.getMethodsCondition().getMethods()
                        .forEach(method -> implemented.add(method.name() + " " + path))));

        Set<String> documented = new TreeSet<>();
        try (InputStream in = getClass().getResourceAsStream("/static/openapi.yaml")) {
            Map<String, Object> document = new Yaml().load(in);
            @SuppressWarnings("unchecked")
            Map<String, Map<String, Object>> paths = (Map<String, Map<String, Object>>) document.get("paths");
            paths.forEach((path, operations) -> operations.keySet()
                    .forEach(method -> documented.add(method.toUpperCase() + " " + path)));
        }

        assertThat(implemented).isNotEmpty().isEqualTo(documented);

        // what springdoc generates from the code, served without a token at /v3/api-docs, says the same
        TestHttp.Answer apiDocs = new TestHttp("http://127.0.0.1:" + port).get("/v3/api-docs");
        assertThat(apiDocs.status()).isEqualTo(200);
        Set<String> generated = new TreeSet<>();
        apiDocs.json().path("paths").properties().forEach(path -> path.getValue().propertyNames()
                .forEach(method -> generated.add(method.toUpperCase() + " " + path.getKey())));
        assertThat(generated).isEqualTo(documented);
        assertThat(new TestHttp("http://127.0.0.1:" + port).get("/swagger-ui/index.html").status()).isEqualTo(200);
        assertThat(new TestHttp("http://127.0.0.1:" + port).get("/v1/patients").status()).isEqualTo(401);
    }
}
