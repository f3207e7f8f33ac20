"""DynamoDB's front-door checks of AttributeValues, one rule at a time, on hand-written bodies."""

from __future__ import annotations

from typing import Any

import pytest

from model.harness.runtimes.attribute_values import (
    SERIALIZATION,
    VALIDATION,
    Rejection,
    validate,
)


def _put(value: Any) -> dict[str, Any]:
    return {"TableName": "t", "Item": {"id": {"S": "a"}, "v": value}}


@pytest.mark.parametrize(
    "value",
    [
        {"S": "text"},
        {"S": ""},  # empty strings are allowed outside keys since 2020
        {"N": "7"},
        {"N": "-1.5e3"},
        {"N": ".5"},
        {"B": "aGk="},
        {"BOOL": False},
        {"NULL": True},
        {"M": {"a": {"S": "x"}, "b": {"L": [{"N": "1"}, {"NULL": True}]}}},
        {"L": []},
        {"M": {}},
        {"SS": ["a", "b"]},
        {"NS": ["1", "2.5"]},
        {"BS": ["YQ==", "Yg=="]},
        {"S": "x", "N": None},  # a JSON null member counts as absent
        {"S": "x", "Unknown": 1},  # members DynamoDB does not know are ignored
    ],
)
def test_well_formed_values_pass(value):
    """Every type, nested and empty containers included, passes as DynamoDB lets it."""
    assert None is validate(_put(value))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"S": 7}, "NUMBER_VALUE cannot be converted to String"),
        ({"S": 7.5}, "NUMBER_VALUE cannot be converted to String"),
        ({"S": True}, "BOOLEAN_VALUE cannot be converted to String"),
        ({"N": 7}, "NUMBER_VALUE cannot be converted to String"),
        ({"S": {"S": "x"}}, "Start of structure or map found where not expected"),
        ({"S": ["x"]}, "Start of list found where not expected"),
        ({"BOOL": "true"}, "STRING_VALUE cannot be converted to Boolean"),
        ({"BOOL": 1}, "NUMBER_VALUE cannot be converted to Boolean"),
        ({"NULL": "yes"}, "STRING_VALUE cannot be converted to Boolean"),
        ({"M": "x"}, "Expected map or null"),
        ({"M": []}, "Start of list found where not expected"),
        ({"L": "x"}, "Expected list or null"),
        ({"L": {}}, "Start of structure or map found where not expected"),
        ({"SS": "a"}, "Expected list or null"),
        ({"NS": [1, 2]}, "NUMBER_VALUE cannot be converted to String"),
        ({"L": [{"S": 7}]}, "NUMBER_VALUE cannot be converted to String"),
        ({"M": {"a": {"N": 1}}}, "NUMBER_VALUE cannot be converted to String"),
        ("x", "Expected null"),
        ({"B": "abc"}, "Base64 encoded length is expected a multiple of 4 bytes but found: 3"),
        ({"B": "ab!="}, "Invalid Base64"),
        ({"BS": ["YQ==", "a"]}, "multiple of 4 bytes"),
    ],
)
def test_a_json_type_that_does_not_fit_is_a_serialization_exception(value, message):
    """A member of the wrong JSON type is refused by the deserializer, before any rule."""
    rejection = validate(_put(value))

    assert rejection is not None
    assert SERIALIZATION == rejection.type
    assert message in rejection.message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported"),
        ({"S": None}, "Supplied AttributeValue is empty"),
        ({"Unknown": "x"}, "Supplied AttributeValue is empty"),
        ({"S": "x", "N": "1"}, "Supplied AttributeValue has more than one datatypes set"),
        ({"N": "abc"}, "The parameter cannot be converted to a numeric value: abc"),
        ({"N": ""}, "The parameter cannot be converted to a numeric value"),
        ({"N": " 1"}, "The parameter cannot be converted to a numeric value"),
        ({"N": "NaN"}, "The parameter cannot be converted to a numeric value: NaN"),
        ({"N": "1_000"}, "The parameter cannot be converted to a numeric value"),
        ({"N": "1" * 39}, "more than 38 significant digits"),
        ({"N": "1e126"}, "Number overflow"),
        ({"N": "1e-131"}, "Number underflow"),
        ({"NULL": False}, "Null attribute value types must have the value of true"),
        ({"SS": []}, "An string set  may not be empty"),
        ({"NS": []}, "An number set  may not be empty"),
        ({"BS": []}, "An binary set  may not be empty"),
        ({"SS": ["a", "a"]}, "Input collection [a, a] contains duplicates."),
        ({"NS": ["1", "1.0"]}, "Input collection [1, 1.0] contains duplicates."),
        ({"BS": ["YQ==", "YQ=="]}, "contains duplicates"),
        ({"SS": ["a", None]}, "may not contain an empty string"),
        ({"L": [{}]}, "Supplied AttributeValue is empty"),
        ({"M": {"a": {"SS": []}}}, "may not be empty"),
    ],
)
def test_a_value_that_breaks_a_rule_is_a_validation_exception(value, message):
    """Exactly one type per value; numbers that are numbers; sets non-empty, no duplicates;
    NULL only true; nested values by the same rules."""
    rejection = validate(_put(value))

    assert rejection is not None
    assert VALIDATION == rejection.type
    assert message in rejection.message


