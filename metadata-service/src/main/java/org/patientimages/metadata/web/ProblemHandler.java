package org.patientimages.metadata.web;

import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.RecoverableDataAccessException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.resource.NoResourceFoundException;

import java.net.URI;

/** The one place where failures become {@code application/problem+json}. */
@RestControllerAdvice
class ProblemHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

    @ExceptionHandler(ApiException.class)
    ResponseEntity<ProblemDetail> api(ApiException e, HttpServletRequest request) {
        ResponseEntity<ProblemDetail> answer = problem(e.status(), e.code(), e.getMessage(), e.retryable(), request);
        if (e instanceof org.patientimages.metadata.access.AccessDenied denied) {
            // for the gateway's audit trail only; the client sees a plain 404
            return ResponseEntity.status(answer.getStatusCode()).headers(answer.getHeaders())
                    .header(org.patientimages.metadata.access.AccessDenied.DENIED_HEADER, "true")
                    .header(org.patientimages.metadata.access.AccessDenied.PATIENT_HEADER, denied.patientId().toString())
                    .body(answer.getBody());
        }
        return answer;
    }

    @ExceptionHandler(HttpMessageNotReadableException.class)
    ResponseEntity<ProblemDetail> unreadable(HttpMessageNotReadableException e, HttpServletRequest request) {
        return problem(HttpStatus.BAD_REQUEST, "MALFORMED_JSON", "The request body is not valid JSON of the expected shape.",
                false, request);
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<ProblemDetail> badParameter(MethodArgumentTypeMismatchException e, HttpServletRequest request) {
        String code = "limit".equals(e.getName()) ? "INVALID_LIMIT" : "INVALID_PARAMETER";
        return problem(HttpStatus.BAD_REQUEST, code, "Parameter '" + e.getName() + "' has an invalid value.", false,
                request);
    }

    @ExceptionHandler(NoResourceFoundException.class)
    ResponseEntity<ProblemDetail> noRoute(NoResourceFoundException e, HttpServletRequest request) {
        return problem(HttpStatus.NOT_FOUND, "NOT_FOUND", "No such resource.", false, request);
    }

    /** The database is down or overloaded: the same request may succeed later. */
    @ExceptionHandler({TransientDataAccessException.class, DataAccessResourceFailureException.class,
            RecoverableDataAccessException.class})
    ResponseEntity<ProblemDetail> database(DataAccessException e, HttpServletRequest request) {
        log.warn("database unavailable for {} {}: {}", request.getMethod(), request.getRequestURI(), e.toString());
        return problem(HttpStatus.SERVICE_UNAVAILABLE, "DATABASE_UNAVAILABLE",
                "The metadata store is unavailable; try again shortly.", true, request);
    }

    /** Anything unforeseen: logged once here, answered without internals. */
    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception e, HttpServletRequest request) {
        log.error("unexpected failure of {} {}", request.getMethod(), request.getRequestURI(), e);
        return problem(HttpStatus.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR",
                "The request failed unexpectedly; it may succeed if retried.", true, request);
    }

    static ResponseEntity<ProblemDetail> problem(HttpStatus status, String code, String detail, boolean retryable,
                                                 HttpServletRequest request) {
        ProblemDetail body = ProblemDetail.forStatusAndDetail(status, detail);
        body.setType(URI.create("https://patient-images.example/problems/" + code.toLowerCase().replace('_', '-')));
        body.setTitle(status.getReasonPhrase());
        body.setInstance(URI.create(request.getRequestURI()));
        body.setProperty("code", code);
        body.setProperty("retryable", retryable);
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(body);
    }
}
