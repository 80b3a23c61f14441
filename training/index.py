"""`casecast index`: build (or reuse) the precedent index and pair it with the champion."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import mlflow

from data.datasets import (
    get_dataset,
    load_corpus,
)
from features.chunking import ParagraphChunker
from models.precedents import IndexManifest, build_index
from models.registry import (
    ensure_experiment,
    pair_index_with_champion,
)
from models.settings import CasecastSettings
from training.fitting import make_embedder
from training.progress import progress_bar
from training.versions import model_name


def index(
    dataset: str, settings: CasecastSettings, limit_per_split: int | None = None
) -> IndexManifest:
    """Build (or reuse) the precedent index of the data set's training splits; the champion
    built from the same data and encoder is tagged with the index version it goes with."""
    spec = get_dataset(dataset)
    corpus = load_corpus(spec.name, settings, limit_per_split)
    embedder = make_embedder(settings, spec).fit()
    chunker = ParagraphChunker(settings.chunk_tokens, settings.chunk_overlap).fit()
    with progress_bar("indexing passages") as (advance, set_total):
        manifest = build_index(
            corpus,
            embedder,
            chunker,
            settings.max_chunks_per_case,
            settings.index_dir,
            progress=advance,
            on_total=set_total,
            language=spec.language,
            stemmer=spec.stemmer,
        )
    directory = manifest.directory(settings.index_dir)
    experiment_id = ensure_experiment(f"casecast-{spec.name}", settings)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"index-{spec.name}") as run:
        mlflow.set_tags(
            {
                "stage": "index",
                "index_version": manifest.version,
                "data_fingerprint": manifest.data_fingerprint,
            }
        )
        mlflow.log_params(
            {
                "embedding_model_id": manifest.embedding_model_id,
                "chunk_tokens": manifest.chunk_tokens,
                "chunk_overlap": manifest.chunk_overlap,
                "max_chunks_per_case": manifest.max_chunks_per_case,
            }
        )
        mlflow.log_metrics(
            {
                "n_cases": manifest.n_cases,
                "n_chunks": manifest.n_chunks,
                "index_bytes": _folder_bytes(directory),
            }
        )
        mlflow.log_dict(asdict(manifest), "index/manifest.json")
        mlflow.log_artifacts(str(directory), "index/files")
    pair_index_with_champion(model_name(dataset), manifest, run.info.run_id)
    return manifest


def _folder_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
