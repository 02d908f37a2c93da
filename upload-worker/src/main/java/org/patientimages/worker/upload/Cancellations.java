package org.patientimages.worker.upload;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The jobs clients cancelled, as this worker heard of them (from {@link CancellationListener}). A job it comes to
 * afterwards is skipped, and one it is retrying is not tried again. A cancellation it has not heard of yet changes
 * nothing that matters: the metadata-service ignores what such a job reports and has its objects removed. The most
 * recent 100,000 are remembered.
 */
@Component
public class Cancellations {

    private static final Logger log = LoggerFactory.getLogger(Cancellations.class);
    private static final int REMEMBERED = 100_000;

    private final Set<String> cancelled = Collections.newSetFromMap(Collections.synchronizedMap(
            new LinkedHashMap<>(1024, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > REMEMBERED;
                }
            }));

    void cancelled(String jobId) {
        if (cancelled.add(jobId)) {
            log.info("job {} was cancelled", jobId);
        }
    }

    public boolean isCancelled(String jobId) {
        return cancelled.contains(jobId);
    }
}
