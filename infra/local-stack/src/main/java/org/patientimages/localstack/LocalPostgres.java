package org.patientimages.localstack;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;

/**
 * A real PostgreSQL 17 server from the binaries that zonky ships on Maven Central. As root it runs through
 * {@code unshare -U}, which zonky does on its own. With a data directory the data survives a restart.
 */
public final class LocalPostgres implements AutoCloseable {

    public static final String USER = "postgres";
    /** The metadata-service's own role: not the owner of the schema, so the audit log stays append-only for it. */
    public static final String APP_ROLE = "patient_images_app";

    private final EmbeddedPostgres postgres;

    private LocalPostgres(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    /** A throw-away server on a free port, for tests. */
    public static LocalPostgres startTransient() {
        return start(0, null);
    }

    /**
     * Starts a server.
     *
     * @param port    0 for a free port
     * @param dataDir where the cluster lives; {@code null} for a fresh temporary one
     */
    public static LocalPostgres start(int port, Path dataDir) {
        try {
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("max_connections", "200");
            if (port > 0) {
                builder.setPort(port);
            }
            if (dataDir != null) {
                // kept data is kept for real: zonky turns fsync and synchronous commit off for speed
                Files.createDirectories(dataDir);
                builder.setDataDirectory(dataDir).setCleanDataDirectory(false)
                        .setServerConfig("fsync", "on")
                        .setServerConfig("synchronous_commit", "on");
            }
            return new LocalPostgres(builder.start());
        } catch (IOException e) {
            throw new IllegalStateException("PostgreSQL did not start: " + e.getMessage(), e);
        }
    }

    public int port() {
        return postgres.getPort();
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database;
    }

    /** Creates the database unless it exists, and the application's login role unless it exists. */
    public LocalPostgres createDatabase(String database) {
        if (!database.matches("[a-z_][a-z0-9_]*")) {
            throw new IllegalArgumentException("not a plain database name: " + database);
        }
        try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"), USER, "");
             var exists = c.prepareStatement("select 1 from pg_database where datname = ?")) {
            exists.setString(1, database);
            try (var rs = exists.executeQuery()) {
                if (!rs.next()) {
                    try (var create = c.createStatement()) {
                        create.execute("create database " + database);
                    }
                }
            }
            try (var create = c.createStatement()) {
                create.execute("do $$ begin if not exists (select 1 from pg_roles where rolname = '" + APP_ROLE
                        + "') then create role " + APP_ROLE + " login; end if; end $$");
            }
            return this;
        } catch (SQLException e) {
            throw new IllegalStateException("could not create database " + database, e);
        }
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new IllegalStateException("PostgreSQL did not stop cleanly", e);
        }
    }
}
