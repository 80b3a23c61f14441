"""The words a data set's spec gives the page: the court's name, its outcomes, its fields
and their coded values, in the page's language."""

from __future__ import annotations

from casecast.data.resolved import DatasetSpec, english, value_names


def page_strings(spec: DatasetSpec, language: str) -> dict[str, str]:
    """The page's words the spec gives in ``language``: the court's name, its outcomes, its
    fields and their coded values (the translation catalogues win where they have a word)."""
    strings = {f"dataset.{spec.name}": spec.names_in(language)}
    for label, names in spec.file.outcome.names.items():
        strings[f"outcome.{label}"] = names.get(language) or names.get("en") or label
    for name, rule in spec.file.inputs.items():
        label = rule.label if isinstance(rule.label, str) else rule.label.get(language, "")
        strings[f"field.{name}"] = label or english(rule.label) or name
        for code, value in value_names(rule, language).items():
            strings[f"value.{name}.{code}"] = value
    return strings
