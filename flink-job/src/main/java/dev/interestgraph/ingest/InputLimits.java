package dev.interestgraph.ingest;

import dev.interestgraph.config.InterestGraphOptions;
import java.io.Serializable;
import org.apache.flink.configuration.ReadableConfig;

/** What the parsers accept: id and text lengths and how far in the future a timestamp may be. */
public final class InputLimits implements Serializable {
    private static final long serialVersionUID = 1L;

    final int maxIdLength;
    final int maxTextLength;
    final long maxFutureSkewMs;

    public InputLimits(int maxIdLength, int maxTextLength, long maxFutureSkewMs) {
        this.maxIdLength = maxIdLength;
        this.maxTextLength = maxTextLength;
        this.maxFutureSkewMs = maxFutureSkewMs;
    }

    public static InputLimits from(ReadableConfig config) {
        return new InputLimits(config.get(InterestGraphOptions.INPUT_MAX_ID_LENGTH),
                config.get(InterestGraphOptions.INPUT_MAX_TEXT_LENGTH),
                config.get(InterestGraphOptions.INPUT_MAX_FUTURE_SKEW).toMillis());
    }

    public static InputLimits defaults() {
        return from(new org.apache.flink.configuration.Configuration());
    }
}
