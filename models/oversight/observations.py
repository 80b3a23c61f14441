"""What drift monitoring reads of the predictions served: for each, the fields the model
read, its probabilities and the case's text embedding, written beside the audit record."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert, select

from casecast.models.oversight.database import observations, open_database
from casecast.models.oversight.keys import iso, utc_now


@dataclass(frozen=True)
class Observation:
    record_id: str  # the prediction's audit record
    ts: str
    dataset: str
    model_name: str
    model_version: str
    fields: dict[str, Any]
    probabilities: dict[str, float]  # by class
    vector: np.ndarray | None  # the case's text embedding, when the model gave one


def encode_vector(vector: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f2").tobytes()).decode("ascii")


def decode_vector(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f2").astype(np.float32)


class ObservationStore:
    """Observations in the oversight database (SQLite in the home, or PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def engine(self) -> Engine:
        return open_database(self.url)

    def add(
        self,
        record_id: str,
        dataset: str,
        model_name: str,
        model_version: str,
        fields: Mapping[str, Any],
        probabilities: Mapping[str, float],
        vector: Sequence[float] | np.ndarray | None,
    ) -> None:
        row = {
            "record_id": record_id,
            "ts": iso(utc_now()),
            "dataset": dataset,
            "model_name": model_name,
            "model_version": model_version,
            "fields": json.dumps(dict(fields), default=str, ensure_ascii=False),
            "probabilities": json.dumps({k: float(v) for k, v in probabilities.items()}),
            "vector": None if vector is None else encode_vector(np.asarray(vector)),
        }
        with self.engine.begin() as connection:
            connection.execute(insert(observations).values(**row))

    def latest_probabilities(
        self, dataset: str, model_version: str, limit: int
    ) -> list[dict[str, float]]:
        """The probabilities (as the model gave them) of a model version's latest ``limit``
        predictions on a data set: what an estimated class mix reads."""
        query = (
            select(observations.c.probabilities)
            .where(
                observations.c.dataset == dataset,
                observations.c.model_version == str(model_version),
            )
            .order_by(observations.c.ts.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).scalars().all()
        return [json.loads(row) for row in rows]

    def since(self, dataset: str, since: datetime) -> list[Observation]:
        """The data set's observations from ``since`` on, oldest first."""
        query = (
            select(observations)
            .where(observations.c.dataset == dataset, observations.c.ts >= iso(since))
            .order_by(observations.c.ts)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            Observation(
                record_id=row["record_id"],
                ts=row["ts"],
                dataset=row["dataset"],
                model_name=row["model_name"],
                model_version=row["model_version"],
                fields=json.loads(row["fields"]),
                probabilities=json.loads(row["probabilities"]),
                vector=None if row["vector"] is None else decode_vector(row["vector"]),
            )
            for row in rows
        ]
