package dev.interestgraph.inference;

import io.grpc.Status;

/**
 * A failed call to an inference server, with a message naming the endpoint and the model. {@link
 * #retryable()} tells transient failures (server unreachable, overloaded, deadline exceeded),
 * worth a retry with backoff, from permanent ones (unknown model, wrong shapes).
 */
public final class InferenceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final boolean retryable;

    public InferenceException(String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
    }

    public InferenceException(String message, boolean retryable) {
        this(message, retryable, null);
    }

    public boolean retryable() {
        return retryable;
    }

    /** Whether a call that ended with this gRPC status may succeed when tried again. */
    public static boolean isTransient(Status.Code code) {
        return switch (code) {
            case UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED -> true;
            default -> false;
        };
    }
}
