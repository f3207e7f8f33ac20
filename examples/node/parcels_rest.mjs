// Parcel intake behind an API Gateway REST API (Lambda proxy integration, payload format 1.0),
// with the low-level DynamoDBClient.
//
// POST /parcels with {"parcelId": "...", "contents": {...}}: store the parcel RECEIVED in
// PARCELS_TABLE (string keys pk, sk), send it to the dispatch queue (PARCELS_QUEUE_URL), then set
// DISPATCHED. The depot moves it on to IN_TRANSIT and DELIVERED.
//
// Idempotent per parcelId: a repeat of a dispatched parcel is a 200 that sends nothing, a repeat
// of a RECEIVED one (an earlier attempt stopped half way) is finished, other contents under the
// same id are a 409. The message goes out before the status changes, so a crash in between
// leaves a RECEIVED parcel that the caller's retry completes; a failed send leaves it RECEIVED
// and answers 503. Logs carry ids and AWS error names, never the contents.

import { createHash } from "node:crypto";
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";

const RECEIVED = "RECEIVED";
const DISPATCHED = "DISPATCHED";
const MAX_BODY_BYTES = 64 * 1024;

// One client per service and process, made on first use (the SDK retries: standard, 3 attempts).
let clients;
function aws() {
  clients ??= { dynamodb: new DynamoDBClient({}), sqs: new SQSClient({}) };
  return clients;
}

class BadRequest extends Error {}

function answer(statusCode, body, headers = {}) {
  return {
    statusCode,
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}

function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function parse(event) {
  if (!event.body) throw new BadRequest("a JSON body is required");
  const text = event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new BadRequest("the body is larger than 64 KiB");
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequest("the body is not valid JSON");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw new BadRequest("the body must be a JSON object");
  }
  const { parcelId, contents } = body;
  if (typeof parcelId !== "string" || parcelId.length < 1 || parcelId.length > 200) {
    throw new BadRequest("parcelId must be a string of 1 to 200 characters");
  }
  if (!contents || typeof contents !== "object" || Array.isArray(contents)) {
    throw new BadRequest("contents must be an object");
  }
  return { parcelId, contents };
}

export const handler = async (event) => {
  if (event?.httpMethod !== "POST" || event?.path !== "/parcels") {
    return answer(404, { message: "not found" });
  }
  let parcel;
  try {
    parcel = parse(event);
  } catch (error) {
    if (error instanceof BadRequest) return answer(400, { message: error.message });
    throw error;
  }
  try {
    return await accept(parcel);
  } catch (error) {
    // AWS failed (after the SDK's retries): say so without a word of what failed where.
    console.warn(JSON.stringify({ msg: "parcel intake failed", parcelId: parcel.parcelId, error: error.name }));
    if (error.$metadata === undefined) return answer(500, { message: "internal error" });
    if (String(error.name).includes("AccessDenied")) return answer(500, { message: "internal error" });
    return answer(503, { message: "try again later" }, { "Retry-After": "1" });
  }
};

async function accept({ parcelId, contents }) {
  const { dynamodb, sqs } = aws();
  const TableName = process.env.PARCELS_TABLE;
  const Key = { pk: { S: `PARCEL#${parcelId}` }, sk: { S: "META" } };
  const contentsJson = canonical(contents);
  const digest = createHash("sha256").update(contentsJson).digest("hex");
  const now = new Date().toISOString();
  try {
    await dynamodb.send(
      new PutItemCommand({
        TableName,
        Item: {
          ...Key,
          parcelId: { S: parcelId },
          contents: { S: contentsJson },
          contentsHash: { S: digest },
          stage: { S: RECEIVED },
          receivedAt: { S: now },
        },
        ConditionExpression: "attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
  } catch (error) {
    if (error.name !== "ConditionalCheckFailedException") throw error;
    const old = error.Item ?? (await read(dynamodb, TableName, Key));
    if (!old) throw error; // gone since: a 503, and the caller's retry starts afresh
    if (old.contentsHash.S !== digest) {
      return answer(409, { message: "parcelId already used for other contents" });
    }
    if (old.stage.S !== RECEIVED) return answer(200, { parcelId, stage: old.stage.S });
    console.info(JSON.stringify({ msg: "finishing an earlier attempt", parcelId }));
  }

  await sqs.send(
    new SendMessageCommand({
      QueueUrl: process.env.PARCELS_QUEUE_URL,
      MessageBody: JSON.stringify({ parcel: { id: parcelId, contents } }),
    }),
  );

  try {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName,
        Key,
        UpdateExpression: "SET #stage = :dispatched, dispatchedAt = :now",
        ConditionExpression: "#stage = :received AND contentsHash = :hash",
        ExpressionAttributeNames: { "#stage": "stage" },
        ExpressionAttributeValues: {
          ":dispatched": { S: DISPATCHED },
          ":received": { S: RECEIVED },
          ":hash": { S: digest },
          ":now": { S: now },
        },
      }),
    );
  } catch (error) {
    if (error.name !== "ConditionalCheckFailedException") throw error;
    // Another attempt dispatched it first, or the depot moved it on: both are fine.
    const current = await read(dynamodb, TableName, Key);
    if (!current || current.contentsHash.S !== digest || current.stage.S === RECEIVED) throw error;
    return answer(202, { parcelId, stage: current.stage.S });
  }
  return answer(202, { parcelId, stage: DISPATCHED });
}

async function read(dynamodb, TableName, Key) {
  const found = await dynamodb.send(new GetItemCommand({ TableName, Key, ConsistentRead: true }));
  return found.Item;
}
