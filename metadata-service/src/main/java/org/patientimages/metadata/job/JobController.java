package org.patientimages.metadata.job;

import org.patientimages.metadata.access.Caller;
import org.patientimages.metadata.access.PatientAccess;

import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Ids;
import org.patientimages.metadata.web.Page;
import org.patientimages.metadata.web.Paging;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.UUID;

@RestController
@RequestMapping("/internal/v1/jobs")
class JobController {

    private final JobRepository jobs;
    private final PatientAccess access;
    private final JobCancellation cancellation;

    JobController(JobRepository jobs, PatientAccess access, JobCancellation cancellation) {
        this.jobs = jobs;
        this.access = access;
        this.cancellation = cancellation;
    }

    /**
     * Jobs newest first, by status and/or patient: what failed, what waits, one patient's. Every list stays on an
     * index: without a patient, the status is one of the few (QUEUED, RUNNING, FAILED).
     */
    @GetMapping
    Page<Job> list(@RequestParam(required = false) String status, @RequestParam(required = false) String patientId,
                   @RequestParam(required = false) Integer limit, @RequestParam(required = false) String cursor,
                   Caller caller) {
        JobStatus wanted = status == null ? null : Arrays.stream(JobStatus.values())
                .filter(s -> s.name().equals(status)).findFirst().orElseThrow(() -> ApiException.badRequest(
                        "INVALID_STATUS", "status is one of " + Arrays.toString(JobStatus.values()) + "."));
        UUID patient = patientId == null ? null : Ids.parse(patientId).orElseThrow(() -> ApiException.badRequest(
                "INVALID_PATIENT_ID", "patientId is not a patient's id."));
        if (patient == null && !LISTED_ALONE.contains(wanted)) {
            throw ApiException.badRequest("INVALID_JOB_FILTER",
                    "Name a patient, or a status of " + LISTED_ALONE + ", whose jobs are few.");
        }
        int n = Paging.limit(limit);
        var rows = jobs.list(wanted, patient, caller.restricted() ? caller.name() : null, Paging.after(cursor), n);
        Page<JobRepository.Listed> page = Paging.page(rows, n, r -> Paging.cursor(r.key().at(), r.key().id()));
        return new Page<>(page.items().stream().map(JobRepository.Listed::job).toList(), page.nextCursor());
    }

    /** The statuses whose jobs may be listed across patients: each has a partial index, and they are few. */
    private static final Set<JobStatus> LISTED_ALONE = EnumSet.of(JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED);

    @GetMapping("/{jobId}")
    Job get(@PathVariable String jobId, Caller caller) {
        Job job = jobs.find(existing(jobId)).orElseThrow(() -> notFound(jobId));
        access.require(caller, UUID.fromString(job.patientId()), () -> notFound(jobId));
        return job;
    }

    @GetMapping("/{jobId}/events")
    Page<JobEventView> events(@PathVariable String jobId,
                              @RequestParam(required = false) Integer limit,
                              @RequestParam(required = false) String cursor, Caller caller) {
        UUID id = UUID.fromString(get(jobId, caller).jobId());
        int n = Paging.limit(limit);
        String[] after = Paging.decode(cursor, 1);
        int afterSeq;
        try {
            afterSeq = after == null ? 0 : Integer.parseInt(after[0]);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("INVALID_CURSOR", "cursor is not one this service issued.");
        }
        return Paging.page(jobs.events(id, afterSeq, n), n, e -> Paging.encode(Integer.toString(e.seq())));
    }

    /** Cancels a job that has not ended; its image is deleted. */
    @PostMapping("/{jobId}/cancel")
    Job cancel(@PathVariable String jobId, Caller caller) {
        UUID id = UUID.fromString(get(jobId, caller).jobId());
        return cancellation.cancel(id, caller.name());
    }

    private static UUID existing(String jobId) {
        return Ids.parse(jobId).orElseThrow(() -> notFound(jobId));
    }

    private static ApiException notFound(String jobId) {
        return ApiException.notFound("JOB_NOT_FOUND", "No job with id " + jobId + ".");
    }
}
