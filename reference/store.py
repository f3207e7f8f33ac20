"""The DynamoDB side of the intake: one method per step, DynamoDB's wire shapes only here."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from reference.aws import error_code, translate
from reference.failures import StoreError
from reference.messages import Record, Status, Submission, iso_millis

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]


def _record(item: Item) -> Record:
    def text(name: str) -> str:
        return str(item.get(name, {}).get("S", ""))

    ttl = item.get("ttl", {}).get("N")
    return Record(
        message_id=text("messageId"),
        status=text("status"),
        payload_hash=text("payloadHash"),
        type=text("type"),
        created_at=text("createdAt"),
        updated_at=text("updatedAt"),
        queued_at=text("queuedAt") or None,
        ttl=int(ttl) if ttl is not None else None,
    )


class DynamoStore:
    """Conditional writes only: every write states what it expects to find."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def put_pending(
        self, submission: Submission, now: datetime, ttl_seconds: int, request_id: str | None
    ) -> Record | None:
        """Store a new PENDING record; return the existing one instead if the id is taken.

        An expired record (``ttl`` in the past, not yet deleted by DynamoDB) is replaced.
        ``ALL_OLD`` on the failed condition hands back the existing item without a read.
        """
        stamp = iso_millis(now)
        item: Item = {
            "messageId": {"S": submission.message_id},
            "type": {"S": submission.type},
            "payload": {"S": submission.payload_json},
            "payloadHash": {"S": submission.payload_hash},
            "status": {"S": Status.PENDING},
            "createdAt": {"S": stamp},
            "updatedAt": {"S": stamp},
            "ttl": {"N": str(int(now.timestamp()) + ttl_seconds)},
            "version": {"N": "1"},
        }
        if submission.attributes is not None:
            item["attributes"] = {"M": {k: {"S": v} for k, v in submission.attributes.items()}}
        if request_id:
            item["requestId"] = {"S": request_id}
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(messageId) OR #ttl < :now",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={":now": {"N": str(int(now.timestamp()))}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return self._existing(submission.message_id, exc)
            raise translate(exc, "dynamodb.PutItem", StoreError) from exc
        except BotoCoreError as exc:
            raise translate(exc, "dynamodb.PutItem", StoreError) from exc
        return None

    def _existing(self, message_id: str, failed: ClientError) -> Record:
        """The record that made the PutItem's condition fail: from the error (``ALL_OLD``), or,
        where the store does not return it (dynalite ignores the parameter), by a consistent
        read. Gone again by then (deleted in between), it is a retryable failure: a retry
        stores anew."""
        item = failed.response.get("Item")
        record = _record(item) if item else self.get(message_id)  # type: ignore[arg-type]
        if record is None:
            raise StoreError(
                "dynamodb.PutItem", "ConditionalCheckFailedException", retryable=True
            ) from failed
        return record

    def mark_queued(
        self, submission: Submission, sqs_message_id: str, now: datetime
    ) -> Record | None:
        """PENDING -> QUEUED, touching only the status-update fields.

        Returns the record as it now stands: QUEUED by this call, or whatever status a
        concurrent writer left if the condition failed; ``None`` if the record is gone or
        now holds other content (it expired and was replaced).
        """
        stamp = {"S": iso_millis(now)}
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"messageId": {"S": submission.message_id}},
                UpdateExpression=(
                    "SET #status = :queued, updatedAt = :now, queuedAt = :now, "
                    "sqsMessageId = :sqs, #version = #version + :one "
                    "ADD enqueueAttempts :one"
                ),
                ConditionExpression="#status = :pending AND payloadHash = :hash",
                ExpressionAttributeNames={"#status": "status", "#version": "version"},
                ExpressionAttributeValues={
                    ":queued": {"S": Status.QUEUED},
                    ":pending": {"S": Status.PENDING},
                    ":hash": {"S": submission.payload_hash},
                    ":now": stamp,
                    ":sqs": {"S": sqs_message_id},
                    ":one": {"N": "1"},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                old = exc.response.get("Item")
                # Without the item (a store that ignores ReturnValuesOnConditionCheckFailure,
                # or a record that is gone), one consistent read says how it now stands.
                record = _record(old) if old else self.get(submission.message_id)  # type: ignore[arg-type]
                if record is None:
                    return None
                return record if record.payload_hash == submission.payload_hash else None
            raise translate(exc, "dynamodb.UpdateItem", StoreError) from exc
        except BotoCoreError as exc:
            raise translate(exc, "dynamodb.UpdateItem", StoreError) from exc
        return Record(submission.message_id, Status.QUEUED, submission.payload_hash)

    def note_enqueue_failure(self, submission: Submission, error: str, now: datetime) -> None:
        """Best-effort bookkeeping after a failed send; only while the record is still PENDING."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"messageId": {"S": submission.message_id}},
                UpdateExpression=(
                    "SET lastError = :error, updatedAt = :now ADD enqueueAttempts :one"
                ),
                ConditionExpression="#status = :pending AND payloadHash = :hash",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":error": {"S": error},
                    ":now": {"S": iso_millis(now)},
                    ":one": {"N": "1"},
                    ":pending": {"S": Status.PENDING},
                    ":hash": {"S": submission.payload_hash},
                },
            )
        except ClientError as exc:
            raise translate(exc, "dynamodb.UpdateItem", StoreError) from exc
        except BotoCoreError as exc:
            raise translate(exc, "dynamodb.UpdateItem", StoreError) from exc

    def get(self, message_id: str) -> Record | None:
        try:
            response = self._client.get_item(
                TableName=self._table, Key={"messageId": {"S": message_id}}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "dynamodb.GetItem", StoreError) from exc
        item = response.get("Item")
        return _record(item) if item else None
