"""DynamoDB's front-door checks of the AttributeValues in a JSON-protocol request.

The AWS SDK for JavaScript v3 does not check AttributeValues. ``{S: null}`` goes out as
``{}``, ``{S: "x", N: "1"}`` as both, ``{SS: ["a", "a"]}`` as it is. Older releases send a
number where a string belongs as a JSON number (localstack/localstack#9412); 3.1169.0 coerces
``{S: 7}`` to ``{"S": ""}`` and ``{NS: [1, 2]}`` to ``{"NS": ["", ""]}``. DynamoDB refuses such
a request with HTTP 400 before it touches a table. moto's server (5.2.1) refuses some, stores
others (two types, duplicated sets) and crashes on others with an HTML 500 the SDK retries
(``{}``, ``{"S": 7.5}``, ``{"S": {...}}``).
``validate(body)`` gives DynamoDB's answer, so the proxy can give it instead of forwarding.

The in-process path needs none of this for types: botocore validates parameters on the client
(``ParamValidationError`` before anything is sent), so a Python handler never sends
``{"S": 7}`` or ``{"BOOL": "true"}``. It does not check the rest: ``{}``, two types in one
value, an empty or duplicated set or an ``N`` that is no number reach in-process moto as they
are.

Where the answers come from (real AWS was not called for this module):

- The two kinds and their wire names: a JSON type that does not fit the member is a
  ``com.amazon.coral.service#SerializationException`` (the deserializer refuses it); a value
  that parses but breaks a rule is a ``com.amazon.coral.validate#ValidationException``
  (rusoto/rusoto#658 quotes the former's body; dynalite, which was written against DynamoDB,
  answers both kinds this way).
- ``NUMBER_VALUE cannot be converted to String`` for ``{"S": 7}`` and ``Start of structure or
  map found where not expected`` for ``{"S": {...}}``: moto's AWS-verified test
  ``test_put_item__string_as_integer_value``, localstack/localstack#9412,
  aws-amplify/amplify-js#13265. ``Start of list found where not expected``: rusoto#658.
  The ``BOOLEAN_VALUE`` and ``STRING_VALUE`` variants, and ``to Boolean``, are by analogy.
- ``Expected map or null`` / ``Expected list or null``, the Base64 message, and the number
  limits: dynalite's ``validations/index.js``.
- ``Supplied AttributeValue is empty, ...`` and ``... has more than one datatypes set, ...``:
  dynalite, and aws/aws-dynamodb-encryption-java#12 for the latter from AWS.
- ``The parameter cannot be converted to a numeric value: NaN``: jovotech/jovo-framework#197.
- ``An string set  may not be empty`` (sic): ministackorg/ministack#1038 quoting the AWS CLI;
  ``Input collection [a, a] contains duplicates.``: truora/minidyn#50, dynamoose#79.
- ``Null attribute value types must have the value of true``: moto.
- A JSON ``null`` member counts as absent, as Coral's deserializer (and dynalite) read it.
- For ``ExpressionAttributeValues`` DynamoDB wraps the message: ``ExpressionAttributeValues
  contains invalid value: <message> for key <name>`` (dynamoose/dynamoose#79).

Handlers branch on the error's name (SerializationException, ValidationException), which is
certain; the message texts are the best evidence found, not a contract.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import re
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

SERIALIZATION = "com.amazon.coral.service#SerializationException"
VALIDATION = "com.amazon.coral.validate#ValidationException"
TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
"""The AttributeValue members; any other key is ignored, as DynamoDB's deserializer does."""
_SETS = {"SS": "S", "NS": "N", "BS": "B"}
_SET_NAMES = {"SS": "string", "NS": "number", "BS": "binary"}
_NULL_IN_SET = {  # dynalite's texts
    "SS": "One or more parameter values were invalid: An AttributeValue may not contain an "
    "empty string.",
    "NS": "The parameter cannot be converted to a numeric value",
    "BS": "One or more parameter values were invalid: Binary sets may not contain null or "
    "empty values",
}
_CONTEXT = decimal.Context(prec=60)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@attrs.frozen
class Rejection:
    """DynamoDB's 400 answer: ``type`` is the wire ``__type``."""

    type: str
    message: str

    @property
    def code(self) -> str:
        """The short name the SDKs read (``ValidationException``)."""
        return self.type.rpartition("#")[2]

    def body(self) -> dict[str, str]:
        return {"__type": self.type, "message": self.message}


