// Payout intake behind an API Gateway REST API (proxy integration, payload format 1.0).
//
// BUGGY ON PURPOSE (a queuecheck example): when SQS refuses the message (throttled, down, access
// denied), the error is logged and ignored. The payout is then marked SUBMITTED and the caller
// gets a 202, so nobody retries, and the payment processor never hears of it. Everything else
// is done right.
//
// POST /payouts with {"payoutRef": "...", "instruction": {...}}: store RECORDED in PAYOUTS_TABLE
// (string keys payoutPk, payoutSk), send to the payouts queue (PAYOUTS_QUEUE_URL), set
// SUBMITTED. The processor moves payouts on to SETTLED.

import { createHash } from "node:crypto";
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";

const RECORDED = "RECORDED";
const SUBMITTED = "SUBMITTED";
const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});

const response = (statusCode, body, headers = {}) => ({
  statusCode,
  headers: { "Content-Type": "application/json", ...headers },
  body: JSON.stringify(body),
});

function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

class Invalid extends Error {}

function payout(event) {
  let text = event.body ?? "";
  if (event.isBase64Encoded) text = Buffer.from(text, "base64").toString("utf8");
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    throw new Invalid("body is not valid JSON");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new Invalid("body must be a JSON object");
  const { payoutRef, instruction } = body;
  if (typeof payoutRef !== "string" || payoutRef.length < 1 || payoutRef.length > 200) {
    throw new Invalid("payoutRef must be a string of 1 to 200 characters");
  }
  if (!instruction || typeof instruction !== "object" || Array.isArray(instruction)) {
    throw new Invalid("instruction must be an object");
  }
  return [payoutRef, instruction];
}

export const handler = async (event) => {
  if (event?.httpMethod !== "POST") return response(405, { message: "method not allowed" });
  if (event.path !== "/payouts") return response(404, { message: "not found" });
  try {
    return await take(...payout(event));
  } catch (error) {
    if (error instanceof Invalid) return response(400, { message: error.message });
    console.error(`payout intake failed: ${error.name}`);
    if (error.$metadata === undefined || String(error.name).includes("AccessDenied")) {
      return response(500, { message: "internal error" });
    }
    return response(503, { message: "please retry" }, { "Retry-After": "1" });
  }
};

async function take(ref, instruction) {
  const TableName = process.env.PAYOUTS_TABLE;
  const Key = { payoutPk: { S: `PAYOUT#${ref}` }, payoutSk: { S: "INTAKE" } };
  const instructionJson = canonical(instruction);
  const fingerprint = createHash("sha256").update(instructionJson).digest("hex");
  try {
    await dynamodb.send(
      new PutItemCommand({
        TableName,
        Item: {
          ...Key,
          payoutRef: { S: ref },
          instruction: { S: instructionJson },
          fingerprint: { S: fingerprint },
          payoutStatus: { S: RECORDED },
          recordedAt: { S: new Date().toISOString() },
        },
        ConditionExpression: "attribute_not_exists(payoutPk)",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
  } catch (error) {
    if (error.name !== "ConditionalCheckFailedException" || !error.Item) throw error;
    if (error.Item.fingerprint.S !== fingerprint) {
      return response(409, { message: "payoutRef already used for another instruction" });
    }
    if (error.Item.payoutStatus.S !== RECORDED) {
      return response(200, { payoutRef: ref, status: error.Item.payoutStatus.S });
    }
  }

  try {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: process.env.PAYOUTS_QUEUE_URL,
        MessageBody: JSON.stringify({ payout: { ref, instruction } }),
      }),
    );
  } catch (error) {
    // BUG: the failed send is only logged. The code below then marks the payout SUBMITTED
    // and answers 202, although no message was sent.
    console.warn(`payout ${ref}: could not send to the queue: ${error.name}`);
  }

  try {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName,
        Key,
        UpdateExpression: "SET payoutStatus = :submitted, submittedAt = :now",
        ConditionExpression: "payoutStatus = :recorded AND fingerprint = :fingerprint",
        ExpressionAttributeValues: {
          ":submitted": { S: SUBMITTED },
          ":recorded": { S: RECORDED },
          ":fingerprint": { S: fingerprint },
          ":now": { S: new Date().toISOString() },
        },
      }),
    );
  } catch (error) {
    if (error.name !== "ConditionalCheckFailedException") throw error;
    const current = (await dynamodb.send(new GetItemCommand({ TableName, Key, ConsistentRead: true }))).Item;
    if (!current || current.fingerprint.S !== fingerprint || current.payoutStatus.S === RECORDED) throw error;
    return response(202, { payoutRef: ref, status: current.payoutStatus.S });
  }
  return response(202, { payoutRef: ref, status: SUBMITTED });
}
