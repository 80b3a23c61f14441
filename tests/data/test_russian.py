"""The Russian section parser, checked against the hand-made markup of real decisions."""

from collections import defaultdict

from casecast.data.datasets import get_dataset
from casecast.data.russian import (
    SECTIONS,
    case_particulars,
    parse_decision,
    pre_decision_paragraphs,
)
from casecast.data.sections import pre_decision_paragraphs as by_language
from casecast.data.sections import stated_particulars


def _norm(text: str) -> str:
    return " ".join(text.split())


def _placement(cases: list[dict]) -> dict[str, dict[str, float]]:
    """For each marked-up section, the share of its characters the parser puts where."""
    placed: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for case in cases:
        parsed = parse_decision(case["text"])
        joined = {s: _norm(" \n ".join(getattr(parsed, s))) for s in SECTIONS}
        for section in SECTIONS:
            for block in case[section]:
                for line in block.split("\n"):
                    probe = _norm(line)[:60]
                    if len(probe) < 20:
                        continue
                    own = section if probe in joined[section] else None
                    where = own or next((s for s in SECTIONS if probe in joined[s]), "none")
                    placed[section][where] += len(_norm(line))
    return {
        section: {where: n / sum(counts.values()) for where, n in counts.items()}
        for section, counts in placed.items()
    }


def test_sections_agree_with_the_markup(raw_cases):
    # Every 4th decision of both collections: criminal judgments and administrative rulings.
    shares = _placement(raw_cases[::4])
    kept = ("facts", "evidence")
    assert shares["intro"].get("intro", 0) > 0.97
    assert sum(shares["facts"].get(s, 0) for s in kept) > 0.8
    assert sum(shares["evidence"].get(s, 0) for s in kept) > 0.7
    assert shares["resolution"].get("resolution", 0) > 0.93
    # What states the outcome rarely stays among the inputs (part of the marked-up "facts"
    # of rulings is the court's own conclusion, which the parser takes out on purpose).
    assert sum(shares["reasoning"].get(s, 0) for s in kept) < 0.15
    assert sum(shares["resolution"].get(s, 0) for s in kept) < 0.05


def test_headings_are_found_in_nearly_every_decision(raw_cases):
    found = [parse_decision(c["text"]).found for c in raw_cases]
    assert sum("established" in f for f in found) / len(found) > 0.97
    assert sum("operative" in f for f in found) / len(found) > 0.97


def test_a_pasted_judgment_keeps_only_facts_and_evidence(raw_cases):
    case = next(c for c in raw_cases if c["collection"] == "papaver" and c["resolution"])
    paragraphs = [p for p in case["text"].split("\n") if p.strip()]
    inputs = " ".join(pre_decision_paragraphs(paragraphs))
    assert _norm(case["resolution"][0])[:80] not in _norm(inputs)
    assert "ПРИГОВОРИЛ" not in inputs.replace(" ", "").upper()
    assert _norm(case["facts"][0])[:80] in _norm(inputs)


def test_spaced_and_inline_headings():
    text = (
        "Судья Иванов И.И., рассмотрев дело,\n\nу с т а н о в и л :\n\n"
        "Петров П.П. провёл пикет у здания администрации без уведомления.\n\n"
        "Протоколом об административном правонарушении подтверждается пикет.\n\n"
        "Оценив доказательства, судья находит вину Петрова доказанной.\n\n"
        "В соответствии со ст. 20.2 КоАП РФ за это назначается штраф.\n\n"
        "На основании изложенного, руководствуясь ст. 29.10 КоАП РФ, судья\n\n"
        "П О С Т А Н О В И Л\n\nПризнать Петрова П.П. виновным, назначить штраф."
    )
    parsed = parse_decision(text)
    assert parsed.found == {"established", "operative"}
    assert parsed.intro == ("Судья Иванов И.И., рассмотрев дело,",)
    assert parsed.facts == ("Петров П.П. провёл пикет у здания администрации без уведомления.",)
    assert parsed.evidence[0].startswith("Протоколом")
    assert parsed.reasoning[0].startswith("Оценив")
    assert parsed.legal_norms[0].startswith("В соответствии")
    assert parsed.resolution == ("Признать Петрова П.П. виновным, назначить штраф.",)


def test_an_account_of_facts_is_kept_whole():
    account = [
        "Меня задержали у магазина с пакетом маковой соломы.",
        "Протокол личного досмотра составили без понятых.",
    ]
    assert pre_decision_paragraphs(account) == account
    assert pre_decision_paragraphs(pre_decision_paragraphs(account)) == account


MINIMAL_SPEC = """
name: other-{language}
description: a court's export with whole texts
names: {{en: A court, ru: Суд, kk: Сот}}
language: {language}
source: {{format: jsonl, files: [cases.jsonl]}}
record: {{id: {{column: id}}, date: {{column: year, format: year}}}}
text: {{columns: [text], split: lines}}
inputs: {{year: {{type: year}}}}
outcome: {{column: outcome, labels: {{fine: fine, other: other}}, otherwise: other,
          classes: [fine, other]}}
validation_from: 2015
"""


