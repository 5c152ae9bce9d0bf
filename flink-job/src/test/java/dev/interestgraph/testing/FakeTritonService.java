package dev.interestgraph.testing;

import dev.interestgraph.inference.v2.GRPCInferenceServiceGrpc;
import dev.interestgraph.inference.v2.ModelReadyRequest;
import dev.interestgraph.inference.v2.ModelReadyResponse;
import dev.interestgraph.inference.v2.ServerLiveRequest;
import dev.interestgraph.inference.v2.ServerLiveResponse;
import dev.interestgraph.inference.v2.ServerReadyRequest;
import dev.interestgraph.inference.v2.ServerReadyResponse;
import io.grpc.stub.StreamObserver;

/**
 * TEST FIXTURE ONLY: the health half of a fake KServe v2 server (server live and ready, model
 * ready, each switchable), so that a test's fake implements only what it scripts: metadata and
 * inference.
 */
public abstract class FakeTritonService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
    public volatile boolean live = true;
    public volatile boolean modelReady = true;

    @Override
    public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> response) {
        response.onNext(ServerLiveResponse.newBuilder().setLive(live).build());
        response.onCompleted();
    }

    @Override
    public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> response) {
        response.onNext(ServerReadyResponse.newBuilder().setReady(true).build());
        response.onCompleted();
    }

    @Override
    public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> response) {
        response.onNext(ModelReadyResponse.newBuilder().setReady(modelReady).build());
        response.onCompleted();
    }
}