class _Refused(Exception):
    def __init__(self, type_: str, message: str) -> None:
        super().__init__(message)
        self.type, self.message = type_, message


def validate(body: Mapping[str, Any]) -> Rejection | None:
    """The first AttributeValue of a DynamoDB request body that DynamoDB would refuse, as its
    answer; None if every one passes.

    Looks where the data-plane operations carry values: ``Item``, ``Key``,
    ``ExpressionAttributeValues``, ``ExclusiveStartKey``, and the items, keys and expression
    values inside ``RequestItems`` (BatchWriteItem, BatchGetItem), ``TransactItems``
    (TransactWriteItems, TransactGetItems). Type errors are found first, as DynamoDB
    deserializes the whole body before it validates."""
    found = list(_values(body))
    try:
        for _, value in found:
            _types(value)
        for expression, value in found:
            _rules(value, expression)
    except _Refused as refused:
        return Rejection(refused.type, refused.message)
    return None


# -- where the values are --


def _values(body: Mapping[str, Any]) -> Iterator[tuple[str | None, Any]]:
    """(the ExpressionAttributeValues name or None, an AttributeValue) of a request body."""
    yield from _request(body)
    requests = body.get("RequestItems")
    if isinstance(requests, Mapping):
        for table in requests.values():
            if isinstance(table, list):  # BatchWriteItem: [{"PutRequest": {...}}, ...]
                for entry in table:
                    for kind in ("PutRequest", "DeleteRequest"):
                        part = entry.get(kind) if isinstance(entry, Mapping) else None
                        if isinstance(part, Mapping):
                            yield from _request(part)
            elif isinstance(table, Mapping):  # BatchGetItem: {"Keys": [...]}
                for key in table.get("Keys") or []:
                    yield from _map(key)
    transact = body.get("TransactItems")
    if isinstance(transact, list):
        for entry in transact:
            for part in entry.values() if isinstance(entry, Mapping) else ():
                if isinstance(part, Mapping):
                    yield from _request(part)


def _request(part: Mapping[str, Any]) -> Iterator[tuple[str | None, Any]]:
    for member in ("Item", "Key", "ExclusiveStartKey"):
        yield from _map(part.get(member))
    values = part.get("ExpressionAttributeValues")
    if isinstance(values, Mapping):
        yield from values.items()


def _map(attributes: Any) -> Iterator[tuple[None, Any]]:
    if isinstance(attributes, Mapping):
        for value in attributes.values():
            yield None, value


# -- the deserializer: JSON types --


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN_VALUE"
    if isinstance(value, int | float):
        return "NUMBER_VALUE"
    return "STRING_VALUE"


def _serialization(message: str) -> _Refused:
    return _Refused(SERIALIZATION, message)


def _scalar(value: Any, target: str) -> None:
    """``value`` where a JSON ``target`` ("String", "Boolean") belongs."""
    if value is None:
        return
    if isinstance(value, Mapping):
        raise _serialization("Start of structure or map found where not expected")
    if isinstance(value, list):
        raise _serialization("Start of list found where not expected")
    fits = isinstance(value, bool) if target == "Boolean" else isinstance(value, str)
    if not fits:
        raise _serialization(f"{_kind(value)} cannot be converted to {target}")


