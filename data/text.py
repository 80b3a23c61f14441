"""Text clean-up shared by loaders and by the models' handling of raw input text."""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t\r\f\v]+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# A sentence may end at . ! ? or … before white space and an upper-case letter, digit, quote
# or bracket (Latin and Cyrillic), unless the word before is an abbreviation or an initial.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"'(\[0-9A-ZА-ЯЁ])")
_ABBREVIATIONS = frozenset({
    "v", "vs", "no", "nos", "art", "arts", "para", "paras", "p", "pp", "mr", "mrs", "ms", "dr",
    "st", "cf", "e.g", "i.e", "etc", "ibid", "op", "cit",
    "ст", "ч", "п", "пп", "г", "гг", "им", "ул", "д", "т.е", "см",
})  # fmt: skip


def strip_html(text: str) -> str:
    """Plain text from a small HTML fragment (e.g. Oyez facts), paragraph breaks kept."""
    text = re.sub(r"</p\s*>|<br\s*/?>", "\n\n", text, flags=re.IGNORECASE)
    return html.unescape(_TAG.sub("", text)).strip()


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of a raw text: blank lines separate them; other white space is folded."""
    parts = _PARAGRAPH_BREAK.split(text.replace("\r\n", "\n"))
    return [_SPACE.sub(" ", part).strip() for part in parts if part.strip()]


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of one paragraph, each stripped ("Smith v. Russia" and "J. Smith" stay whole)."""
    sentences, start = [], 0
    for boundary in _SENTENCE_END.finditer(paragraph):
        words = paragraph[start : boundary.start()].split()
        last_word = words[-1].rstrip(".!?…").lower().lstrip("(«\"'") if words else ""
        if last_word in _ABBREVIATIONS or len(last_word) == 1:
            continue
        sentences.append(paragraph[start : boundary.start()].strip())
        start = boundary.end()
    sentences.append(paragraph[start:].strip())
    return [sentence for sentence in sentences if sentence]
