"""Russian court decisions split into their sections, and what of them may be a model input.

A Russian judgment (приговор), ruling (постановление) or decision (решение) has a fixed
shape: an introduction (court, judge, parties) ending in «УСТАНОВИЛ:», a descriptive part
(the facts as charged, then the evidence), the court's reasoning (assessment, qualification,
sentencing considerations, the norms it applies), and after «ПРИГОВОРИЛ:» / «ПОСТАНОВИЛ:» /
«РЕШИЛ:» / «ОПРЕДЕЛИЛ:» the operative part, which states the outcome. Headings are found by
pattern (spaced letters and inline forms too); inside the descriptive-motivational part each
paragraph is placed by the phrases courts open it with. Only the facts and the evidence are
known before the decision: the introduction names the judge, and the reasoning, the cited
norms and the operative part state or imply the outcome.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from casecast.data.text import split_paragraphs

INPUT_SECTIONS = ("facts", "evidence")
SECTIONS = ("intro", "facts", "evidence", "reasoning", "legal_norms", "resolution")


def _spaced(word: str) -> str:
    """A heading word as courts type it: «УСТАНОВИЛ», «установил», «У С Т А Н О В И Л»."""
    return r"\s*".join(re.escape(letter) for letter in word)


# A heading ends in a colon (or a semicolon, a typo) or ends its line: «суд\n\nпостановил\n».
_ESTABLISHED = re.compile(
    rf"(?i)(?:^|[\s,.])(?:{_spaced('установил')}|{_spaced('установила')})\s*(?:[:;]|$)",
    re.MULTILINE,
)
_OPERATIVE = re.compile(
    r"(?i)(?:^|[\s,.])(?:"
    + "|".join(
        f"{_spaced(w)}(?:{_spaced('а')})?"
        for w in ("приговорил", "постановил", "решил", "определил")
    )
    + r")[ \t]*(?:[:;]|$)",
    re.MULTILINE,
)
# How a paragraph of the descriptive-motivational part opens, by section. The part moves
# forward (facts, then evidence, then reasoning); a norm paragraph is taken out and an item
# of evidence kept wherever it stands.
_NORM = re.compile(
    r"(?i)^[\s\-–—•]*(?:в соответствии со? (?:ст|ч|п|част|стать|пункт|требовани|положени"
    r"|федеральн|закон|конституц|постановлени)|в силу (?:ст|ч|п|част|стать|пункт|положени"
    r"|требовани|закон)|согласно (?:ст|ч\.|ч |п\.|п |част|стать|пункт|положени|федеральн"
    r"|закон|постановлени|конституц)|(?:часть|частью|статья|статьей|статьёй) \d|по смыслу"
    r"|федеральн\w* закон\w* (?:от|№)|порядок (?:организации|проведения|реализации))"
)
# An item of evidence: a document, a testimony, an exhibit. Placed as evidence wherever it
# stands (courts list evidence inside their assessment too).
_EVIDENCE_ITEM = re.compile(
    r"(?i)^[\s\-–—•]*(?:(?:протокол|акт|заключени|справк|рапорт|показани|копи|сведени"
    r"|аудиозапис|видеозапис|фототаблиц)\w*|постановлени\w* (?:о|об|мирового)"
    r"|из (?:протокол|показани|заключени|акта|справк|рапорт|оглашенн)\w*|допрошенн\w*"
    r"|свидетел\w*|оглашенн\w*|после прослушивания|разговор №"
    r"|согласно (?:протокол|заключени|акт|справк|рапорт|показани|аудио|видео|сведени"
    r"|объяснени)\w*)"
)
# The court weighing evidence: an item of evidence with it is reasoning.
_ASSESSMENT = re.compile(
    r"(?i)\b(?:суд|судом|судья|судьей)\s+(?:\w+\s+)?(?:оценива|признает|признаёт|расценива"
    r"|принима|не принима|кладет|кладёт|считает|находит|отвергает)|критически"
    r"|не (?:приняты|принимаются) (?:судом )?во внимание|(?:достоверными|допустимыми)"
    r"|вещественн\w* доказательств\w*[^.]{0,40}(?:уничтож|хранить|хранению|вернуть|возвратить)"
)
# The opening of the evidence part: the accused's account, the statement of what proves it.
_EVIDENCE_OPENING = re.compile(
    r"(?i)^[\s\-–—•]*(?:(?:в судебном заседании|допрошенный в судебном заседании) "
    r"(?:подсудим|свидетел|лицо|привлекаем|обвиняем|ФИО|допрошен)\w*"
    r"|(?:подсудим|обвиняем|привлекаем)\w*[^.]{0,60}\b(?:вину|виновн|показал|пояснил)"
    r"|вина [^.]{0,120}подтверждается|факт совершения|(?:его|её|ее) вина)"
)
_REASONING = re.compile(
    r"(?i)^[\s\-–—•]*(?:при назначении|при определении|с учетом|с учётом|таким образом"
    r"|обстоятельств\w*,? (?:смягчающ|отягчающ)|(?:смягчающ|отягчающ)\w* (?:наказание|вину"
    r"|ответственность)|на основании изложенного|руководствуясь|при таких обстоятельствах"
    r"|оснований для|принимая во внимание|учитывая|исходя из|оценив|исследовав"
    r"|проанализировав|выслушав|изучив|суд (?:считает|квалифицирует|полагает|приходит"
    r"|находит|не находит|учитывает|признает|признаёт|пришел|пришёл|также|не усматривает"
    r"|соглашается|критически)|судья (?:считает|квалифицирует|полагает|приходит|находит"
    r"|учитывает|признает|пришел|пришёл)|действия \w+[^.]{0,60}квалифицир|вину \w+[^.]{0,60}"
    r"(?:доказанной|установленной)|достоверных доказательств|вещественные доказательства"
    r"|процессуальные издержки|меру пресечения|гражданский иск)"
)


@dataclass(frozen=True)
class DecisionSections:
    """A decision's paragraphs, by section, in text order within each."""

    intro: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    reasoning: tuple[str, ...] = ()
    legal_norms: tuple[str, ...] = ()
    resolution: tuple[str, ...] = ()
    found: frozenset[str] = field(default_factory=frozenset)  # the headings found

    def inputs(self) -> tuple[str, ...]:
        """What may be read before the decision: the facts, then the evidence."""
        return (*self.facts, *self.evidence)


