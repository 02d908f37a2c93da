package org.patientimages.metadata;

import org.flywaydb.core.Flyway;
import org.patientimages.localstack.LocalPostgres;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;

/**
 * Integration tests extend this to run against a real PostgreSQL: one server for the whole test JVM, shared by
 * every test class (each works with patients of its own), stopped when the JVM exits.
 */
public abstract class RealPostgres {

    /** The key that seals webhook secrets in the tests, and one that sealed them before it. */
    public static final String SECRET_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    public static final String PREVIOUS_SECRET_KEY = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=";

    public static final LocalPostgres postgres = LocalPostgres.startTransient().createDatabase("patients_db");

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(postgres::close, "stop-postgres"));
    }

    /**
     * A database of its own on the shared server, with the service's migrations, for a test that fills it with
     * more rows than the others should see; a connection to it as its owner.
     */
    public static Connection migratedDatabase(String name) throws SQLException {
        String url = postgres.createDatabase(name).jdbcUrl(name);
        Flyway.configure().dataSource(url, "postgres", "").placeholders(Map.of("appRole", "patient_images_app"))
                .load().migrate();
        return DriverManager.getConnection(url, "postgres", "");
    }

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        registry.add("spring.datasource.url", () -> postgres.jdbcUrl("patients_db"));
        // the tests ask for due integrity checks themselves: no context's scheduler may take their images first
        registry.add("patient-images.integrity.interval", () -> "1h");
        // and purge themselves the deleted images whose recovery window they closed
        registry.add("patient-images.deletion.purge-interval", () -> "1h");
        // a bulk derivation's images marked in chunks of 4: the tests' few images take several
        registry.add("patient-images.integrity.derive-chunk", () -> "4");
        // webhooks' receivers in the tests listen on this machine
        registry.add("patient-images.webhooks.allow-loopback", () -> "true");
        registry.add("patient-images.webhooks.secret-key", () -> SECRET_KEY);
        registry.add("patient-images.webhooks.previous-secret-keys", () -> PREVIOUS_SECRET_KEY);
    }
}
