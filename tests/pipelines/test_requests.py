"""The requests a pipeline file's intake is sent: other content under an id is other content."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.core.spec import load, parse
from model.harness import strategies as strat
from model.harness.requests import Batch, PipelineRequests, Request

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ANY = parse(
    {
        "event": {
            "source": "direct",
            "id_field": "id",
            "content_field": "value",
            "content_kind": "any",
        },
        "table": {
            "env": "T",
            "key": {"id": "{id}"},
            "status": "state",
            "pending": "NEW",
            "queued": "SENT",
            "mutable": ["state"],
            "on_send_failure": "pending",
        },
        "queue": {"env": "Q", "id_path": "id"},
    }
)
SPACES = {
    "object": PipelineRequests(load(EXAMPLES / "invoices_rest.toml")),
    "string": PipelineRequests(load(EXAMPLES / "prompts_text.toml")),
    "any": PipelineRequests(ANY),
    "sqs batch": PipelineRequests(load(EXAMPLES / "deliveries_sqs_batch.toml")),
}


def _first(request: Request | Batch) -> Request:
    return request.requests[0] if isinstance(request, Batch) else request


@pytest.mark.parametrize("kind", sorted(SPACES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_conflicting_content_always_differs_from_the_original(kind, data):
    """Whatever payload is drawn (even none, or one the content already holds), the conflicting
    request carries other content under the same id; so does one made from it in turn."""
    space = SPACES[kind]
    request = data.draw(space.valid, label="request")
    for _ in range(2):
        changed = space.conflicting(request, data.draw(strat.payloads, label="payload"))
        assert _first(request).id == _first(changed).id
        assert _first(request).canonical != _first(changed).canonical
        request = changed


def test_an_empty_payload_still_makes_other_content():
    """The plainest case: an object content, an empty payload drawn."""
    space = SPACES["object"]
    request = Request("id-1", {"sku": 1})
    assert {"sku": 1} != space.conflicting(request, {}).content
    assert {"sku": 1} != space.conflicting(request, {"sku": 1}).content
