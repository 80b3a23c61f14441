"""What a result shows beside its passages: the query's words that matched them, and the
query passage closest to each in meaning."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import numpy as np

from casecast.features.chunking import Chunk
from casecast.models.precedents.files import query_tokens, word_tokens
from casecast.models.precedents.stored import StoredIndex
from casecast.models.precedents.types import PrecedentHit

# Words as bm25s's tokenizer finds them (two word characters or more).
_WORD = re.compile(r"(?u)\b\w\w+\b")
MARKED_WORDS = 12  # keyword matches shown per passage
DISTINCTIVE_SHARE = 0.1  # a word in more than this share of the cases marks nothing


def matching_words(
    stored: StoredIndex, query: str, passages: Sequence[str], most: int = MARKED_WORDS
) -> list[list[str]]:
    """For each passage, the words that match a word of ``query`` as the keyword search
    reads them (stop words dropped, the same stems) and that say something: found in at
    most a tenth of the cases, the ``most`` rarest, in the order they appear. A whole-case
    query shares nearly every word with any passage; these are the ones that carried its
    score."""
    language, stemmer = stored.manifest.language, stored.manifest.keyword_stemmer
    wanted = set(query_tokens(query, language, stemmer))
    found = [_WORD.findall(passage) for passage in passages]
    words = list(dict.fromkeys(word for words in found for word in words))
    if not wanted or not words:
        return [[] for _ in passages]
    frequency = stored.case_frequency
    vocabulary = stored.case_keyword.vocab_dict
    limit = max(1, DISTINCTIVE_SHARE * stored.manifest.n_cases)
    rarity: dict[str, int] = {}
    for word, tokens in zip(words, word_tokens(words, language, stemmer), strict=True):
        shared = [t for t in tokens if t in wanted and t in vocabulary]
        if shared:
            cases = min(int(frequency[vocabulary[t]]) for t in shared)
            if cases <= limit:
                rarity[word] = cases
    marked = []
    for passage_words in found:
        present = list(dict.fromkeys(w for w in passage_words if w in rarity))
        keep = set(sorted(present, key=lambda w: rarity[w])[:most])
        marked.append([w for w in present if w in keep])
    return marked


def beside_query(
    stored: StoredIndex, hit: PrecedentHit, vectors: np.ndarray, chunks: Sequence[Chunk]
) -> PrecedentHit:
    """Each passage of a hit with the query passage closest to it in meaning."""
    passages = []
    for passage in hit.passages:
        if passage.row < 0 or not len(vectors):
            passages.append(passage)
            continue
        best = chunks[int(np.argmax(vectors @ stored.vectors[passage.row]))]
        span = (best.first_paragraph + 1, best.last_paragraph + 1)
        passages.append(dataclasses.replace(passage, query_paragraphs=span, query_text=best.text))
    return dataclasses.replace(hit, passages=passages)
