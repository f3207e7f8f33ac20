"""The table and the queues have the shapes DESIGN.md section 1 relies on."""

from __future__ import annotations

SECONDS_PER_DAY = 86_400


def test_table_is_keyed_by_message_id_and_billed_on_demand(synthesized):
    """Records are keyed by the string ``messageId`` alone, with on-demand capacity."""
    table = synthesized.resources[synthesized.logical_id(synthesized.stack.table)]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "messageId", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "messageId", "AttributeType": "S"}]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in table


def test_table_expires_records_by_ttl(synthesized):
    """DynamoDB deletes a record once its ``ttl`` attribute (epoch seconds) has passed."""
    table = synthesized.resources[synthesized.logical_id(synthesized.stack.table)]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}


def test_table_is_recoverable_and_encrypted(synthesized):
    """Point-in-time recovery is on and the table is encrypted with an AWS-managed key."""
    table = synthesized.resources[synthesized.logical_id(synthesized.stack.table)]["Properties"]
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}


def test_table_outlives_the_stack(synthesized):
    """Deleting or replacing the stack keeps the table and its records."""
    table = synthesized.resources[synthesized.logical_id(synthesized.stack.table)]
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_queue_redrives_to_the_dead_letter_queue(synthesized):
    """A message received five times without being deleted moves to the dead-letter queue."""
    stack = synthesized.stack
    queue = synthesized.resources[synthesized.logical_id(stack.queue)]["Properties"]
    expected = {
        "deadLetterTargetArn": {
            "Fn::GetAtt": [synthesized.logical_id(stack.dead_letter_queue), "Arn"]
        },
        "maxReceiveCount": 5,
    }
    assert queue["RedrivePolicy"] == expected


def test_queue_retention_covers_record_ttl_and_dlq_keeps_longest(synthesized):
    """A queued message lives as long as its record; the dead-letter queue keeps 14 days."""
    stack = synthesized.stack
    queue = synthesized.resources[synthesized.logical_id(stack.queue)]["Properties"]
    dlq = synthesized.resources[synthesized.logical_id(stack.dead_letter_queue)]["Properties"]
    assert queue["MessageRetentionPeriod"] == 604_800
    assert dlq["MessageRetentionPeriod"] == 14 * SECONDS_PER_DAY
    assert 0 < queue["VisibilityTimeout"] <= 12 * 3600


def test_both_queues_are_encrypted(synthesized):
    """Both queues use SQS-managed server-side encryption."""
    for queue in (synthesized.stack.queue, synthesized.stack.dead_letter_queue):
        properties = synthesized.resources[synthesized.logical_id(queue)]["Properties"]
        assert properties["SqsManagedSseEnabled"] is True
        assert "KmsMasterKeyId" not in properties


def test_both_queues_refuse_requests_without_tls(synthesized):
    """Each queue's policy denies every SQS action to everyone when TLS is not used."""
    expected_statement = {
        "Action": "sqs:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
    }
    policies = synthesized.of_type("AWS::SQS::QueuePolicy").values()
    protected = {}
    for policy in policies:
        properties = policy["Properties"]
        (queue_ref,) = properties["Queues"]
        (statement,) = properties["PolicyDocument"]["Statement"]
        protected[queue_ref["Ref"]] = statement
    queue_ids = {
        synthesized.logical_id(queue)
        for queue in (synthesized.stack.queue, synthesized.stack.dead_letter_queue)
    }
    assert queue_ids == set(protected)
    for queue_id, statement in protected.items():
        assert statement == {**expected_statement, "Resource": {"Fn::GetAtt": [queue_id, "Arn"]}}
