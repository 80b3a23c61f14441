"""`casecast index`: build (or reuse) the precedent index and pair it with the champion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import mlflow

from casecast.data.datasets import (
    DatasetSpec,
    get_dataset,
    load_corpus,
)
from casecast.data.schema import Corpus
from casecast.features.chunking import ParagraphChunker
from casecast.features.embedding import SentenceEmbedder
from casecast.models.precedents import IndexManifest, build_index, index_version, is_complete
from casecast.models.precedents.fusion import RANKER_INFO
from casecast.models.precedents.fusion_training import FusionTraining, held_out_year
from casecast.models.registry import (
    ensure_experiment,
    pair_index_with_champion,
)
from casecast.models.run_contract import (
    DATA_FINGERPRINT_TAG,
    EMBEDDING_MODEL_ID_PARAM,
    FUSION_TAG,
    INDEX_FILES_ARTIFACT,
    INDEX_MANIFEST_ARTIFACT,
    INDEX_VERSION_TAG,
    STAGE_TAG,
)
from casecast.models.settings import CasecastSettings
from casecast.training.fitting import make_embedder
from casecast.training.progress import progress_bar
from casecast.training.versions import model_name


def index(
    dataset: str,
    settings: CasecastSettings,
    limit_per_split: int | None = None,
    fuse: bool = True,
) -> IndexManifest:
    """Build (or reuse) the precedent index of the data set's training splits; the champion
    built from the same data and encoder is tagged with the index version it goes with. An
    index version is logged to MLflow once, when it is built. With ``fuse``, a new version
    gets hybrid search's ranker, fitted on queries before the evaluation's years (a data set
    without a relevance rule, or with too few earlier queries, is ranked by RRF)."""
    spec, corpus, embedder, chunker = _index_inputs(dataset, settings, limit_per_split)
    fusion = (
        FusionTraining(spec.relevance, held_out_year(r.decision_year for r in corpus.records))
        if fuse and spec.relevance is not None and corpus.records
        else None
    )
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
            fusion=fusion,
            on_fusion_total=lambda n: set_total(n, "fitting the fusion ranker (queries)"),
        )
    experiment_id = ensure_experiment(f"casecast-{spec.name}", settings)
    run_id = _logged_run(experiment_id, manifest.version) or _log_index(
        experiment_id, manifest, manifest.directory(settings.index_dir)
    )
    pair_index_with_champion(model_name(dataset), manifest, run_id)
    return manifest


def _logged_run(experiment_id: str, version: str) -> str | None:
    """The run that logged this index version, if one did."""
    runs = mlflow.search_runs(
        [experiment_id],
        filter_string=f"tags.stage = 'index' and tags.index_version = '{version}'",
        max_results=1,
        output_format="list",
    )
    return runs[0].info.run_id if runs else None


def _log_index(experiment_id: str, manifest: IndexManifest, directory: Path) -> str:
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"index-{manifest.dataset}") as run:
        mlflow.set_tags(
            {
                STAGE_TAG: "index",
                INDEX_VERSION_TAG: manifest.version,
                DATA_FINGERPRINT_TAG: manifest.data_fingerprint,
            }
        )
        mlflow.log_params(
            {
                EMBEDDING_MODEL_ID_PARAM: manifest.embedding_model_id,
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
                "build_seconds": manifest.build_seconds,
            }
        )
        mlflow.log_dict(asdict(manifest), INDEX_MANIFEST_ARTIFACT)
        fusion = directory / RANKER_INFO
        if fusion.is_file():  # the ranker's files go with the index's below
            info = json.loads(fusion.read_text())
            mlflow.set_tag(FUSION_TAG, info["kind"])
            mlflow.log_params({f"fusion_{k}": v for k, v in info.get("params", {}).items()})
            mlflow.log_params(
                {"fusion_query_years": "-".join(map(str, info["query_years"])),
                 "fusion_pool": info["pool"]}
            )  # fmt: skip
            checked = info["validation"]
            mlflow.log_metrics(
                {
                    "fusion_queries": info["n_queries"],
                    "fusion_fit_seconds": info["fit_seconds"],
                    "fusion_validation_ndcg_learned": checked["learned_ndcg"],
                    "fusion_validation_ndcg_rrf": checked["rrf_ndcg"],
                }
            )
        mlflow.log_artifacts(str(directory), INDEX_FILES_ARTIFACT)
    return str(run.info.run_id)


def full_profile_version(
    dataset: str, settings: CasecastSettings, limit_per_split: int | None = None
) -> tuple[str, bool]:
    """The version the full profile (every passage) of the data set would have, and whether
    it is built: read from the data and settings, nothing embedded."""
    spec, corpus, embedder, chunker = _index_inputs(dataset, settings, limit_per_split)
    version = index_version(corpus.fingerprint(), embedder, chunker, 0, spec.stemmer)
    return version, is_complete(settings.index_dir / spec.name / version)


def start_full_profile(
    dataset: str, settings: CasecastSettings, limit_per_split: int | None = None
) -> subprocess.Popen[bytes]:
    """Build the full profile in a background process at the lowest CPU priority, so that
    a server on the same cores answers first. It writes its progress beside the index
    (``builds/``, which the server's ``/health`` reports), its output to
    ``<home>/logs/index-full-<dataset>.log``, and makes the full index CURRENT when done; a
    server following CURRENT swaps it in. It ends when the process that started it ends.
    Started again after a stop, it reuses what the embedding cache already holds."""
    log = full_profile_log(settings, dataset)
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "casecast.training.cli",
        "index",
        "--dataset",
        dataset,
        "--full",
    ]
    if limit_per_split is not None:
        command += ["--limit", str(limit_per_split)]
    env = {**os.environ, "CASECAST_HOME": str(settings.home.resolve())}
    with log.open("ab") as output:
        return subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            preexec_fn=_lowest_priority if os.name == "posix" else None,
        )


def full_profile_log(settings: CasecastSettings, dataset: str) -> Path:
    """Where the background build of ``dataset``'s full profile writes its output."""
    return settings.home / "logs" / f"index-full-{dataset}.log"


def _index_inputs(
    dataset: str, settings: CasecastSettings, limit_per_split: int | None
) -> tuple[DatasetSpec, Corpus, SentenceEmbedder, ParagraphChunker]:
    """What an index version is built from (and named by): the data, the encoder, the chunker."""
    spec = get_dataset(dataset)
    corpus = load_corpus(spec.name, settings, limit_per_split)
    embedder = make_embedder(settings, spec).fit()
    chunker = ParagraphChunker(settings.chunk_tokens, settings.chunk_overlap).fit()
    return spec, corpus, embedder, chunker


def _lowest_priority() -> None:
    """In the child before it runs: the lowest CPU priority, and (Linux) ended by the kernel
    when the process that started it ends, however it ends (a SIGTERM or SIGKILL to the
    server alone included), so that no build outlives its server."""
    os.nice(19)
    if sys.platform == "linux":
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _folder_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
