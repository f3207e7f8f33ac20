"""The HTML page, parsed with ``html.parser`` and checked against the report it was made from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report.pages import Element, Page, by_class, parse, svgs

from model.report import html, sample
from model.report.trace import Coverage, Failure, Header, Report, Step

PASS = sample.pass_report()
FAIL = sample.fail_report()
STORY = sample.story_report()


def page_of(report: Report) -> Page:
    return parse(html.render(report))


def test_a_pass_page_says_pass_and_shows_no_failure() -> None:
    """The verdict, and no failure section, diagram or record table."""
    page = page_of(PASS)
    assert "PASS" == page.root.one(cls="badge").text()
    assert [] == page.root.find_all(cls="failure")
    assert [] == svgs(page.source)


def test_a_fail_page_shows_each_failure_with_its_diagram() -> None:
    """One section per failure, in the report's order (the shallowest first), each with its
    diagram, what broke, the story and the replay commands."""
    page = page_of(FAIL)
    assert "FAIL" == page.root.one(cls="badge").text()
    sections = page.root.find_all("section", "failure")
    assert [f"failure-{n}" for n in range(1, len(FAIL.failures) + 1)] == [
        s.attributes["id"] for s in sections
    ]
    for failure, section in zip(FAIL.failures, sections, strict=True):
        assert failure.invariant in section.one("h2").text()
        assert 1 == len(section.find_all("svg"))
        problems = [li.text() for li in section.one("ul", "problems").find_all("li")]
        assert list(failure.problems) == problems
        story = section.one("pre", "story").text().splitlines()
        assert [f"{n}. {line}" for n, line in enumerate(failure.story, 1)] == story
        assert list(failure.replay) == section.one("pre", "replay").text().splitlines()


def test_the_page_shows_what_was_verified_and_how_fast() -> None:
    """Handler, backend, profile, versions; examples, steps and steps per second."""
    page = page_of(PASS)
    facts = page.root.find_all("section")[0].text()
    for shown in (PASS.header.handler, PASS.header.backend, PASS.header.settings):
        assert shown in facts
    for name, version in PASS.header.versions.items():
        assert f"{name} {version}" in facts
    stats = {
        li.attributes["data-stat"]: li.one("b").text()
        for li in page.root.find_all("li")
        if "data-stat" in li.attributes
    }
    assert f"{PASS.stats.examples:,}" == stats["examples"]
    assert f"{PASS.stats.steps:,}" == stats["steps"]
    assert f"{PASS.stats.steps_per_s:,.0f}" == stats["steps_per_s"]
    assert f"{PASS.stats.invariant_checks:,}" == stats["invariant_checks"]


def heat_cells(table: Element) -> dict[tuple[str, str], int]:
    cells = {}
    for td in table.find_all("td", "heat"):
        count = int(td.text())
        assert str(count) == td.attributes["data-count"]
        cells[td.attributes["data-op"], td.attributes["data-kind"]] = count
    return cells


@pytest.mark.parametrize("report", [PASS, FAIL], ids=["PASS", "FAIL"])
def test_the_heatmap_cells_are_the_coverage_counts(report: Report) -> None:
    """Every operation x kind, the count written in the cell; 0 where nothing was injected."""
    page = page_of(report)
    coverage = report.coverage
    for table_id, counts, kinds in (
        ("faults", coverage.faults, coverage.fault_kinds),
        ("races", coverage.races, coverage.race_kinds),
    ):
        (table,) = [t for t in page.root.find_all("table") if t.attributes.get("id") == table_id]
        expected = {(op, k): counts.get((op, k), 0) for op in coverage.operations for k in kinds}
        assert expected == heat_cells(table)


def test_the_shade_grows_with_the_count() -> None:
    """A cell with more injections is darker; an empty one is not shaded at all."""
    coverage = Coverage(
        faults={("sqs.SendMessage", "throttle"): 400, ("sqs.SendMessage", "crash"): 3}
    )
    page = page_of(Report(coverage=coverage))
    shades = {
        td.attributes["data-kind"]: float(re.findall(r"--shade: ([0-9.]+)", style)[0])
        for td in page.root.find_all("td", "heat")
        for style in [td.attributes["style"]]
    }
    assert shades["throttle"] > shades["crash"] > shades["timeout"] == 0.0


def test_the_invariants_checked_are_listed() -> None:
    """Name and rule, in the report's order."""
    page = page_of(PASS)
    rows = page.root.one("table", "invariants").one("tbody").find_all("tr")
    assert list(PASS.invariants) == [tuple(td.text() for td in row.find_all("td")) for row in rows]


def record_rows(report: Report, failure: int = 0) -> list[Element]:
    page = page_of(report)
    section = page.root.find_all("section", "failure")[failure]
    return section.one("table", "record").one("tbody").find_all("tr")


