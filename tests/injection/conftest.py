"""Plain boto3 clients for the fault library's and the sandbox's own tests.

Clients are made inside each test, after the ``sandbox`` fixture started moto (a session made
before moto's import is not hooked), with retries spelled out: ``standard`` with 3 attempts,
as the reference configures it, or ``legacy``, botocore's default.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from model.harness.sandbox import Sandbox

RETRIES = {
    "standard": {"mode": "standard", "total_max_attempts": 3},
    "legacy": {"mode": "legacy"},
}
# What each call below does, by the operation a fault targets.
OPERATIONS = ("dynamodb.PutItem", "dynamodb.UpdateItem", "dynamodb.GetItem", "sqs.SendMessage")


@attrs.define
class Calls:
    """Makes clients and the one canonical call per operation, and reads what they left."""

    sandbox: Sandbox
    _session: Any = None

    def client(self, service: str, mode: str = "standard", **options: Any) -> Any:
        """A new client (its own retry quota) from this test's session (made after moto)."""
        import boto3
        from botocore.config import Config

        if self._session is None:
            self._session = boto3.session.Session()
        return self._session.client(service, config=Config(retries=RETRIES[mode]), **options)

    def put_item(
        self, message_id: str = "m-1", mode: str = "standard", client: Any = None, **extra: Any
    ) -> dict[str, Any]:
        """PutItem ``{messageId, status: PENDING, version: 1}``; ``extra`` adds request fields."""
        client = client or self.client("dynamodb", mode)
        item = {
            "messageId": {"S": message_id},
            "status": {"S": "PENDING"},
            "version": {"N": "1"},
        }
        return dict(client.put_item(TableName=self.sandbox.table_name, Item=item, **extra))

    def put_item_if_new(self, message_id: str = "m-1", mode: str = "standard") -> dict[str, Any]:
        """The intake's store step: PutItem only if absent, ALL_OLD on a failed condition."""
        return self.put_item(
            message_id,
            mode,
            ConditionExpression="attribute_not_exists(messageId)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    def mark_queued(self, message_id: str = "m-1", mode: str = "standard") -> dict[str, Any]:
        """The intake's status step: PENDING -> QUEUED, version + 1, conditional on PENDING."""
        client = self.client("dynamodb", mode)
        return dict(
            client.update_item(
                TableName=self.sandbox.table_name,
                Key={"messageId": {"S": message_id}},
                UpdateExpression="SET #status = :queued, version = version + :one",
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":queued": {"S": "QUEUED"},
                    ":pending": {"S": "PENDING"},
                    ":one": {"N": "1"},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        )

    def get_item(self, message_id: str = "m-1", mode: str = "standard") -> dict[str, Any]:
        client = self.client("dynamodb", mode)
        return dict(
            client.get_item(TableName=self.sandbox.table_name, Key={"messageId": {"S": message_id}})
        )

    def send_message(
        self, body: str = "m-1", mode: str = "standard", client: Any = None
    ) -> dict[str, Any]:
        client = client or self.client("sqs", mode)
        return dict(client.send_message(QueueUrl=self.sandbox.queue_url, MessageBody=body))

    def call(self, operation: str, mode: str = "standard", message_id: str = "m-1") -> Any:
        """The canonical call of ``operation`` (UpdateItem and GetItem expect a stored record)."""
        calls = {
            "dynamodb.PutItem": self.put_item,
            "dynamodb.UpdateItem": self.mark_queued,
            "dynamodb.GetItem": self.get_item,
            "sqs.SendMessage": self.send_message,
        }
        return calls[operation](message_id, mode)

    def applied(self, operation: str) -> int:
        """How many times the canonical call of ``operation`` left its mark (0: never applied)."""
        if operation == "sqs.SendMessage":
            return len(self.sandbox.messages())
        if operation == "dynamodb.UpdateItem":
            return sum(item["version"] - 1 for item in self.sandbox.items().values())
        return len(self.sandbox.items())

    def store_pending(self, message_id: str = "m-1") -> None:
        """Put a PENDING record without injection, as a precondition."""
        with self.sandbox.injector.pause():
            self.put_item(message_id)


@pytest.fixture
def calls(sandbox: Sandbox) -> Calls:
    """Clients and canonical calls against the fresh sandbox."""
    return Calls(sandbox)
