package org.patientimages.metadata;

import org.patientimages.localstack.LocalPostgres;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Integration tests extend this to run against a real PostgreSQL: one server for the whole test JVM, shared by
 * every test class (each works with patients of its own), stopped when the JVM exits.
 */
public abstract class RealPostgres {

    public static final LocalPostgres postgres = LocalPostgres.startTransient().createDatabase("patients_db");

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(postgres::close, "stop-postgres"));
    }

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        registry.add("spring.datasource.url", () -> postgres.jdbcUrl("patients_db"));
        // the tests ask for due integrity checks themselves: no context's scheduler may take their images first
        registry.add("patient-images.integrity.interval", () -> "1h");
        // and purge themselves the deleted images whose recovery window they closed
        registry.add("patient-images.deletion.purge-interval", () -> "1h");
        // webhooks' receivers in the tests listen on this machine
        registry.add("patient-images.webhooks.allow-loopback", () -> "true");
    }
}
