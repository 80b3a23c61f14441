"""Queries in one language, documents in another: centring by language means.

A multilingual encoder places a text by what it says and by the language it is written in.
Stored passage vectors are less their own mean (the documents' language), and a query's
vectors less the mean of short accounts in the query's language (``language_anchors.json``:
everyday legal matters unrelated to any indexed case, the same thirty in each language), so
that what remains is mostly what the texts say: a Kazakh or English account meets the Russian
decisions it describes. The query's language is told by its letters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from casecast.features.embedding import SentenceEmbedder
from casecast.features.text import script_language
from casecast.models.precedents.scoring import normalized

LANGUAGE_ANCHORS = Path(__file__).with_name("language_anchors.json")


def centred(vectors: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Vectors less a mean, back at unit length."""
    return normalized(vectors - mean)


@dataclass(frozen=True)
class QueryCentring:
    """What a query's vectors are centred on: its language's anchor mean, else (a language
    without anchors, or no letters) the documents' mean."""

    document_mean: np.ndarray
    language_means: Mapping[str, np.ndarray]

    @classmethod
    def load(cls, embedder: SentenceEmbedder, document_mean: np.ndarray) -> QueryCentring:
        """Each anchor language's mean query vector, embedded (and cached) by ``embedder``."""
        anchors = json.loads(LANGUAGE_ANCHORS.read_text(encoding="utf-8"))
        means = {
            lang: embedder.embed_queries(texts).mean(axis=0) for lang, texts in anchors.items()
        }
        return cls(document_mean, means)

    def __call__(self, vectors: np.ndarray, text: str) -> np.ndarray:
        mean = self.language_means.get(script_language(text) or "", self.document_mean)
        return centred(vectors, mean)
