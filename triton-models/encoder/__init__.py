"""all-MiniLM-L6-v2 sentence encoder shared by the Triton model and the PyTriton server."""
