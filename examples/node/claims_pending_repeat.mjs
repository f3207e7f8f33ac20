// Insurance claim intake behind an API Gateway REST API (proxy integration, payload format 1.0).
//
// BUGGY ON PURPOSE (a queuecheck example): a repeat of a claim whose record is still FILED (an
// earlier attempt stored it, then failed or died before the claim was routed) is answered
// 200 "already received" instead of being finished. The caller stops retrying, the claim is
// never routed, and it sits FILED for ever. Everything else is done right.
//
// POST /claims with {"claimId": "...", "claim": {...}}: store the claim FILED in CLAIMS_TABLE
// (string key claimKey = "CLAIM#<id>"), send it to the assessors' queue (CLAIMS_QUEUE_URL), set
// ROUTED. Assessors move it on to ASSESSED and PAID.

import { createHash } from "node:crypto";
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";

const FILED = "FILED";
const ROUTED = "ROUTED";
const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});

const answer = (statusCode, body, headers = {}) => ({
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

function parse(event) {
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
  if (event?.httpMethod !== "POST" || event.path !== "/claims") return answer(404, { message: "not found" });
  const body = parse(event);
  if (body === undefined) return answer(400, { message: "the body must be a JSON object" });
  const { claimId, claim } = body;
  if (typeof claimId !== "string" || claimId.length < 1 || claimId.length > 200) {
    return answer(400, { message: "claimId must be a string of 1 to 200 characters" });
  }
  if (!claim || typeof claim !== "object" || Array.isArray(claim)) {
    return answer(400, { message: "claim must be an object" });
  }
  try {
    return await file(claimId, claim);
  } catch (error) {
    console.warn(JSON.stringify({ msg: "claim intake failed", claimId, error: error.name }));
    if (error.$metadata === undefined || String(error.name).includes("AccessDenied")) {
      return answer(500, { message: "internal error" });
    }
    return answer(503, { message: "try again later" }, { "Retry-After": "1" });
  }
};

async function file(claimId, claim) {
  const TableName = process.env.CLAIMS_TABLE;
  const Key = { claimKey: { S: `CLAIM#${claimId}` } };
  const claimJson = canonical(claim);
  const digest = createHash("sha256").update(claimJson).digest("hex");
  try {
    await dynamodb.send(
      new PutItemCommand({
        TableName,
        Item: { ...Key, claimId: { S: claimId }, claim: { S: claimJson }, claimHash: { S: digest }, claimState: { S: FILED } },
        ConditionExpression: "attribute_not_exists(claimKey)",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
  } catch (error) {
    if (error.name !== "ConditionalCheckFailedException" || !error.Item) throw error;
    if (error.Item.claimHash.S !== digest) return answer(409, { message: "claimId already used for another claim" });
    // BUG: a FILED record means an earlier attempt stopped half way; it must be finished (sent
    // and routed), not reported as received.
    return answer(200, { claimId, state: error.Item.claimState.S, duplicate: true });
  }

  await sqs.send(
    new SendMessageCommand({
      QueueUrl: process.env.CLAIMS_QUEUE_URL,
      MessageBody: JSON.stringify({ claim: { id: claimId, details: claim } }),
    }),
  );

  try {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName,
        Key,
        UpdateExpression: "SET claimState = :routed, routedAt = :now",
        ConditionExpression: "claimState = :filed AND claimHash = :hash",
        ExpressionAttributeValues: {
          ":routed": { S: ROUTED },
          ":filed": { S: FILED },
          ":hash": { S: digest },
          ":now": { S: new Date().toISOString() },
        },
      }),
    );
  } catch (error) {
    if (error.name !== "ConditionalCheckFailedException") throw error;
    const current = (await dynamodb.send(new GetItemCommand({ TableName, Key, ConsistentRead: true }))).Item;
    if (!current || current.claimHash.S !== digest || current.claimState.S === FILED) throw error;
    return answer(202, { claimId, state: current.claimState.S });
  }
  return answer(202, { claimId, state: ROUTED });
}
