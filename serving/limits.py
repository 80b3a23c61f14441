"""The ceilings every request is checked against before any work is done on it (each a
setting): a case text's characters and paragraphs, a search's results and filter values.
Body sizes and JSON depth are checked earlier still, while the body streams
(``errors.BodyLimitMiddleware``)."""

from __future__ import annotations

from casecast.data.text import split_paragraphs
from casecast.serving.errors import InvalidInputError, PayloadTooLargeError
from casecast.serving.schemas import PrecedentSearchRequest
from casecast.serving.settings import ServingSettings


def check_case_text(text: str, settings: ServingSettings) -> None:
    """A text longer than the server reads, or cut into more paragraphs than it explains,
    is refused (413) before the model or the index sees it."""
    if len(text) > settings.max_text_chars:
        raise PayloadTooLargeError(
            f"text has {len(text):,} characters; the limit is {settings.max_text_chars:,}"
        )
    paragraphs = len(split_paragraphs(text))
    if paragraphs > settings.max_paragraphs:
        raise PayloadTooLargeError(
            f"text has {paragraphs:,} paragraphs; the limit is {settings.max_paragraphs:,}: "
            "send the paragraphs that state the facts"
        )


def check_search(body: PrecedentSearchRequest, settings: ServingSettings) -> None:
    """A search asks for at most ``max_search_results`` cases and filters by at most
    ``max_filter_values`` articles (422 beyond), and its text is a case text."""
    if body.k > settings.max_search_results:
        raise InvalidInputError(
            f"k is {body.k}; this server returns at most {settings.max_search_results} cases"
        )
    if len(body.filters.articles) > settings.max_filter_values:
        raise InvalidInputError(
            f"{len(body.filters.articles)} articles to filter by; the limit is "
            f"{settings.max_filter_values}"
        )
    if body.text is not None:
        check_case_text(body.text, settings)
