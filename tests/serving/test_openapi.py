"""The API is pinned: its OpenAPI document equals docs/openapi.json, so a change to a wire
schema (or to the internal types behind it that leaks into one) is seen and deliberate."""

from pathlib import Path

from casecast.serving.openapi import openapi_document, openapi_text

PINNED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_api_is_the_pinned_one():
    assert openapi_text() == PINNED.read_text(), (
        "the API changed: if that is meant, python -m casecast.serving.openapi > docs/openapi.json"
    )


def test_the_model_card_on_the_wire_is_the_apis_own_schema():
    """The card the API shows is described by the API's own schemas, not the training-side
    model card class (which may gain fields without changing the API)."""
    schemas = openapi_document()["components"]["schemas"]
    card = schemas["OutcomeModelCard"]
    assert "additionalProperties" not in card  # the internal card forbids extra keys
    assert set(card["properties"]) >= {"scores", "groups", "group_fields", "positive_class"}
