"""Hostile text in every text field: nothing of it becomes markup, the page and each diagram
stay well-formed, and the file can be written.

A handler's answer, a payload in a record, an operation name from a pipeline file: anything the
run shows may hold ``</script>``, quotes, ``]]>``, a NUL or a lone surrogate. The report is
built with the hostile string in every ``str`` of every value (a walker checks none is left
out), then read back.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from report.pages import parse, svgs

from model.report import html, sequence
from model.report.text import clean
from model.report.trace import (
    Broken,
    Call,
    Coverage,
    Failure,
    Header,
    Invocation,
    Mark,
    Report,
    Stats,
    Step,
)

HOSTILE = {
    "script": "</script><script>alert(1)</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "svg": "</svg><svg onload=alert(1)><text>",
    "cdata": "]]><![CDATA[",
    "entities": "& &amp; &#60; &lt;",
    "quotes": "'single' \"double\" `back`",
    "comment": "--><!-- <!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
    "template": "{{ 7*7 }} {% raw %}",
    "surrogate": "lone \ud800 surrogate",
    "nul": "nul \x00 and \x1b escape",
    "long": "L" * 100_000,
}
# Fields that hold one of a few words the report itself defines, never the run's text.
CHOSEN = {"runtime", "action", "kind", "outcome"}


def hostile_report(text: str) -> Report:
    """``text`` in every text field of every value a report holds."""
    records = {text: {text: text}}  # the status attribute is named ``text`` too
    calls = [Call(text, text, text, 1, "error:" + text), Call(text, text, "dynamodb", 2, "crash")]
    step = Step(
        1,
        "invoke",
        text,
        invocations=[Invocation(text, text, text, "failed")],
        calls=calls,
        marks=[Mark("race", 1, text, text, records), Mark("switch", 2, text, text)],
        actor=text,
        broke=Broken(text, [text, text]),
        records_after=records,
        messages_after={text: [text, text]},
    )
    actor = Step(2, "actor", text, actor=text + "2", records_after={})
    failure = Failure(text, [text], [step, actor], [text], [text], text)
    return Report(
        Header(text, text, "python", text, text, text, text, text, {text: text}, text),
        Stats(1, 2, 3, 4.0, 5, 6),
        [(text, text)],
        Coverage({(text, text): 1}, {(text, text): 2}, 3, {text: 4}),
        [failure, failure],
    )


def strings(value: Any, path: str = "report") -> Iterator[tuple[str, str]]:
    """Every (path, str) inside ``value``, through attrs values, mappings and sequences."""
    if isinstance(value, str):
        yield path, value
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield from strings(getattr(value, field.name), f"{path}.{field.name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key, f"{path}[key]")
            yield from strings(item, f"{path}[{key!r:.20}]")
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")


def test_the_hostile_report_has_the_text_in_every_text_field() -> None:
    """So the tests below cover every field: only the report's own words are left out."""
    marker = "MARK"
    report = hostile_report(marker)
    missing = [
        path
        for path, value in strings(report)
        if marker not in value and path.rsplit(".", 1)[-1].split("[")[0] not in CHOSEN
    ]
    # only the second call's service: it goes to a lane the report knows, in both failures
    assert [f"report.failures[{n}].steps[0].calls[1].service" for n in (0, 1)] == missing


def calm(text: str) -> str:
    """A harmless string that the report lays out like ``text``: as long, with the same
    spaces (so it is cut at the same places)."""
    return re.sub(r"\S", "c", clean(text))


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_nothing_hostile_becomes_markup(text: str) -> None:
    """The tags and attributes of the page are the template's own, whatever the data."""
    calm_page = parse(html.render(hostile_report(calm(text))))
    page = parse(html.render(hostile_report(text)))
    assert [tag for tag, _ in calm_page.tags] == [tag for tag, _ in page.tags]
    assert [sorted(a) for _, a in calm_page.tags] == [sorted(a) for _, a in page.tags]
    for _, attributes in page.tags:
        assert not any(name.startswith("on") for name in attributes)


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_hostile_text_is_shown_as_text(text: str) -> None:
    """It reads back as itself (cleaned of what HTML cannot carry) in the page's text."""
    shown = clean(text)
    page = parse(html.render(hostile_report(text)))
    assert shown in page.root.text()
    story = page.root.find_all("pre", "story")[0].text()
    assert f"1. {shown}\n" in story


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_each_diagram_stays_well_formed_xml(text: str) -> None:
    """Parsed on its own, from the page and from ``sequence.render``; the tooltips keep the
    whole text."""
    report = hostile_report(text)
    drawn = svgs(html.render(report))
    assert 2 == len(drawn)
    svg = ET.fromstring(sequence.render(report.failures[0]))
    titles = [t.text or "" for t in svg.iter("title")]
    assert any(clean(text) in t for t in titles)
    assert 2 == len([e for e in svg.iter() if "call" in e.get("class", "").split()])


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_page_can_be_written(tmp_path: Path, text: str) -> None:
    """A lone surrogate or a NUL in a record never stops the file from being written."""
    path = html.write(hostile_report(text), tmp_path / "report.html")
    content = path.read_bytes().decode("utf-8")
    assert "\x00" not in content
    assert "<script" not in content.lower().replace("&lt;script", "")


@given(st.text().map(lambda text: "x" + text))
def test_any_text_at_all(text: str) -> None:
    """Whatever the string, the diagram parses as XML and the page's markup is unchanged.
    (Prefixed, so it never names a lane the report knows, "dynamodb" say, which would rightly
    draw one lane fewer than its calm twin.)"""
    report = hostile_report(text)
    ET.fromstring(sequence.render(report.failures[0]))
    tags = [tag for tag, _ in parse(html.render(report)).tags]
    assert [tag for tag, _ in parse(html.render(hostile_report(calm(text)))).tags] == tags
