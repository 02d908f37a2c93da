package org.patientimages.gateway.web;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.resource.NoResourceFoundException;

import java.net.URI;

/** The one place where failures become {@code application/problem+json} (RFC 9457). */
@RestControllerAdvice
public class ProblemHandler {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ProblemHandler.class);

    /** Seconds a client should wait before retrying a 503. */
    static final String RETRY_AFTER_SECONDS = "5";

    @ExceptionHandler(ApiProblem.class)
    ResponseEntity<ProblemDetail> api(ApiProblem e, HttpServletRequest request) {
        return problem(e.status(), e.code(), e.getMessage(), e.retryable(), request);
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

    @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
    ResponseEntity<ProblemDetail> mediaType(HttpMediaTypeNotSupportedException e, HttpServletRequest request) {
        return problem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_REQUEST_TYPE",
                "Content-Type " + e.getContentType() + " is not accepted here; send application/json.", false, request);
    }

    @ExceptionHandler(HttpRequestMethodNotSupportedException.class)
    ResponseEntity<ProblemDetail> method(HttpRequestMethodNotSupportedException e, HttpServletRequest request) {
        return problem(HttpStatus.METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED",
                "Method " + e.getMethod() + " is not allowed on this resource.", false, request);
    }

    @ExceptionHandler(NoResourceFoundException.class)
    ResponseEntity<ProblemDetail> noRoute(NoResourceFoundException e, HttpServletRequest request) {
        return problem(HttpStatus.NOT_FOUND, "NOT_FOUND", "No such resource.", false, request);
    }

    /**
     * Anything unforeseen: logged once here, answered without internals. An answer already under way (a streamed
     * archive) cannot become a problem: the failure is passed on, and the container closes the connection, so that
     * the client sees the answer unfinished rather than ended.
     */
    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception e, HttpServletRequest request, HttpServletResponse response)
            throws Exception {
        if (response.isCommitted()) {
            log.warn("{} {} failed after its answer began: {}", request.getMethod(), request.getRequestURI(),
                    e.getMessage());
            throw e;
        }
        log.error("unexpected failure of {} {}", request.getMethod(), request.getRequestURI(), e);
        return problem(HttpStatus.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR",
                "The request failed unexpectedly; it may succeed if retried.", true, request);
    }

    public static ResponseEntity<ProblemDetail> problem(HttpStatusCode status, String code, String detail,
                                                        boolean retryable, HttpServletRequest request) {
        ProblemDetail body = ProblemDetail.forStatusAndDetail(status, detail);
        body.setType(URI.create("https://patient-images.example/problems/" + code.toLowerCase().replace('_', '-')));
        HttpStatus known = HttpStatus.resolve(status.value());
        body.setTitle(known == null ? "Error" : known.getReasonPhrase());
        body.setInstance(URI.create(request.getRequestURI()));
        body.setProperty("code", code);
        body.setProperty("retryable", retryable);
        var response = ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON);
        if (status.value() == 503) {
            response.header(HttpHeaders.RETRY_AFTER, RETRY_AFTER_SECONDS);
        }
        return response.body(body);
    }
}
