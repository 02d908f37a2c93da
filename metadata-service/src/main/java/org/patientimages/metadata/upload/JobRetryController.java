package org.patientimages.metadata.upload;

import org.patientimages.metadata.access.Caller;
import org.patientimages.metadata.job.Job;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Ids;
import org.patientimages.metadata.web.Paging;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.util.Map;
import java.util.UUID;

@RestController
class JobRetryController {

    private final JobRetry retries;

    JobRetryController(JobRetry retries) {
        this.retries = retries;
    }

    /** 201 with the new job that runs a failed one again; 200 with it when an earlier request made it. */
    @PostMapping("/internal/v1/jobs/{jobId}/retry")
    ResponseEntity<Job> retry(@PathVariable String jobId, Caller caller) {
        UUID id = Ids.parse(jobId).orElseThrow(() -> ApiException.notFound("JOB_NOT_FOUND",
                "No job with id " + jobId + "."));
        JobRetry.Retried retried = retries.retry(id, caller);
        return ResponseEntity.status(retried.replayed() ? HttpStatus.OK : HttpStatus.CREATED).body(retried.job());
    }

    /**
     * Retries the jobs that can be retried, up to {@code limit} (default 50, at most 500) of them, oldest failure first: for an
     * operator after an outage of the object store. {@code more} when others still await a retry.
     */
    @PostMapping("/internal/v1/jobs/retry-failed")
    JobRetry.RetriedAll retryAll(@RequestParam(required = false) Integer limit) {
        return retries.retryAll(Paging.limit(limit));
    }

    /** For the gateway's staging sweeper: whether the staged bytes of this key are still to be kept. */
    @GetMapping("/internal/v1/staging/{key}")
    Map<String, Boolean> staged(@PathVariable String key) {
        return Map.of("needed", Ids.parse(key).map(retries::stagedBytesNeeded).orElse(false));
    }
}