def parse_decision(text: str) -> DecisionSections:
    """A decision's full text split into its sections.

    Without the «УСТАНОВИЛ:» heading the whole text before an operative heading is read as
    the descriptive-motivational part (a claimant's own account, or a fragment).
    """
    established = _ESTABLISHED.search(text)
    body_start = established.end() if established else 0
    operative = _OPERATIVE.search(text, body_start)
    body_end = operative.start() if operative else len(text)
    intro = _introduction(text, established)
    resolution = split_paragraphs(text[operative.end() :]) if operative else []
    parts = _place_paragraphs(split_paragraphs(text[body_start:body_end]))
    found = {name for name, m in (("established", established), ("operative", operative)) if m}
    return DecisionSections(
        intro=tuple(intro),
        resolution=tuple(resolution),
        found=frozenset(found),
        **{k: tuple(v) for k, v in parts.items()},
    )


def introduction(text: str) -> list[str]:
    """A decision's introduction alone (none without the «УСТАНОВИЛ:» heading): the rest of
    the text is not split, as ``parse_decision`` would."""
    return _introduction(text, _ESTABLISHED.search(text))


def _introduction(text: str, established: re.Match[str] | None) -> list[str]:
    return _without_heading(split_paragraphs(text[: established.end()])) if established else []


def pre_decision_paragraphs(paragraphs: Sequence[str]) -> list[str]:
    """The paragraphs of a text that may be a model input: its facts and evidence.

    For any Russian-language input, decided or not: a pasted judgment loses its
    introduction, reasoning, norms and operative part; an account of facts keeps all of it
    but the paragraphs that open as reasoning or norms do.
    """
    return list(parse_decision("\n\n".join(paragraphs)).inputs())


def _without_heading(intro: list[str]) -> list[str]:
    """The introduction without its closing «УСТАНОВИЛ» word, left on the last paragraph."""
    if intro:
        last = _ESTABLISHED.sub("", intro[-1]).strip(" ,.:")
        intro = [*intro[:-1], last] if last else intro[:-1]
    return intro


