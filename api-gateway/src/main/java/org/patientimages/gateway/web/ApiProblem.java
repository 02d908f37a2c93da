package org.patientimages.gateway.web;

import org.springframework.http.HttpStatusCode;

/** A failure with a stable code that reaches the client as {@code application/problem+json}. */
public class ApiProblem extends RuntimeException {

    private final HttpStatusCode status;
    private final String code;
    private final boolean retryable;

    public ApiProblem(HttpStatusCode status, String code, String detail, boolean retryable) {
        super(detail);
        this.status = status;
        this.code = code;
        this.retryable = retryable;
    }

    public static ApiProblem badRequest(String code, String detail) {
        return new ApiProblem(HttpStatusCode.valueOf(400), code, detail, false);
    }

    public static ApiProblem unavailable(String code, String detail) {
        return new ApiProblem(HttpStatusCode.valueOf(503), code, detail, true);
    }

    /** The same problem, its detail about {@code subject} ("Part 2: …", "'a.png' in the archive: …"). */
    public ApiProblem about(String subject) {
        return new ApiProblem(status, code, subject + ": " + getMessage(), retryable);
    }

    public HttpStatusCode status() {
        return status;
    }

    public String code() {
        return code;
    }

    public boolean retryable() {
        return retryable;
    }
}
