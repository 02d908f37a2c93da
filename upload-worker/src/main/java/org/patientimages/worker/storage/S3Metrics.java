package org.patientimages.worker.storage;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Every call to the object store as the timer {@code s3.calls}, tagged with the operation (PutObject,
 * UploadPart, HeadObject …) and its outcome (success, error), retries included.
 */
final class S3Metrics implements ExecutionInterceptor {

    private static final ExecutionAttribute<Timer.Sample> STARTED = new ExecutionAttribute<>("metrics.started");

    private final MeterRegistry registry;

    S3Metrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
        attributes.putAttribute(STARTED, Timer.start(registry));
    }

    @Override
    public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
        stop(attributes, "success");
    }

    @Override
    public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
        stop(attributes, "error");
    }

    private void stop(ExecutionAttributes attributes, String outcome) {
        Timer.Sample started = attributes.getAttribute(STARTED);
        if (started != null) {
            String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
            started.stop(Timer.builder("s3.calls").description("Calls to the object store")
                    .tag("operation", operation == null ? "unknown" : operation).tag("outcome", outcome)
                    .register(registry));
        }
    }
}
