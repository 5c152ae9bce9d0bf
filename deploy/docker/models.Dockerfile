# The model repository for Triton (copied into the pod's model-repository volume by an init
# container, deploy/kubernetes/triton.yaml): item_encoder/ (config.pbtxt, configs/cpu.pbtxt,
# 1/model.py and the model files from `make models`), item_encoder_tuner/ and encoder/ (imported
# by both model.py files).
#   make models && docker build -f deploy/docker/models.Dockerfile -t registry.example.com/interest-graph/triton-models:0.1.0 .
FROM busybox:1.37
COPY triton-models/item_encoder /model-repository/item_encoder
COPY triton-models/item_encoder_tuner /model-repository/item_encoder_tuner
COPY triton-models/encoder /model-repository/encoder
