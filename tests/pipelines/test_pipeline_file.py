"""Pipeline files: a good one is read as written; a bad one gets one line per mistake, exit 2."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from model.core.spec import PipelineFileError, load, parse
from model.entrypoints.verify import main

ROOT = Path(__file__).resolve().parents[2]

GOOD = textwrap.dedent(
    """
    handler = "billing.intake:handler"

    [event]
    source = "rest"
    method = "POST"
    path = "/invoices"
    id_field = "invoiceId"
    content_field = "lines"
    extra = { source = "portal" }

    [answer]
    accepted = [200, 201, 202]

    [table]
    env = "INVOICES_TABLE"
    key = { pk = "INV#{id}", sk = "HEAD" }
    status = "phase"
    pending = "ACCEPTED"
    queued = "FORWARDED"
    later = ["BILLED", "PAID"]
    mutable = ["phase", "changedAt", "forwardedAt"]
    on_send_failure = "pending"

    [queue]
    env = "INVOICES_QUEUE_URL"
    id_path = "invoice.id"
    """
)


def write(tmp_path, text, name="intake.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def problems_of(tmp_path, text):
    with pytest.raises(PipelineFileError) as caught:
        load(write(tmp_path, text))
    return caught.value.problems


def test_the_issue_example_reads_as_written(tmp_path):
    """Every key of the documented example lands where the harness looks for it."""
    pipeline = load(write(tmp_path, GOOD))
    assert ("ACCEPTED", "FORWARDED", "BILLED", "PAID") == pipeline.statuses
    assert {"pk": "INV#id-1", "sk": "HEAD"} == pipeline.key_for("id-1")
    assert "id-1" == pipeline.id_of_key({"pk": "INV#id-1", "sk": "HEAD", "phase": "x"})
    assert pipeline.id_of_key({"pk": "INV#id-1", "sk": "LINE#1"}) is None
    assert pipeline.id_of_key({"pk": "ORDER#1", "sk": "HEAD"}) is None
    assert "id-1" == pipeline.id_in_message({"invoice": {"id": "id-1"}})
    assert pipeline.id_in_message({"invoice": {"id": 7}}) is None
    assert {"source": "portal", "invoiceId": "a", "lines": {}} == pipeline.body("a", {})
    assert frozenset({200, 201, 202}) == pipeline.accepted
    assert "POST /invoices" == pipeline.route


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("[queue]", '[queue]\ncolour = "red"'), "unknown key 'queue.colour' in [queue]"),
        (('path = "/invoices"\n', ""), "missing key event.path (a string)"),
        (('id_field = "invoiceId"', "id_field = 3"), "event.id_field must be a string, not an"),
        (
            ("accepted = [200, 201, 202]", 'accepted = ["200"]'),
            "answer.accepted must be an array of integers, not an array of strings",
        ),
        (('"INV#{id}"', '"INV#"'), "table.key must carry the id: no template holds {id}"),
        (('later = ["BILLED", "PAID"]', 'later = ["BILLED", "ACCEPTED"]'), "listed twice"),
        (('source = "rest"', 'source = "soap"'), "event.source 'soap' must be one of"),
        (('"pending"\n', '"maybe"\n'), "table.on_send_failure 'maybe' must be"),
        (('mutable = ["phase", ', "mutable = ["), "table.mutable must list the status attribute"),
        (('sk = "HEAD"', 'sk = "HEAD", x = "{id}"'), "table.key has 3 attributes"),
        (('id_path = "invoice.id"', 'id_path = "invoice..id"'), "must be a dotted path"),
        (("accepted = [200, 201, 202]", "accepted = [200, 404]"), "not a success status"),
        (
            ('source = "rest"', 'source = "http"\nbase64 = true'),
            "event.base64 is only for rest sources, not http: only a REST API base64-encodes",
        ),
        (('source = "rest"', 'source = "rest"\nbase64 = "yes"'), "event.base64 must be a boolean"),
    ],
)
def test_each_mistake_gets_its_own_line(tmp_path, change, expected):
    """A mistake is reported on one line that names the key and what was expected."""
    old, new = change
    assert old in GOOD
    problems = problems_of(tmp_path, GOOD.replace(old, new, 1))
    assert any(expected in problem for problem in problems), problems
    assert all("\n" not in problem for problem in problems)


def test_every_mistake_is_reported_at_once(tmp_path):
    """Three mistakes of one kind: three lines, so one run fixes them all."""
    text = GOOD.replace('status = "phase"', "status = 1").replace('env = "INVOICES_TABLE"', "")
    problems = problems_of(tmp_path, text + "\n[extra]\nx = 1\n")
    assert 3 == len(problems), problems


def test_direct_source_needs_no_route_and_refuses_one(tmp_path):
    """A direct pipeline has no method, path or answer; naming them is a mistake."""
    direct = GOOD.replace('source = "rest"', 'source = "direct"')
    problems = problems_of(tmp_path, direct)
    assert 3 == len(problems), problems
    assert all("only for rest and http sources, not direct: " in p for p in problems)
    bare = direct.replace('method = "POST"\n', "").replace('path = "/invoices"\n', "")
    bare = bare.replace("[answer]\naccepted = [200, 201, 202]\n", "")
    assert "direct invocation" == load(write(tmp_path, bare)).route


def test_shipped_pipeline_files_are_valid():
    """pipelines/reference.toml and every example load without a problem."""
    files = [ROOT / "pipelines" / "reference.toml", *sorted((ROOT / "examples").glob("*.toml"))]
    assert all(load(path).handler for path in files)


def test_parse_names_missing_tables():
    """An empty document names each table it needs."""
    with pytest.raises(PipelineFileError) as caught:
        parse({}, "empty.toml")
    assert {"missing key event (a table)", "missing key table (a table)"} <= set(
        caught.value.problems
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--profile", "nosuch"],
        ["--max-examples", "-3"],
        ["--max-examples", "many"],
        ["--pipeline", "/no/such/pipeline.toml"],
        ["--no-such-option"],
    ],
)
def test_bad_arguments_end_in_one_line_and_exit_2(argv, capsys):
    """queuecheck-verify refuses a bad argument with one line on stderr and exit status 2."""
    with pytest.raises(SystemExit) as caught:
        code = main(argv)
        raise SystemExit(code)
    assert 2 == caught.value.code
    err = capsys.readouterr().err.strip()
    assert 1 == len(err.splitlines()), err
    assert err.startswith("queuecheck verify: ")


def test_a_broken_pipeline_file_fails_verify_before_anything_runs(tmp_path):
    """The real command, run as a user would: one line per mistake, exit 2, no traceback."""
    path = write(
        tmp_path,
        GOOD.replace('source = "rest"', 'source = "soap"').replace("[queue]", "[queue]\nx = 1"),
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from model.entrypoints.verify import main; sys.exit(main())",
            "--pipeline",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert 2 == result.returncode, result.stderr
    assert "Traceback" not in result.stderr
    assert [
        f"queuecheck verify: {path}: unknown key 'queue.x' in [queue] (known keys: env, id_path)"
    ] == result.stderr.splitlines()


SQS = textwrap.dedent(
    """
    handler = "deliveries:handler"

    [event]
    source = "sqs"
    id_field = "deliveryId"
    content_field = "parcel"

    [answer]
    partial_batch = true

    [table]
    env = "DELIVERIES_TABLE"
    key = { pk = "DLV#{id}" }
    status = "stage"
    pending = "STORED"
    queued = "FORWARDED"
    mutable = ["stage"]
    on_send_failure = "pending"

    [queue]
    env = "DELIVERIES_QUEUE_URL"
    id_path = "delivery.id"
    """
)


@pytest.mark.parametrize(
    ("document", "change", "expected"),
    [
        (
            GOOD,
            ("accepted = [200, 201, 202]", "accepted = [200]\npartial_batch = true"),
            "answer.partial_batch is only for sqs sources, not http: it says Lambda reads the "
            "answer as a partial batch response (ReportBatchItemFailures), which only an SQS "
            "event source mapping does",
        ),
        (
            GOOD,
            ('source = "rest"', 'source = "http"\nbase64 = true'),
            "event.base64 is only for rest sources, not http: only a REST API base64-encodes a "
            "JSON body (as its binary media types say); an HTTP API never does",
        ),
        (
            GOOD,
            ('source = "rest"', 'source = "direct"'),
            "event.method is only for rest and http sources, not direct: it is the method of "
            "the route API Gateway invokes the handler for",
        ),
        (
            SQS,
            ("partial_batch = true", 'invalid = "refuse"\naccepted = [200]'),
            "answer.accepted is only for rest and http sources, not sqs: it lists the HTTP "
            "statuses of an accepted request, and only API Gateway answers over HTTP",
        ),
        (
            SQS,
            ('id_field = "deliveryId"', 'id_field = "deliveryId"\nheaders = { x = "1" }'),
            "event.headers is only for rest and http sources, not sqs: only API Gateway passes "
            "request headers",
        ),
        (
            SQS,
            ("partial_batch = true", 'partial_batch = true\nid_path = "delivery.id"'),
            "answer.id_path is only for rest, http and direct sources, not sqs: it is where the "
            "answer names the id the handler made, and an SQS message's body carries its id "
            "(event.id_field)",
        ),
    ],
)
def test_a_key_the_source_cannot_use_is_refused_by_why_that_key_cannot_be(
    tmp_path, document, change, expected
):
    """The refusal is one line: the file, the key, the sources it is for, and why that key
    means nothing to this source (not a sentence about the source that fits another key)."""
    old, new = change
    assert old in document
    text = document.replace(old, new, 1)
    if "partial_batch" in new:  # on an HTTP API
        text = text.replace('source = "rest"', 'source = "http"')
    path = write(tmp_path, text)
    with pytest.raises(PipelineFileError) as caught:
        load(path)
    lines = str(caught.value).splitlines()
    assert f"{path}: {expected}" in lines, lines
    key = expected.split(" ")[0]
    assert 1 == sum(f": {key} " in line for line in lines), lines
