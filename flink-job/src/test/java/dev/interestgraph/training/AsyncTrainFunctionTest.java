package dev.interestgraph.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.interestgraph.inference.InferenceContract;
import dev.interestgraph.inference.InferenceException;
import dev.interestgraph.inference.TritonClientConfig;
import dev.interestgraph.testing.FakeTritonService;
import dev.interestgraph.inference.v2.ModelInferRequest;
import dev.interestgraph.inference.v2.ModelInferResponse;
import dev.interestgraph.inference.v2.ModelMetadataRequest;
import dev.interestgraph.inference.v2.ModelMetadataResponse;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** TunerClient's wire format and AsyncTrainFunction's retries against a scripted tuner (no Python). */
class AsyncTrainFunctionTest {
    private final FakeTuner tuner = new FakeTuner();
    private Server server;

    @BeforeEach
    void start() throws Exception {
        server = NettyServerBuilder.forPort(0).addService(tuner).build().start();
    }

    @AfterEach
    void stop() {
        server.shutdownNow();
    }

    private TritonClientConfig config() {
        return TritonClientConfig.builder().endpoint("127.0.0.1:" + server.getPort())
                .modelName("item_encoder_tuner").requestTimeout(Duration.ofSeconds(5)).build();
    }

    private static TrainingBatch batch() {
        return TrainingBatch.of(List.of(
                new TrainingExample("Galactic starship alien 1 | Recipe kitchen pasta 2", "Oven baking spice 3", 1000, "e1"),
                new TrainingExample("Goal league striker 4", "Saxophone swing blues 5", 2500, "e2")));
    }

    private List<TrainingResult> runThroughOperator(TrainingBatch batch) throws Exception {
        AsyncTrainFunction train = new AsyncTrainFunction(config(), Duration.ofMillis(5), Duration.ofMillis(20));
        try (OneInputStreamOperatorTestHarness<TrainingBatch, TrainingResult> harness =
                new OneInputStreamOperatorTestHarness<>(new AsyncWaitOperatorFactory<>(train, 0, 1,
                        AsyncDataStream.OutputMode.ORDERED),
                        TypeInformation.of(TrainingBatch.class).createSerializer(new ExecutionConfig()))) {
            harness.open();
            harness.processElement(new StreamRecord<>(batch, 2500));
            synchronized (harness.getCheckpointLock()) {
                harness.endInput(); // waits for the pending step, retries included
            }
            return harness.extractOutputValues();
        }
    }

    @Test
    void aTunerOutageIsRetriedWithTheSameBatchIdAndTheAnswerDecoded() throws Exception {
        tuner.script.add(Status.UNAVAILABLE);
        tuner.script.add(Status.DEADLINE_EXCEEDED);
        TrainingBatch batch = batch();

        List<TrainingResult> results = runThroughOperator(batch);

        assertThat(results).hasSize(1);
        TrainingResult result = results.get(0);
        assertThat(result.batchId).isEqualTo(batch.batchId);
        assertThat(result.loss).isEqualTo(1.25f);
        assertThat(result.step).isEqualTo(7L);
        assertThat(result.applied).isTrue();
        assertThat(result.modelVersion).isEqualTo("3");
        assertThat(result.maxEventTimeMs).isEqualTo(2500L);
        assertThat(tuner.requests).hasSize(3); // two failures, then the answer
        for (ModelInferRequest request : tuner.requests) {
            assertThat(InferenceContract.decodeBytesTensor(request.getRawInputContents(0)))
                    .containsExactly(batch.batchId);
            assertThat(InferenceContract.decodeBytesTensor(request.getRawInputContents(1)))
                    .containsExactly(batch.examples.get(0).context, batch.examples.get(1).context);
            assertThat(InferenceContract.decodeBytesTensor(request.getRawInputContents(2)))
                    .containsExactly("Oven baking spice 3", "Saxophone swing blues 5");
            ByteBuffer times = request.getRawInputContents(3).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            assertThat(List.of(times.getLong(), times.getLong())).containsExactly(1000L, 2500L);
            assertThat(request.getInputsList()).extracting(ModelInferRequest.InferInputTensor::getDatatype)
                    .containsExactly("BYTES", "BYTES", "BYTES", "INT64");
        }
    }

