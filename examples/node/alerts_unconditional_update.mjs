// Alert intake behind an API Gateway HTTP API (payload format 2.0).
//
// BUGGY ON PURPOSE (a queuecheck example): the final status update (OPEN -> ROUTED) has no
// ConditionExpression. When the on-call tool already read the message and set ACKNOWLEDGED (or
// CLOSED) before that update lands, the update drags the alert back to ROUTED and the
// acknowledgement is lost. Everything else is done right.
//
// POST /alerts with {"alertId": "...", "alert": {...}}: store the alert OPEN in ALERTS_TABLE
// (string key alert_id, the id itself), send it to the routing queue (ALERTS_QUEUE_URL), set
// ROUTED. Repeats are idempotent (ROUTED or later: 200, nothing sent; OPEN: finished; another
// alert under the same id: 409).

import { createHash } from "node:crypto";
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";

const OPEN = "OPEN";
const ROUTED = "ROUTED";
const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});

const respond = (statusCode, body, headers = {}) => ({
  statusCode,
  headers: { "content-type": "application/json", ...headers },
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

function readBody(event) {
  let text = event.body ?? "";
  if (event.isBase64Encoded) text = Buffer.from(text, "base64").toString("utf8");
  try {
    const body = text ? JSON.parse(text) : undefined;
    return body && typeof body === "object" && !Array.isArray(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

export const handler = async (event) => {
  const http = event?.requestContext?.http ?? {};
  if (http.method !== "POST" || event.rawPath !== "/alerts") return respond(404, { error: "no such route" });
  const body = readBody(event);
  if (body === undefined) return respond(400, { error: "the body must be a JSON object" });
  const { alertId, alert } = body;
  if (typeof alertId !== "string" || alertId.length < 1 || alertId.length > 200) {
    return respond(400, { error: "alertId must be a string of 1 to 200 characters" });
  }
  if (!alert || typeof alert !== "object" || Array.isArray(alert)) {
    return respond(400, { error: "alert must be an object" });
  }
  try {
    return await open(alertId, alert);
  } catch (error) {
    console.error(`alert ${alertId} failed: ${error.name}`);
    if (error.$metadata === undefined || String(error.name).includes("AccessDenied")) {
      return respond(500, { error: "internal error" });
    }
    return respond(503, { error: "service unavailable" }, { "retry-after": "2" });
  }
};

async function open(alertId, alert) {
  const TableName = process.env.ALERTS_TABLE;
  const Key = { alert_id: { S: alertId } };
  const alertJson = canonical(alert);
  const alertHash = createHash("sha256").update(alertJson).digest("hex");
  try {
    await dynamodb.send(
      new PutItemCommand({
        TableName,
        Item: { ...Key, alert: { S: alertJson }, alertHash: { S: alertHash }, alertStatus: { S: OPEN } },
        ConditionExpression: "attribute_not_exists(alert_id)",
      }),
    );
  } catch (error) {
    if (error.name !== "ConditionalCheckFailedException") throw error;
    const found = await dynamodb.send(new GetItemCommand({ TableName, Key, ConsistentRead: true }));
    if (!found.Item) throw error;
    if (found.Item.alertHash.S !== alertHash) return respond(409, { error: "alertId already used for another alert" });
    if (found.Item.alertStatus.S !== OPEN) return respond(200, { alertId, status: found.Item.alertStatus.S });
  }

  await sqs.send(
    new SendMessageCommand({
      QueueUrl: process.env.ALERTS_QUEUE_URL,
      MessageBody: JSON.stringify({ alert_ref: alertId, alert }),
    }),
  );

  // BUG: no ConditionExpression ("alertStatus = OPEN"): this overwrites whatever status the
  // on-call tool set after reading the message, moving the alert backwards.
  await dynamodb.send(
    new UpdateItemCommand({
      TableName,
      Key,
      UpdateExpression: "SET alertStatus = :routed, routedAt = :now",
      ExpressionAttributeValues: { ":routed": { S: ROUTED }, ":now": { N: String(Date.now()) } },
    }),
  );
  return respond(202, { alertId, status: ROUTED });
}