def test_type_errors_come_before_rule_errors():
    """DynamoDB deserializes the whole body before it validates: a later type error wins."""
    body = {"TableName": "t", "Item": {"a": {}, "b": {"S": 7}}}

    assert SERIALIZATION == validate(body).type  # type: ignore[union-attr]


def test_expression_attribute_values_name_the_key():
    """In ExpressionAttributeValues DynamoDB says which placeholder holds the bad value."""
    body = {
        "TableName": "t",
        "Key": {"id": {"S": "a"}},
        "UpdateExpression": "SET v = :v",
        "ExpressionAttributeValues": {":v": {}},
    }

    assert Rejection(
        VALIDATION,
        "ExpressionAttributeValues contains invalid value: Supplied AttributeValue is empty, "
        "must contain exactly one of the supported datatypes for key :v",
    ) == validate(body)


@pytest.mark.parametrize(
    "body",
    [
        {"TableName": "t", "Key": {"id": {"S": 7}}},
        {"TableName": "t", "ExclusiveStartKey": {"id": {"S": 7}}},
        {"RequestItems": {"t": [{"PutRequest": {"Item": {"id": {"S": 7}}}}]}},
        {"RequestItems": {"t": [{"DeleteRequest": {"Key": {"id": {"S": 7}}}}]}},
        {"RequestItems": {"t": {"Keys": [{"id": {"S": 7}}]}}},
        {"TransactItems": [{"Put": {"TableName": "t", "Item": {"id": {"S": 7}}}}]},
        {
            "TransactItems": [
                {"Update": {"Key": {"id": {"S": "a"}}, "Key2": 1}},
                {"Delete": {"Key": {"id": {"S": 7}}}},
            ]
        },
        {"TransactItems": [{"ConditionCheck": {"ExpressionAttributeValues": {":v": {"S": 7}}}}]},
        {"TransactItems": [{"Get": {"Key": {"id": {"S": 7}}}}]},
    ],
)
def test_every_place_a_request_carries_values_is_checked(body):
    """Keys, start keys, and the items and keys inside batch and transaction requests."""
    rejection = validate(body)

    assert rejection is not None
    assert "NUMBER_VALUE cannot be converted to String" == rejection.message


def test_other_members_are_not_read_as_values():
    """Only the members that hold AttributeValues are read: a table named ``Item`` or a
    condition text is no AttributeValue."""
    body = {
        "TableName": "Item",
        "Item": {"id": {"S": "a"}},
        "ConditionExpression": "attribute_not_exists(id)",
        "ExpressionAttributeNames": {"#S": "S"},
        "ReturnValues": "NONE",
    }

    assert None is validate(body)


def test_a_rejection_is_dynamodbs_json_error_body():
    rejection = validate(_put({"S": 7}))

    assert rejection is not None
    assert "SerializationException" == rejection.code
    assert {
        "__type": "com.amazon.coral.service#SerializationException",
        "message": "NUMBER_VALUE cannot be converted to String",
    } == rejection.body()
