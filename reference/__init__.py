"""The reference intake: API Gateway -> Lambda -> DynamoDB (PENDING) -> SQS -> QUEUED.

Entry point: ``reference.handler.lambda_handler``. boto3 appears only in ``store``,
``queue`` and ``clients``; everything else works on plain values.
"""
