# casecast API server. Serves the models and indexes found in CASECAST_HOME (mount a volume
# holding the MLflow store and indexes that `casecast train` / `casecast index` produced).
FROM python:3.11-slim

# Optional CPU wheel index for torch; the registry default may be the (much larger) CUDA build.
ARG TORCH_INDEX_URL=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    CASECAST_HOME=/var/lib/casecast

RUN useradd --create-home --uid 10001 casecast \
    && mkdir -p /var/lib/casecast && chown casecast /var/lib/casecast

WORKDIR /app
# The locked versions, as scripts/setup installs them (dev tools aside, they are small).
COPY requirements.lock ./
RUN pip install "$(grep -E '^torch==' requirements.lock)" \
      ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} \
    && pip install -r requirements.lock
COPY pyproject.toml README.md ./
COPY data ./data
COPY features ./features
COPY models ./models
COPY training ./training
COPY serving ./serving
# Installs as the one package `casecast` (its folders are its subpackages).
RUN pip install --no-deps .

USER casecast
VOLUME ["/var/lib/casecast"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"
CMD ["casecast", "serve", "--host", "0.0.0.0", "--port", "8000"]