def _types(value: Any) -> None:
    """Raise what DynamoDB's deserializer says of an AttributeValue of the wrong JSON shape."""
    if value is None:
        return
    if isinstance(value, list):
        raise _serialization("Start of list found where not expected")
    if not isinstance(value, Mapping):
        raise _serialization("Expected null")
    for name in TYPES:
        member = value.get(name)
        if member is None:
            continue
        if name in ("S", "N", "B"):
            _scalar(member, "String")
            if name == "B":
                _binary(member)
        elif name in ("NULL", "BOOL"):
            _scalar(member, "Boolean")
        elif name in _SETS or name == "L":
            if not isinstance(member, list):
                if isinstance(member, Mapping):
                    raise _serialization("Start of structure or map found where not expected")
                raise _serialization("Expected list or null")
            for element in member:
                if name == "L":
                    _types(element)
                    continue
                _scalar(element, "String")
                if name == "BS" and element is not None:
                    _binary(element)
        else:  # M
            if not isinstance(member, Mapping):
                if isinstance(member, list):
                    raise _serialization("Start of list found where not expected")
                raise _serialization("Expected map or null")
            for element in member.values():
                _types(element)


# -- the validator: the rules --


def _invalid(message: str, expression: str | None) -> _Refused:
    if expression is not None:
        message = (
            f"ExpressionAttributeValues contains invalid value: {message} for key {expression}"
        )
    return _Refused(VALIDATION, message)


def _number(text: str, expression: str | None) -> decimal.Decimal:
    if not _NUMBER.fullmatch(text):
        raise _invalid(f"The parameter cannot be converted to a numeric value: {text}", expression)
    number = decimal.Decimal(text)
    if number:
        digits = number.normalize(_CONTEXT).as_tuple().digits
        if len(digits) > 38:
            raise _invalid(
                "Attempting to store more than 38 significant digits in a Number", expression
            )
        magnitude = number.adjusted()
        if magnitude > 125:
            raise _invalid(
                "Number overflow. Attempting to store a number with magnitude larger than "
                "supported range",
                expression,
            )
        if magnitude < -130:
            raise _invalid(
                "Number underflow. Attempting to store a number with magnitude smaller than "
                "supported range",
                expression,
            )
    return number


def _binary(text: str) -> bytes:
    if len(text) % 4:
        raise _serialization(
            f"'{text}' can not be converted to a Blob: Base64 encoded length is expected a "
            f"multiple of 4 bytes but found: {len(text)}"
        )
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _serialization(f"'{text}' can not be converted to a Blob: Invalid Base64") from None


def _rules(value: Any, expression: str | None) -> None:
    """Raise what DynamoDB's validator says of a well-typed AttributeValue that breaks a rule."""
    if value is None:
        return
    present = [name for name in TYPES if value.get(name) is not None]
    if not present:
        raise _invalid(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
            expression,
        )
    if len(present) > 1:
        raise _invalid(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            "of the supported datatypes",
            expression,
        )
    (name,) = present
    member = value[name]
    if name == "N":
        _number(member, expression)
    elif name == "NULL" and member is not True:
        raise _invalid(
            "One or more parameter values were invalid: Null attribute value types must have "
            "the value of true",
            expression,
        )
    elif name in _SETS:
        _set(name, member, expression)
    elif name == "L":
        for element in member:
            _rules(element, expression)
    elif name == "M":
        for element in member.values():
            _rules(element, expression)


def _set(name: str, members: list[Any], expression: str | None) -> None:
    if not members:
        raise _invalid(
            f"One or more parameter values were invalid: An {_SET_NAMES[name]} set  may not "
            "be empty",
            expression,
        )
    if any(member is None for member in members):
        raise _invalid(_NULL_IN_SET[name], expression)
    if name == "NS":
        seen: list[Any] = [_number(member, expression) for member in members]
    elif name == "BS":
        seen = [_binary(member) for member in members]
    else:
        seen = list(members)
    if len(set(seen)) < len(seen):
        raise _invalid(
            "One or more parameter values were invalid: Input collection "
            f"[{', '.join(members)}] contains duplicates.",
            expression,
        )
