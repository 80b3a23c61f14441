"""The MLflow run contract: the names of what training and indexing runs log, and of what
the server, the CLI and the registry read back. One place, so a writer and its readers
cannot drift apart."""

from __future__ import annotations

from typing import Final

# -- a training run's artifacts ---------------------------------------------------------------
CARD_ARTIFACT: Final = "model_card.json"  # the typed model card (models/card.py)
CARD_MARKDOWN_ARTIFACT: Final = "model_card.md"
RELIABILITY_ARTIFACT: Final = "validation/reliability.png"
VALIDATION_METRICS_ARTIFACT: Final = "validation/metrics.json"
TRAINING_IDS_ARTIFACT: Final = "training_case_ids.txt"  # ids only, never text
SPEC_ARTIFACT: Final = "data/spec.yaml"  # the data set's spec as the run read it
READ_REPORT_ARTIFACT: Final = "data/read_report.json"  # rows read, kept, and why not
REPRODUCE_ARTIFACT: Final = "run/reproduce.json"  # arguments, settings, code, packages
# Each held-out case's label, probabilities, groups and articles: what `compare` pairs.
VALIDATION_PREDICTIONS_ARTIFACT: Final = "validation/predictions.json"
MODEL_ARTIFACT: Final = "model"  # the logged pyfunc

# -- a training run's tags and params ----------------------------------------------------------
STAGE_TAG: Final = "stage"
DATASET_TAG: Final = "dataset"
DATA_FINGERPRINT_TAG: Final = "data_fingerprint"
DATA_SOURCES_TAG: Final = "data_sources"
INPUTS_TAG: Final = "inputs"
JUDGE_FEATURES_TAG: Final = "judge_features"
VALIDATION_FROM_PARAM: Final = "validation_from"
N_VALIDATION_PARAM: Final = "n_validation"
EMBEDDING_MODEL_ID_PARAM: Final = "embedding_model_id"
VALIDATION_METRIC_PREFIX: Final = "val_"  # the temporal validation's figures

# What a model card shows of its training run: where the data came from, and how it was fit.
CARD_TAGS: Final = (DATA_FINGERPRINT_TAG, DATA_SOURCES_TAG, DATASET_TAG, INPUTS_TAG)
CARD_PARAMS: Final = (
    VALIDATION_FROM_PARAM,
    "n_cases",
    N_VALIDATION_PARAM,
    EMBEDDING_MODEL_ID_PARAM,
    "max_chunks_per_case",
    "chunk_tokens",
    "C",
)

# -- an index run, and the registered version it goes with ------------------------------------
INDEX_VERSION_TAG: Final = "index_version"  # on the index run and on the model version
INDEX_RUN_ID_TAG: Final = "index_run_id"  # on the model version
INDEX_MANIFEST_ARTIFACT: Final = "index/manifest.json"
INDEX_FILES_ARTIFACT: Final = "index/files"
FUSION_TAG: Final = "fusion"  # lambdarank or rrf