def test_every_russian_language_data_set_is_filtered(raw_cases, tmp_path):
    """Not only this data set: any data set in Russian loses its outcome sections."""
    import json

    from casecast.data.datasets import read_split, resolve
    from casecast.data.spec import parse_spec

    case = next(c for c in raw_cases if c["collection"] == "mitingi" and c["resolution"])
    whole = [p for p in case["text"].split("\n") if p.strip()]
    (tmp_path / "cases.jsonl").write_text(
        json.dumps({"id": "x-1", "year": 2015, "text": case["text"], "outcome": "fine"}) + "\n"
    )
    texts = {}
    for language in ("ru", "en"):
        spec = resolve(parse_spec(MINIMAL_SPEC.format(language=language)), tmp_path / "spec.yaml")
        texts[language] = read_split(spec, tmp_path / "cases.jsonl").records[0].paragraphs
    text = _norm(" ".join(texts["ru"]))
    assert _norm(case["resolution"][0])[:80] not in text
    assert len(text) < len(_norm(" ".join(whole)))
    assert list(texts["en"]) == [p.strip() for p in whole]  # no parser: left as written
    assert by_language(list(whole), "en") == list(whole)
    assert get_dataset("ru").language == "ru"


def test_particulars_of_real_introductions(raw_cases):
    by_id = {case["id"]: case for case in raw_cases}

    def particulars(case_id: str) -> dict[str, str | None]:
        return case_particulars(by_id[case_id]["intro"])

    # «…предусмотренного частью 1 статьи 20.2 КоАП РФ», no word of any earlier offence
    assert particulars("mitingi/20.txt") == {"charge": "КоАП 20.2 ч.1", "prior_record": None}
    assert particulars("mitingi/21.txt")["prior_record"] == "yes"  # «ранее привлекался»
    assert particulars("mitingi/22.txt") == {"charge": "КоАП 20.2 ч.1", "prior_record": "no"}
    # «судимого … по ст.158 ч.2 …, обвиняемого … предусмотренных ч. 2 ст. 228; …»: the
    # charge, not the articles of the earlier conviction
    assert particulars("papaver/1665.txt") == {"charge": "УК 228 ч.2", "prior_record": "yes"}
    # «ч. 1 ст. 327-1; …; ч. 3 ст. 30, ч. 1 ст. 228-1»: the first special-part article
    assert particulars("papaver/1667.txt")["charge"] == "УК 327.1 ч.1"


def test_particulars_over_every_decision(raw_cases):
    found = [(case, case_particulars(case["intro"])) for case in raw_cases]
    charged = [(case, p["charge"]) for case, p in found if p["charge"]]
    assert len(charged) > 0.85 * len(raw_cases)
    code = {"papaver": "УК", "mitingi": "КоАП"}
    agree = sum(charge.split()[0] == code[case["collection"]] for case, charge in charged)
    assert agree > 0.99 * len(charged)
    # The record carries what courts weigh: a criminal accused with one is imprisoned far
    # more often than one stated to have none.
    criminal = [(case["outcome"], p["prior_record"]) for case, p in found
                if case["collection"] == "papaver"]  # fmt: skip

    def imprisoned(record: str) -> float:
        outcomes = [o for o, r in criminal if r == record]
        assert len(outcomes) > 100
        return sum(o == "imprisonment" for o in outcomes) / len(outcomes)

    assert imprisoned("yes") > imprisoned("no") + 0.2


def test_particulars_read_no_name_and_state_nothing_unsaid():
    intro = [
        "Судья Ленинского районного суда Иванова А.А., рассмотрев дело в отношении "
        "Петрова П.П., обвиняемого в совершении преступления, предусмотренного "
        "ч. 3 ст. 30, ч. 2 ст. 228 УК РФ,"
    ]
    assert case_particulars(intro) == {"charge": "УК 228 ч.2", "prior_record": None}
    renamed = [intro[0].replace("Иванова А.А.", "Сидоровой Б.Б.").replace("Петрова", "Орлова")]
    assert case_particulars(renamed) == case_particulars(intro)
    assert case_particulars([]) == {"charge": None, "prior_record": None}
    assert case_particulars(["ранее не судимого, обвиняемого по ст. 228 ч. 1 УК РФ"]) == {
        "charge": None,  # no «предусмотренного»: not stated as a charge
        "prior_record": "no",
    }


def test_a_pasted_decision_states_its_particulars(raw_cases):
    case = next(c for c in raw_cases if c["id"] == "papaver/1665.txt")
    assert stated_particulars(case["text"], "ru") == {"charge": "УК 228 ч.2", "prior_record": "yes"}
    # An account of facts has no introduction; a language without a parser states nothing.
    facts = " ".join(case["facts"])
    assert stated_particulars(facts, "ru") == {}
    assert stated_particulars(case["text"], "en") == {}


def test_rights_explained_are_not_the_charge():
    intro = [
        "с участием Сидоровой И.А., которой разъяснены права, предусмотренные ст. 25.1 "
        "КоАП РФ и ст. 51 Конституции РФ, рассмотрев дело об административном "
        "правонарушении, предусмотренном частью 1 статьи20. 2 КоАП РФ,"
    ]
    assert case_particulars(intro)["charge"] == "КоАП 20.2 ч.1"