def test_the_record_after_each_step() -> None:
    """A row per step (and per observation inside one), the record's value in each cell."""
    failure = STORY.failures[0]
    rows = record_rows(STORY)
    assert [str(s.number) for s in failure.steps] == [r.attributes["data-step"] for r in rows]
    header = page_of(STORY).root.one("table", "record").one("thead").find_all("th")
    columns = [th.text() for th in header][1:]
    assert "status" == columns[0]
    for step, row in zip(failure.steps, rows, strict=True):
        record = step.records_after.get("order-1")
        cells = row.find_all("td")
        if record is None:
            assert "no record" in cells[0].text()
        else:
            shown = [td.attributes.get("title", td.text()) for td in cells]
            assert [record.get(name, "") for name in columns] == [
                s.split(" (was ")[0] for s in shown
            ]


def test_a_status_change_shows_at_a_glance() -> None:
    """The cell is flagged as changed and says what the status was; a row inside the step shows
    the record as the race's actor left it."""
    rows = record_rows(FAIL, failure=1)
    inside = [r for r in rows if "inside" in r.attributes.get("class", "")]
    assert 1 == len(inside)
    assert "PROCESSING" == inside[0].find_all("td")[0].text()
    last = rows[-1].find_all("td")[0]
    assert {"status", "changed"} <= last.classes
    assert "QUEUED (was PROCESSING)" == last.text()
    assert "broke" in rows[-1].classes


def test_the_queues_messages_where_they_changed() -> None:
    """For each step after which a record's messages changed: how many before and after, and
    every body."""
    failure = FAIL.failures[0]
    page = page_of(FAIL)
    table = page.root.find_all("section", "failure")[0].one("table", "queue")
    (row,) = table.one("tbody").find_all("tr")
    assert "0 \u2192 2" == row.find_all("td")[1].text()
    assert list(failure.steps[0].messages_after["order-1"]) == [
        code.text() for code in row.find_all("code")[1:]
    ]


def test_the_page_fetches_nothing_and_runs_nothing() -> None:
    """No script, no URL that leaves the page in src, href, url(...) or @import, and a policy
    that tells the browser so."""
    for report in (PASS, FAIL, STORY):
        page = page_of(report)
        assert [] == [tag for tag, _ in page.tags if tag in ("script", "iframe", "object", "embed")]
        for _, attributes in page.tags:
            for name in ("src", "href", "xlink:href", "action"):
                value = attributes.get(name)
                if value is not None:
                    assert value.startswith("#"), (name, value)
            assert not any(name.startswith("on") for name in attributes)
        assert [] == re.findall(r"@import", page.source)
        for target in re.findall(r"url\(\s*([^)]*)\)", page.source):
            assert not re.match(r"""['"]?\s*(https?:|//|[a-z]+:)""", target), target
        policy = [a for t, a in page.tags if t == "meta" and "http-equiv" in a]
        assert "default-src 'none'" in policy[0]["content"]


def test_the_page_reads_in_print_and_in_dark_mode() -> None:
    """Its styles have a print and a dark-scheme variant."""
    source = html.render(PASS)
    assert "@media print" in source
    assert "@media (prefers-color-scheme: dark)" in source


def test_write_saves_the_page_as_utf8(tmp_path: Path) -> None:
    """``write`` and ``render`` give the same page."""
    path = html.write(FAIL, tmp_path / "report.html")
    assert html.render(FAIL) == path.read_text(encoding="utf-8")


def test_a_failure_without_steps_still_reports() -> None:
    """A failure the machine could not tell as a story shows its invariant and problems."""
    report = Report(failures=[Failure("liveness", ["stuck"])])
    section = page_of(report).root.one("section", "failure")
    assert "liveness" in section.text()
    assert ["stuck"] == [
        li.text() for li in section.find_all("li") if "problems" not in li.classes
    ][:1]


def test_a_diagram_per_failure_with_its_own_number() -> None:
    """Several diagrams on one page: each is well-formed and knows its failure."""
    drawn = svgs(html.render(FAIL))
    assert ["1", "2"] == [svg.get("data-failure") for svg in drawn]
    assert len(by_class(drawn[0], "call")) == sum(len(s.calls) for s in FAIL.failures[0].steps)


def test_the_record_table_follows_the_pipelines_status_attribute() -> None:
    """A pipeline's record names its status otherwise; that column comes first."""
    step = Step(1, "invoke", "x", records_after={"id-1": {"pk": "T#1", "phase": "OPEN"}})
    report = Report(Header(status_attribute="phase"), failures=[Failure("x", steps=[step])])
    header = page_of(report).root.one("table", "record").find_all("th")
    assert ["step", "phase", "pk"] == [th.text() for th in header][:3]
