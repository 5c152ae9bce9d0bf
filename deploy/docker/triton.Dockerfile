# Triton with what the Python backend models import: item_encoder (encoder/minilm.py on CPU
# instances: ONNX Runtime; encoder/gpu.py on KIND_GPU instances: PyTorch) and item_encoder_tuner
# (encoder/tuner.py: PyTorch, onnx, confluent-kafka); the versions of triton-models/requirements.txt.
#   docker build -f deploy/docker/triton.Dockerfile -t registry.example.com/interest-graph/triton:24.12 .
FROM nvcr.io/nvidia/tritonserver:24.12-py3
RUN pip install --no-cache-dir numpy==1.26.4 tokenizers==0.23.3 onnxruntime==1.20.1 onnx==1.19.1 \
        torch==2.11.0 confluent-kafka==2.16.1
