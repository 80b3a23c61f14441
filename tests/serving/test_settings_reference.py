"""docs/settings.md is generated from the settings' own descriptions and kept current."""

from pathlib import Path

from casecast.serving.settings import ServingSettings, settings_reference

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_every_setting_says_what_it_is():
    undescribed = [n for n, f in ServingSettings.model_fields.items() if not f.description]
    assert undescribed == []


def test_the_settings_reference_is_current():
    expected = settings_reference()
    assert REFERENCE.read_text() == expected, (
        "docs/settings.md is stale: python -m casecast.serving.settings > docs/settings.md"
    )
    for name in ServingSettings.model_fields:
        assert f"`CASECAST_{name.upper()}`" in expected