def _place_paragraphs(paragraphs: Sequence[str]) -> dict[str, list[str]]:
    placed: dict[str, list[str]] = {
        "facts": [], "evidence": [], "reasoning": [], "legal_norms": []
    }  # fmt: skip
    state = "facts"
    for paragraph in paragraphs:
        if _NORM.search(paragraph):
            placed["legal_norms"].append(paragraph)
            continue
        if state != "reasoning" and (_REASONING.search(paragraph) or _ASSESSMENT.search(paragraph)):
            state = "reasoning"
        elif (
            state == "reasoning"
            and _EVIDENCE_ITEM.search(paragraph)
            and not _ASSESSMENT.search(paragraph)
        ):
            placed["evidence"].append(paragraph)
            continue
        elif (
            state == "facts"
            and placed["facts"]
            and (_EVIDENCE_ITEM.search(paragraph) or _EVIDENCE_OPENING.search(paragraph))
        ):
            state = "evidence"
        placed[state].append(paragraph)
    return placed


# What an introduction says of the case before it is decided. The charge: the articles after
# «предусмотренного/ых …» (or «привлекаемого … по …») up to the code's name; the first
# article of the special part leads (general-part ones, attempt or complicity, qualify it).
_CHARGE = re.compile(
    r"(?:предусмотренн\w*|(?:привлекаем|привлечени)\w* к административной ответственности по)\s+"
    r"(.{0,400}?)(?:ук рф|уголовн\w* кодекс|коап|кодекс\w* (?:рф|российской"
    r" федерации) об административн)"
)
_ARTICLE = re.compile(
    r"(?:(?:ч\.|част[а-яё]*)\s*(\d+)\s*,?\s*)?(?:ст\.\s*ст\.|ст\.|стать[а-яё]*)\s*"
    r"(\d+(?:\s?[.\-]\s?\d+)?)(?:\s*(?:ч\.|част[а-яё]*)\s*(\d+))?"
)
# «разъяснены права, предусмотренные ст. 25.1 КоАП»: the rights explained, not a charge.
_RIGHTS = re.compile(r"\bправа\b[^.;]{0,60}$")
_GENERAL_PART = frozenset({"30", "32", "33", "34", "35", "64", "69", "70", "73", "74"})
# A prior record as introductions state it, for the (first) accused: convicted before, or
# brought to administrative responsibility before; or stated as none.
_NO_RECORD = re.compile(
    r"\bне\s*судим|\bнесудим|\bне имеющ\w* судимост|судимост\w* (?:не имеет|погашен|снят)"
    r"|\bранее не привлека|\bне привлекавш|\bне подвергавш|\bвпервые"
)
_RECORD = re.compile(r"\bсудим|имеющ\w* (?:\w+ )?судимост|\bранее привлека|\bпривлекавш|подвергавш")


def case_particulars(intro: Sequence[str]) -> dict[str, str | None]:
    """The charge and the prior record an introduction states; None where it states none.

    ``charge``: the code and the first special-part article charged, with its part
    («УК 228 ч.2», «КоАП 20.2 ч.1»), as brought by the prosecution or the offence report,
    before the court decides. ``prior_record``: «yes» (convicted, or fined for an offence,
    before), «no» (stated as none). Nothing else of the introduction is read: not the
    judge, the court, the parties or anyone's name.
    """
    text = " ".join(" ".join(intro).split()).lower()
    return {"charge": _charge(text), "prior_record": _prior_record(text)}


def _charge(text: str) -> str | None:
    found = next(
        (m for m in _CHARGE.finditer(text) if not _RIGHTS.search(text, 0, m.start())), None
    )
    if not found:
        return None
    code = "УК" if "ук рф" in found.group(0) or "уголовн" in found.group(0) else "КоАП"
    for part_before, article, part_after in _ARTICLE.findall(found.group(1)):
        article = re.sub(r"\s", "", article).replace("-", ".")
        if code == "УК" and article in _GENERAL_PART:
            continue
        part = part_before or part_after
        return f"{code} {article}" + (f" ч.{part}" if part else "")
    return None


def _prior_record(text: str) -> str | None:
    """The first statement wins: with several accused, the first one's record."""
    none, some = _NO_RECORD.search(text), _RECORD.search(text)
    if none and (not some or none.start() <= some.start()):
        return "no"
    return "yes" if some else None
