# cnn_lab on CPU, as a public server: docker build -t cnn-lab . && docker run -p 7860:7860 cnn-lab
# Full MNIST (or any torchvision dataset folder): add -v /path/to/datasets:/data -e CNN_LAB_DATA=/data
# Your own machine, without the public limits: append `python playground.py` to the run command.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860

RUN useradd --create-home --uid 1000 cnn
WORKDIR /app

# CPU wheels of the pinned torch and torchvision (the default ones carry CUDA: gigabytes a CPU host never uses)
COPY requirements.txt .
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt

COPY --chown=cnn:cnn . .
USER cnn

# Datasets (read) and the run history and download cache (written) live outside the image
RUN mkdir -p /home/cnn/.cache/cnn_lab
VOLUME ["/home/cnn/.cache"]
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/', timeout=4)"
CMD ["python", "playground.py", "--public"]
