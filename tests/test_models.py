"""The Pydantic models: what a researcher may and may not write."""

from __future__ import annotations

import pytest
from living_theories import models as m
from pydantic import ValidationError


def cmoc(**fields):
    return m.CMOC.model_validate({"id": "c-1", **fields})


def test_cmoc_elements_and_defaults():
    c = cmoc(contexts=["ICS formation"], mechanism_resources=["Clear vision"],
             mechanism_reasonings=["Sense of purpose"], outcomes=["Focus on objectives"])
    assert c.mechanism is None and c.outcome is None  # unset: no sign is asserted
    assert [sign for _, sign in c.signed("outcomes")] == [None]
    assert c.lineage is None


def test_cmoc_may_describe_absence_and_negative_outcome():
    c = cmoc(mechanism="absent", outcome="negative", outcomes=["Lower morale"],
             mechanism_reasonings=["Feel ignored", {"text": "Feel heard", "sign": "positive"}])
    assert (c.mechanism, c.outcome) == ("absent", "negative")
    # the shorthand signs every element of its kind that has no sign of its own
    assert c.signed("outcomes") == [("Lower morale", "negative")]
    assert c.signed("mechanism_reasonings") == [("Feel ignored", "negative"),
                                                ("Feel heard", "positive")]
    assert c.signed("contexts") == []


def test_present_and_positive_assert_nothing():
    # they were the defaults before signs existed: files that spell them out asserted nothing
    c = cmoc(mechanism="present", outcome="positive", outcomes=["Trust"])
    assert (c.mechanism, c.outcome) == (None, None)
    assert c.signed("outcomes") == [("Trust", None)]
    assert "mechanism" not in c.model_dump(exclude_defaults=True)


def test_elements_may_carry_the_sign_the_study_prints():
    c = cmoc(mechanism_resources=[{"text": "Leader asks for suggestions", "sign": "positive"}],
             mechanism_reasonings=[{"text": "but overrides them", "sign": "negative"}],
             outcomes=["Upsets the team"])
    assert c.mechanism_resources == ["Leader asks for suggestions"]  # the text, unchanged
    assert [e.sign for e in c.mechanism_resources + c.mechanism_reasonings + c.outcomes] == \
        ["positive", "negative", None]
    # a signed element is stored with its sign; an unsigned one as plain text (old hashes hold)
    assert c.model_dump(exclude_defaults=True)["mechanism_resources"] == [
        {"text": "Leader asks for suggestions", "sign": "positive"}]
    assert c.model_dump(exclude_defaults=True)["outcomes"] == ["Upsets the team"]
    assert m.sign_label("M", "negative") == "M\u2212" and m.sign_label("O", None) == ""


@pytest.mark.parametrize("element,message", [
    ({"text": "x", "sign": "neg"}, "the sign 'neg' is not allowed"),
    ({"txt": "x"}, "unknown field 'txt' in an element"),
    ({"sign": "positive"}, "the element has no text"),
    ({"text": ""}, "at least 1 character"),
])
def test_bad_signed_elements_are_explained(element, message):
    with pytest.raises(ValidationError, match=message):
        cmoc(contexts=[element])


def test_cmoc_with_only_a_label_is_allowed_for_incomplete_records():
    assert cmoc(label="CMOC 3").label == "CMOC 3"


def test_empty_cmoc_is_rejected():
    with pytest.raises(ValidationError, match="the CMOC has no text"):
        cmoc()


@pytest.mark.parametrize("relation,sources,ok", [
    ("kept", ["a"], True), ("refined", ["a"], True), ("merged", ["a", "b"], True),
    ("merged", ["a"], False), ("split", ["a"], True), ("split", ["a", "b"], False),
    ("new", [], True), ("new", ["a"], False), ("not-known", [], True),
    ("not-known", ["a", "b"], True),
])
def test_lineage_relations(relation, sources, ok):
    data = {"relation": relation, "from": sources}
    if ok:
        assert m.Lineage.model_validate(data).from_ == sources
    else:
        with pytest.raises(ValidationError):
            m.Lineage.model_validate(data)