    @Test
    void aBatchTheTunerRefusesIsSkippedNotRetried() throws Exception {
        tuner.script.add(Status.INVALID_ARGUMENT.withDescription("a contrastive step needs at least 2 examples"));

        assertThat(runThroughOperator(batch())).isEmpty();
        assertThat(tuner.requests).hasSize(1);
    }

    @Test
    void checkReadyNamesTheEndpointAndTheModel() {
        tuner.modelReady = false;
        try (TunerClient client = new TunerClient(config())) {
            assertThatThrownBy(client::checkReady).isInstanceOf(InferenceException.class)
                    .hasMessageContaining("127.0.0.1:" + server.getPort())
                    .hasMessageContaining("item_encoder_tuner")
                    .hasMessageContaining("is not ready")
                    .hasMessageContaining("fine-tune.tuner.endpoint");
        }
    }

    @Test
    void theTunerEndpointFallsBackToTritonsAndIsRequired() {
        Configuration config = new Configuration();
        assertThatThrownBy(() -> TrainingBranch.tunerConfig(config))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("fine-tune.tuner.endpoint").hasMessageContaining("triton.endpoint");
        config.setString("triton.endpoint", "triton:8001");
        assertThat(TrainingBranch.tunerConfig(config).endpoint()).isEqualTo("triton:8001");
        assertThat(TrainingBranch.tunerConfig(config).modelName()).isEqualTo("item_encoder_tuner");
        config.setString("fine-tune.tuner.endpoint", "tuner:9001");
        assertThat(TrainingBranch.tunerConfig(config).endpoint()).isEqualTo("tuner:9001");
    }

    /** Fails calls as scripted, then answers LOSS 1.25, STEP 7, APPLIED true, MODEL_VERSION "3" (raw). */
    private static final class FakeTuner extends FakeTritonService {
        final Deque<Status> script = new ArrayDeque<>();
        final List<ModelInferRequest> requests = new ArrayList<>();




        @Override
        public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> response) {
            response.onNext(ModelMetadataResponse.newBuilder().setName(request.getName())
                    .addInputs(tensor("BATCH_ID", "BYTES")).addInputs(tensor("CONTEXT", "BYTES"))
                    .addInputs(tensor("POSITIVE", "BYTES")).addInputs(tensor("EVENT_TIME_MS", "INT64"))
                    .addOutputs(tensor("LOSS", "FP32")).addOutputs(tensor("STEP", "INT64"))
                    .addOutputs(tensor("APPLIED", "BOOL")).addOutputs(tensor("MODEL_VERSION", "BYTES"))
                    .build());
            response.onCompleted();
        }

        private static ModelMetadataResponse.TensorMetadata tensor(String name, String datatype) {
            return ModelMetadataResponse.TensorMetadata.newBuilder().setName(name).setDatatype(datatype)
                    .addShape(-1).build();
        }

        @Override
        public synchronized void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> response) {
            requests.add(request);
            Status failure = script.poll();
            if (failure != null) {
                response.onError(failure.asRuntimeException());
                return;
            }
            response.onNext(ModelInferResponse.newBuilder()
                    .setModelName(request.getModelName()).setModelVersion("1")
                    .addOutputs(output("LOSS", "FP32")).addOutputs(output("STEP", "INT64"))
                    .addOutputs(output("APPLIED", "BOOL")).addOutputs(output("MODEL_VERSION", "BYTES"))
                    .addRawOutputContents(ByteString.copyFrom(
                            ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.25f).flip()))
                    .addRawOutputContents(ByteString.copyFrom(
                            ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(7).flip()))
                    .addRawOutputContents(ByteString.copyFrom(new byte[] {1}))
                    .addRawOutputContents(InferenceContract.encodeBytesTensor(List.of("3")))
                    .build());
            response.onCompleted();
        }

        private static ModelInferResponse.InferOutputTensor output(String name, String datatype) {
            return ModelInferResponse.InferOutputTensor.newBuilder().setName(name).setDatatype(datatype)
                    .addShape(1).build();
        }
    }
}
