# Triton with what triton-models/item_encoder/1/model.py imports (encoder/minilm.py): numpy,
# tokenizers and ONNX Runtime with the CUDA execution provider (KIND_GPU instances); the versions
# of triton-models/requirements.txt.
#   docker build -f deploy/docker/triton.Dockerfile -t registry.example.com/interest-graph/triton:24.12 .
FROM nvcr.io/nvidia/tritonserver:24.12-py3
RUN pip install --no-cache-dir numpy==1.26.4 tokenizers==0.23.3 onnxruntime-gpu==1.20.1
