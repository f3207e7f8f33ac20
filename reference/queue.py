"""The SQS side of the intake: send one message, SQS's wire shapes only here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from reference.aws import translate
from reference.failures import QueueError
from reference.messages import Submission

if TYPE_CHECKING:
    from types_boto3_sqs import SQSClient


class SqsQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, submission: Submission) -> str:
        """Send the submission; return SQS's message id. Attributes travel as message attributes."""
        attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in (submission.attributes or {}).items()
        }
        try:
            response = self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=submission.queue_body(),
                MessageAttributes=attributes,  # type: ignore[arg-type]
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "sqs.SendMessage", QueueError) from exc
        return response["MessageId"]
