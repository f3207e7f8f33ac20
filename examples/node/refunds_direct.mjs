// Refund intake invoked directly (Lambda Invoke from another service, no API Gateway), written
// in the callback style of older Node.js functions.
//
// The event is the refund itself: {"refundId": "...", "refund": {...}}. The refund is stored
// with refund_status NEW in REFUNDS_TABLE (string key PK = "REFUND#<id>"), sent to the payments
// queue (REFUNDS_QUEUE_URL), then set to QUEUED. Calling back with a value means accepted;
// calling back with an error means not: InvalidRefund / RefundConflict for input the caller
// must fix, RefundUnavailable (with a fixed message, no AWS details) when AWS failed and a
// retry may succeed.
//
// Invoking again with the same refund is safe: one already QUEUED is answered as a duplicate
// without a second message, a NEW one (an earlier invocation died half way) is finished.

import { createHash } from "node:crypto";
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";

const NEW = "NEW";
const QUEUED = "QUEUED";

const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});

class InvalidRefund extends Error {
  name = "InvalidRefund";
}
class RefundConflict extends InvalidRefund {
  name = "RefundConflict";
}
class RefundUnavailable extends Error {
  name = "RefundUnavailable";
}

function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function handler(event, context, callback) {
  // The SDK's idle keep-alive sockets must not hold the answer back.
  context.callbackWaitsForEmptyEventLoop = false;
  if (!event || typeof event !== "object" || Array.isArray(event)) {
    return callback(new InvalidRefund("the event must be an object"));
  }
  const { refundId, refund } = event;
  if (typeof refundId !== "string" || refundId.length < 1 || refundId.length > 200) {
    return callback(new InvalidRefund("refundId must be a string of 1 to 200 characters"));
  }
  if (!refund || typeof refund !== "object" || Array.isArray(refund)) {
    return callback(new InvalidRefund("refund must be an object"));
  }
  register(refundId, refund).then(
    (value) => callback(null, value),
    (error) => {
      if (error instanceof InvalidRefund) return callback(error);
      console.error(`refund ${refundId} not registered: ${error.name}`);
      return callback(new RefundUnavailable("refund could not be registered, try again later"));
    },
  );
}

async function register(refundId, refund) {
  const TableName = process.env.REFUNDS_TABLE;
  const Key = { PK: { S: `REFUND#${refundId}` } };
  const refundJson = canonical(refund);
  const digest = createHash("sha256").update(refundJson).digest("hex");
  try {
    await dynamodb.send(
      new PutItemCommand({
        TableName,
        Item: {
          ...Key,
          refund_id: { S: refundId },
          refund_json: { S: refundJson },
          refund_sha256: { S: digest },
          refund_status: { S: NEW },
          created_at: { S: new Date().toISOString() },
        },
        ConditionExpression: "attribute_not_exists(PK)",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
  } catch (error) {
    if (error.name !== "ConditionalCheckFailedException") throw error;
    const existing = error.Item ?? (await read(TableName, Key));
    if (!existing) throw error;
    if (existing.refund_sha256.S !== digest) {
      throw new RefundConflict("refundId is already registered with another refund");
    }
    if (existing.refund_status.S !== NEW) {
      return { refundId, status: existing.refund_status.S, duplicate: true };
    }
  }

  await sqs.send(
    new SendMessageCommand({
      QueueUrl: process.env.REFUNDS_QUEUE_URL,
      MessageBody: JSON.stringify({ kind: "refund", data: { refundId, refund } }),
    }),
  );

  try {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName,
        Key,
        UpdateExpression: "SET refund_status = :queued, queued_at = :now",
        ConditionExpression: "refund_status = :new AND refund_sha256 = :digest",
        ExpressionAttributeValues: {
          ":queued": { S: QUEUED },
          ":new": { S: NEW },
          ":digest": { S: digest },
          ":now": { S: new Date().toISOString() },
        },
      }),
    );
  } catch (error) {
    if (error.name !== "ConditionalCheckFailedException") throw error;
    // Another invocation finished it first: fine if it is the same refund, now queued.
    const current = await read(TableName, Key);
    if (!current || current.refund_sha256.S !== digest || current.refund_status.S === NEW) {
      throw error;
    }
    return { refundId, status: current.refund_status.S, duplicate: false };
  }
  return { refundId, status: QUEUED, duplicate: false };
}

async function read(TableName, Key) {
  return (await dynamodb.send(new GetItemCommand({ TableName, Key, ConsistentRead: true }))).Item;
}
