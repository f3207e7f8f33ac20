"""Alarms and outputs: what an operator watches and what a caller needs to find the API."""

from __future__ import annotations


def _alarm(synthesized, namespace, metric_name):
    (alarm,) = [
        a["Properties"]
        for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if (a["Properties"]["Namespace"], a["Properties"]["MetricName"]) == (namespace, metric_name)
    ]
    return alarm


def _fires_on_first_occurrence(alarm):
    return (
        alarm["ComparisonOperator"] == "GreaterThanThreshold"
        and alarm["Threshold"] == 0
        and alarm["EvaluationPeriods"] == 1
        and alarm["TreatMissingData"] == "notBreaching"
    )


def test_alarm_fires_when_a_message_reaches_the_dead_letter_queue(synthesized):
    """Any visible message in the dead-letter queue raises the alarm within a minute."""
    alarm = _alarm(synthesized, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    dlq_id = synthesized.logical_id(synthesized.stack.dead_letter_queue)
    expected = [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}]
    assert alarm["Dimensions"] == expected
    assert (alarm["Statistic"], alarm["Period"]) == ("Maximum", 60)
    assert _fires_on_first_occurrence(alarm)


def test_alarms_fire_on_function_errors_and_throttles(synthesized):
    """A crashed, timed-out or throttled invocation raises an alarm."""
    function_id = synthesized.logical_id(synthesized.stack.function)
    for metric_name in ("Errors", "Throttles"):
        alarm = _alarm(synthesized, "AWS/Lambda", metric_name)
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
        assert alarm["Statistic"] == "Sum"
        assert _fires_on_first_occurrence(alarm)


def test_alarm_fires_on_server_errors_of_the_api(synthesized):
    """5XX answers (the handler's 503s among them) of this API raise an alarm."""
    alarm = _alarm(synthesized, "AWS/ApiGateway", "5XXError")
    assert alarm["Dimensions"] == [{"Name": "ApiName", "Value": "QueuecheckIntake-api"}]
    api = synthesized.resources[synthesized.logical_id(synthesized.stack.api)]
    assert api["Properties"]["Name"] == "QueuecheckIntake-api"
    assert _fires_on_first_occurrence(alarm)


def test_outputs_name_the_api_table_and_queues(synthesized):
    """The stack outputs the stage URL, the table name and both queue URLs, and no more."""
    stack = synthesized.stack
    outputs = synthesized.template.to_json()["Outputs"]
    assert set(outputs) == {"ApiUrl", "TableName", "QueueUrl", "DeadLetterQueueUrl"}
    assert outputs["TableName"]["Value"] == {"Ref": synthesized.logical_id(stack.table)}
    assert outputs["QueueUrl"]["Value"] == {"Ref": synthesized.logical_id(stack.queue)}
    dlq_ref = {"Ref": synthesized.logical_id(stack.dead_letter_queue)}
    assert outputs["DeadLetterQueueUrl"]["Value"] == dlq_ref
    url_parts = outputs["ApiUrl"]["Value"]["Fn::Join"][1]
    assert url_parts[0] == "https://"
    assert {"Ref": synthesized.logical_id(stack.api)} in url_parts
    assert {"Ref": synthesized.logical_id(stack.api.deployment_stage)} in url_parts


def test_every_log_group_has_a_retention(synthesized):
    """No log group of the stack keeps logs forever."""
    groups = synthesized.of_type("AWS::Logs::LogGroup").values()
    assert len(groups) == 2
    assert all(group["Properties"].get("RetentionInDays") for group in groups)
