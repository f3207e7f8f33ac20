"""The report in a real browser: Debian's headless Chromium, offline, with a fresh profile.

The diagram counts as rendered when, in a copy of the page with a small checking script added
(the report itself has none), the browser lays out every diagram and every call's arrow with a
box of non-zero size and paints each outcome in its own colour; and when a screenshot of the
page itself, scripts off, is not blank. Skipped without ``/usr/bin/chromium`` (``apt-get install
chromium``), unless ``QUEUECHECK_BROWSER_TESTS=1``: then a missing browser fails.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest
from report.pages import Image, decode_png, parse

from model.report import chromium, html, sample
from model.report.trace import Report

PASS = sample.pass_report()
FAIL = sample.fail_report()
STORY = sample.story_report()
REQUIRED = os.environ.get("QUEUECHECK_BROWSER_TESTS") == "1"

CHECK = """<script>
(function () {
  function box(element) {
    var r = element.getBoundingClientRect();
    return [r.width, r.height];
  }
  var out = {diagrams: [], calls: [], lanes: [], broke: [], badge: null};
  document.querySelectorAll("svg.sequence").forEach(function (svg) {
    out.diagrams.push(box(svg));
  });
  document.querySelectorAll("svg.sequence g.call").forEach(function (g) {
    var line = g.querySelector("line");
    out.calls.push({
      box: box(g),
      line: box(line),
      label: g.querySelector("text").getComputedTextLength(),
      outcome: g.getAttribute("data-outcome"),
      stroke: getComputedStyle(line).stroke
    });
  });
  document.querySelectorAll("svg.sequence g.lane").forEach(function (g) {
    out.lanes.push(box(g));
  });
  document.querySelectorAll("svg.sequence g.step.broke rect.step-box").forEach(function (rect) {
    out.broke.push({box: box(rect), fill: getComputedStyle(rect).fill});
  });
  var badge = document.getElementById("verdict");
  var colour = getComputedStyle(badge).backgroundColor;
  out.badge = {text: badge.textContent, box: box(badge), color: colour};
  var pre = document.createElement("pre");
  pre.id = "qc-check";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


@pytest.fixture(scope="module")
def browser() -> str:
    exe = chromium.find()
    if exe is None or not Path(exe).exists():
        if REQUIRED:
            pytest.fail("QUEUECHECK_BROWSER_TESTS=1, but there is no Chromium at /usr/bin/chromium")
        pytest.skip(
            "no Chromium at /usr/bin/chromium: apt-get install chromium "
            "(QUEUECHECK_BROWSER_TESTS=1 turns this skip into a failure)"
        )
    return exe


def checked(report: Report, scratch: Path) -> dict[str, object]:
    """What the checking script measured in a copy of the page."""
    page = html.render(report)
    policy = re.search(r'<meta http-equiv="Content-Security-Policy"[^>]*>', page)
    assert policy is not None  # it forbids scripts: the copy drops it to run the check
    copy = page.replace(policy.group(0), "").replace("</body>", CHECK + "</body>")
    path = scratch / "check.html"
    path.write_text(copy, encoding="utf-8")
    dom = chromium.dump_dom(path, scratch=scratch)
    (pre,) = [e for e in parse(dom).root.find_all("pre") if e.attributes.get("id") == "qc-check"]
    result: dict[str, object] = json.loads(pre.text())
    return result


def no_chromium_left(scratch: Path) -> None:
    assert [] == chromium.leftovers(str(scratch))


@pytest.mark.parametrize("report", [FAIL, STORY], ids=["interleaving and race", "liveness"])
def test_every_diagram_and_arrow_is_laid_out(browser: str, tmp_path: Path, report: Report) -> None:
    """Non-empty boxes for each diagram, lane and call arrow (one per recorded call), each
    outcome in a colour of its own, and the broken step filled."""
    result = checked(report, tmp_path)
    no_chromium_left(tmp_path)
    diagrams = result["diagrams"]
    assert isinstance(diagrams, list)
    assert len(report.failures) == len(diagrams)
    assert all(w > 100 and h > 100 for w, h in diagrams)
    calls = result["calls"]
    assert isinstance(calls, list)
    recorded = [c.outcome for f in report.failures for s in f.steps for c in s.calls]
    assert recorded == [c["outcome"] for c in calls]
    for call in calls:
        assert call["box"][0] > 20 and call["box"][1] > 5, call
        assert call["line"][0] > 20, call
        assert call["label"] > 0, call
    strokes = {c["outcome"].split(":")[0]: c["stroke"] for c in calls}
    assert len(set(strokes.values())) == len(strokes), strokes
    assert all(w > 0 and h > 0 for w, h in result["lanes"])  # type: ignore[attr-defined]
    broke = result["broke"]
    assert isinstance(broke, list)
    assert len([f for f in report.failures if f.broken_step is not None]) == len(broke)
    for band in broke:
        assert band["box"][1] > 20
        assert band["fill"] not in ("none", "rgba(0, 0, 0, 0)")


def test_the_verdict_badge_is_painted(browser: str, tmp_path: Path) -> None:
    """The FAIL badge shows, in the failure colour."""
    badge = checked(FAIL, tmp_path)["badge"]
    assert isinstance(badge, dict)
    assert "FAIL" == badge["text"]
    assert badge["box"][0] > 20
    assert "rgb(207, 34, 46)" == badge["color"]


def colours(image: Image, step: int = 5) -> Counter[tuple[int, ...]]:
    return Counter(
        image.pixel(x, y) for y in range(0, image.height, step) for x in range(0, image.width, step)
    )


def near(colour: tuple[int, ...], target: tuple[int, int, int], within: int = 24) -> bool:
    return all(abs(a - b) <= within for a, b in zip(colour, target, strict=False))


@pytest.mark.parametrize(
    ("report", "badge"),
    [(PASS, (26, 127, 55)), (FAIL, (207, 34, 46))],
    ids=["PASS", "FAIL"],
)
def test_a_screenshot_is_not_blank(
    browser: str, tmp_path: Path, report: Report, badge: tuple[int, int, int]
) -> None:
    """The page as it is (its policy forbids scripts): many colours, a good share of the page
    drawn, and the verdict's colour."""
    page = html.write(report, tmp_path / "report.html")
    shot = chromium.screenshot(page, tmp_path / "report.png", (1280, 1400), scratch=tmp_path)
    no_chromium_left(tmp_path)
    image = decode_png(shot)
    assert (1280, 1400) == (image.width, image.height)
    seen = colours(image)
    background, most = seen.most_common(1)[0]
    assert len(seen) >= 40, len(seen)
    assert 1 - most / seen.total() >= 0.08
    assert any(near(colour, badge) for colour in seen), "no pixel in the verdict's colour"
    assert near(background, (255, 255, 255))


def test_the_time_limit_ends_chromium(browser: str, tmp_path: Path) -> None:
    """A run past its time limit is stopped, reported, and leaves no process behind."""
    page = html.write(PASS, tmp_path / "report.html")
    with pytest.raises(chromium.ChromiumError, match="took more than"):
        chromium.run(["--dump-dom", page.as_uri()], timeout=0.05, scratch=tmp_path)
    no_chromium_left(tmp_path)


def test_the_docs_screenshots_come_from_one_command(browser: str, tmp_path: Path) -> None:
    """``python -m model.report.sample DIR`` writes both screenshots, neither blank."""
    assert 0 == sample.main([str(tmp_path), "--html"])
    for name in ("pass", "fail"):
        image = decode_png(tmp_path / f"report-{name}.png")
        assert len(colours(image, 9)) >= 40
        assert (tmp_path / f"report-{name}.html").exists()
