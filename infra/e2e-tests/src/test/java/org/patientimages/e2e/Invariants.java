package org.patientimages.e2e;

import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.nio.file.Files;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The invariants of reliability.md, read from the database, the bucket and the staging area after a fault:
 * every job ended (a cancelled one with its image deleted and no object of it left); every SUCCEEDED image has exactly one object of its size and SHA-256; no object without
 * its image (a thumbnail only where the image records it); one event row per transition; the status never
 * went back.
 */
final class Invariants {

    private final TestStack stack;

    Invariants(TestStack stack) {
        this.stack = stack;
    }

    /**
     * A job as the database has it, with the number of event rows of each type; {@code keptForRetry} when it failed
     * for a passing cause and no job retries it yet (its staged bytes stay for a retry).
     */
    record JobRow(String jobId, String status, String imageId, String imageStatus, String sha256, long sizeBytes,
                  String objectKey, String thumbnailKey, String stagingKey, boolean retried, boolean keptForRetry,
                  Map<String, Integer> eventCounts, List<Integer> seqs) {
    }

    Map<String, JobRow> jobs() {
        Map<String, JobRow> jobs = new TreeMap<>();
        try (Connection c = DriverManager.getConnection(stack.postgres.jdbcUrl(TestStack.DATABASE), "postgres", "")) {
            try (ResultSet rs = c.createStatement().executeQuery("""
                    select j.id, j.status, i.id as image_id, i.status as image_status, i.sha256, i.size_bytes,
                           i.object_key, i.thumbnail_key, j.staging_key,
                           exists (select 1 from jobs r where r.retry_of = j.id) as retried,
                           j.status = 'FAILED' and j.error_retryable
                               and not exists (select 1 from jobs r where r.retry_of = j.id) as kept_for_retry
                    from jobs j join images i on i.id = j.image_id""")) {
                while (rs.next()) {
                    jobs.put(rs.getString("id"), new JobRow(rs.getString("id"), rs.getString("status"),
                            rs.getString("image_id"), rs.getString("image_status"), rs.getString("sha256"),
                            rs.getLong("size_bytes"), rs.getString("object_key"), rs.getString("thumbnail_key"),
                            rs.getString("staging_key"), rs.getBoolean("retried"), rs.getBoolean("kept_for_retry"),
                            new LinkedHashMap<>(),
                            new ArrayList<>()));
                }
            }
            try (ResultSet rs = c.createStatement().executeQuery(
                    "select job_id, seq, type from job_events order by job_id, seq")) {
                while (rs.next()) {
                    JobRow job = jobs.get(rs.getString("job_id"));
                    job.eventCounts().merge(rs.getString("type"), 1, Integer::sum);
                    job.seqs().add(rs.getInt("seq"));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return jobs;
    }

    /** Checks every invariant; {@code expectedSha256} maps job ids the test uploaded to their files' SHA-256. */
    void check(Map<String, String> expectedSha256) throws Exception {
        Map<String, JobRow> jobs = jobs();
        S3Client s3 = stack.s3Client();
        Map<String, S3Object> objects = new TreeMap<>();
        s3.listObjectsV2Paginator(b -> b.bucket(TestStack.BUCKET).prefix("images/")).contents()
                .forEach(o -> objects.put(o.key(), o));

        for (var expected : expectedSha256.entrySet()) {
            JobRow job = jobs.get(expected.getKey());
            assertThat(job).as("job %s was recorded", expected.getKey()).isNotNull();
            assertThat(job.status()).as("job %s ended successfully", job.jobId()).isEqualTo("SUCCEEDED");
            assertThat(job.sha256()).isEqualTo(expected.getValue());
        }
        Set<String> keptForRetry = jobs.values().stream().filter(JobRow::keptForRetry).map(JobRow::stagingKey)
                .collect(Collectors.toSet());
        for (JobRow job : jobs.values()) {
            assertThat(job.status()).as("job %s is not stuck", job.jobId()).isIn("SUCCEEDED", "FAILED", "CANCELLED");
            assertThat(job.seqs()).as("events of %s are numbered 1..n", job.jobId())
                    .isEqualTo(java.util.stream.IntStream.rangeClosed(1, job.seqs().size()).boxed().toList());
            assertThat(job.eventCounts().get("ACCEPTED")).as("ACCEPTED of %s", job.jobId()).isEqualTo(1);
            assertThat(job.eventCounts().getOrDefault("STORED", 0)).as("STORED of %s", job.jobId()).isLessThanOrEqualTo(1);
            assertThat(job.eventCounts().getOrDefault("SUCCEEDED", 0) + job.eventCounts().getOrDefault("FAILED", 0)
                    + job.eventCounts().getOrDefault("CANCELLED", 0)).as("one end of %s", job.jobId()).isEqualTo(1);
            assertThat(Files.exists(stack.staging.resolve(job.stagingKey())))
                    .as("staged file of ended job %s, kept only for a retry", job.jobId())
                    .isEqualTo(keptForRetry.contains(job.stagingKey()));
            String key = "images/" + job.imageId() + "/original";
            if (job.status().equals("SUCCEEDED")) {
                assertThat(job.imageStatus()).isEqualTo("AVAILABLE");
                assertThat(job.objectKey()).isEqualTo(key);
                assertThat(objects).as("object of %s", job.jobId()).containsKey(key);
                assertThat(objects.get(key).size()).isEqualTo(job.sizeBytes());
                byte[] bytes = s3.getObject(b -> b.bucket(TestStack.BUCKET).key(key), ResponseTransformer.toBytes())
                        .asByteArray();
                assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)))
                        .as("checksum of the stored object of %s", job.jobId()).isEqualTo(job.sha256());
            } else if (job.status().equals("CANCELLED")) {
                assertThat(job.imageStatus()).isEqualTo("DELETED");
                assertThat(objects.keySet()).as("objects of cancelled job %s", job.jobId())
                        .noneMatch(k -> k.startsWith("images/" + job.imageId() + "/"));
            } else if (!job.retried()) { // a retried job's image is its retry's
                assertThat(job.imageStatus()).isEqualTo("FAILED");
                assertThat(objects).as("object of failed job %s", job.jobId()).doesNotContainKey(key);
            }
        }
        List<String> imageKeys = new ArrayList<>();
        for (JobRow j : jobs.values()) {
            imageKeys.add("images/" + j.imageId() + "/original");
            if (j.thumbnailKey() != null) {
                imageKeys.add(j.thumbnailKey());
            }
        }
        assertThat(imageKeys).as("no object without its image row").containsAll(objects.keySet());
        assertThat(s3.listMultipartUploads(b -> b.bucket(TestStack.BUCKET)).uploads())
                .as("no multipart upload left open").isEmpty();
    }
}