def test_unknown_fields_are_errors():
    with pytest.raises(ValidationError, match="extra"):
        m.VersionFile.model_validate({"stage": "initial", "statment": "typo"})


def test_dates_may_be_partial_and_yaml_dates_become_text():
    import datetime as dt

    # each input keeps exactly its own precision: YAML's date and number become that text
    for value, text in [("2024", "2024"), (2024, "2024"), ("2024-01", "2024-01"),
                        ("2024-01-26", "2024-01-26"), (dt.date(2024, 1, 26), "2024-01-26"),
                        (dt.date(1999, 12, 3), "1999-12-03")]:
        assert m.VersionFile.model_validate({"stage": "initial", "date": value}).date == text
    for bad in ("26/01/2024", "2024-13", "2023-02-29", "2024-1-5", "24", True):
        with pytest.raises(ValidationError):
            m.VersionFile.model_validate({"stage": "initial", "date": bad})
    assert m.VersionFile.model_validate({"stage": "initial", "date": "2024-02-29"}).date


def test_stage_is_extensible():
    assert m.VersionFile.model_validate({"stage": "consultation-draft"}).stage == \
        "consultation-draft"


def test_evidence_needs_quote_or_summary_and_a_target():
    base = {"id": "e-1", "source": "p1", "bears_on": [{"cmoc": "c-1"}]}
    with pytest.raises(ValidationError, match="the evidence has no text"):
        m.Evidence.model_validate(base)
    with pytest.raises(ValidationError, match="write exactly one of"):
        m.Evidence.model_validate({**base, "quote": "q", "bears_on": [{"cmoc": "a",
                                                                         "context": "b"}]})
    e = m.Evidence.model_validate({**base, "quote": "q", "bears_on": [
        {"cmoc": "c-1", "aspect": "C-O", "role": "challenges"}]})
    assert e.bears_on[0].aspect == "C-O" and e.bears_on[0].role == "challenges"


def test_aspect_only_applies_to_cmocs():
    with pytest.raises(ValidationError, match="only applies"):
        m.BearsOn.model_validate({"context": "x", "aspect": "C"})


def test_source_kinds_need_their_fields():
    with pytest.raises(ValidationError, match="key of its paper in references.bib"):
        m.Source.model_validate({"id": "s", "kind": "study"})
    with pytest.raises(ValidationError, match="needs an anonymised code"):
        m.Source.model_validate({"id": "s", "kind": "participant"})
    consultation = m.Source.model_validate({
        "id": "round-1", "kind": "consultation", "title": "Round 1", "date": "2024-05",
        "groups": ["patients", "ICB members"], "reviewed": [{"theory": "t", "version": 2}],
        "questions": [{"text": "Does this ring true?", "cmoc": "c-1"}]})
    assert consultation.reviewed[0].version == 2


def test_ids_must_be_slugs():
    with pytest.raises(ValidationError, match="pattern"):
        m.Source.model_validate({"id": "P2/20", "kind": "participant", "code": "P2/20"})


def test_markdown_fields_are_discovered_from_the_models():
    assert set(m.markdown_fields(m.CMOC)) >= {"narrative", "contexts", "outcomes"}
    assert "quote" not in m.markdown_fields(m.Evidence)  # quotes are verbatim, never parsed
    assert "summary" in m.markdown_fields(m.Evidence)


def test_visibility_defaults_to_public():
    s = m.Source.model_validate({"id": "s", "kind": "meeting", "title": "M"})
    assert s.visibility == "public"


def _all_models(model: type) -> list[type]:
    return [model] + [sub for child in model.__subclasses__() for sub in _all_models(child)]


def test_records_get_private_state_of_their_own_without_a_default_factory():
    # Pydantic (2.13) inspects a private attribute's default factory on every record made:
    # 0.14 ms each, seconds of every build of a big project. Defaults are copied per record.
    factories = [f"{model.__name__}.{name}" for model in _all_models(m.Strict)
                 for name, attr in model.__private_attributes__.items()
                 if attr.default_factory is not None]
    assert factories == []
    one, two = (m.Theory.model_validate({"title": t}) for t in ("One", "Two"))
    one._versions.append("v1")
    assert two._versions == []
