// Booking intake behind an API Gateway HTTP API (payload format 2.0), with the
// DynamoDBDocumentClient (plain JavaScript values instead of {"S": ...}).
//
// POST /v1/bookings with {"bookingId": "...", "details": {...}}: store the booking REQUESTED in
// BOOKINGS_TABLE (string key bookingKey = "BOOKING-<id>"), send it to the reservations queue
// (BOOKINGS_QUEUE_URL), then set FORWARDED. The reservations system moves it on to HELD and
// CONFIRMED. Answers 201 for a new booking.
//
// Repeats are idempotent: FORWARDED or later is a 200 without a second message, REQUESTED (an
// earlier attempt stopped half way) is finished, other details under the same id are a 409. A
// failed send leaves the booking REQUESTED and answers 503; so does a failed status update (the
// message is out, and the caller's retry finishes the booking).

import { createHash } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";

const REQUESTED = "REQUESTED";
const FORWARDED = "FORWARDED";

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const sqs = new SQSClient({});

function respond(statusCode, body, headers = {}) {
  return {
    statusCode,
    headers: { "content-type": "application/json", ...headers },
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

function readBody(event) {
  // The request body as an object, or undefined when it is not a JSON object.
  let text = event.body ?? "";
  if (event.isBase64Encoded) text = Buffer.from(text, "base64").toString("utf8");
  if (!text || text.length > 65536) return undefined;
  try {
    const body = JSON.parse(text);
    return body && typeof body === "object" && !Array.isArray(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

export async function handler(event) {
  const http = event?.requestContext?.http ?? {};
  if (http.method !== "POST" || event.rawPath !== "/v1/bookings") {
    return respond(404, { error: "no such route" });
  }
  const body = readBody(event);
  if (body === undefined) return respond(400, { error: "the body must be a JSON object" });
  const { bookingId, details } = body;
  if (typeof bookingId !== "string" || bookingId.length < 1 || bookingId.length > 200) {
    return respond(400, { error: "bookingId must be a string of 1 to 200 characters" });
  }
  if (!details || typeof details !== "object" || Array.isArray(details)) {
    return respond(400, { error: "details must be an object" });
  }
  try {
    return await book(bookingId, details);
  } catch (error) {
    console.error(`booking ${bookingId} failed: ${error.name}`);
    if (error.$metadata === undefined || String(error.name).includes("AccessDenied")) {
      return respond(500, { error: "internal error" });
    }
    return respond(503, { error: "service unavailable" }, { "retry-after": "2" });
  }
}

async function book(bookingId, details) {
  const TableName = process.env.BOOKINGS_TABLE;
  const Key = { bookingKey: `BOOKING-${bookingId}` };
  const detailsJson = canonical(details);
  const detailsHash = createHash("sha256").update(detailsJson).digest("hex");
  try {
    await documents.send(
      new PutCommand({
        TableName,
        Item: {
          ...Key,
          bookingId,
          details: detailsJson,
          detailsHash,
          bookingState: REQUESTED,
          requestedAt: Date.now(),
        },
        ConditionExpression: "attribute_not_exists(bookingKey)",
      }),
    );
  } catch (error) {
    if (error.name !== "ConditionalCheckFailedException") throw error;
    const existing = await current(TableName, Key);
    if (!existing) throw error; // deleted since: a retry starts afresh
    if (existing.detailsHash !== detailsHash) {
      return respond(409, { error: "bookingId already used for other details" });
    }
    if (existing.bookingState !== REQUESTED) {
      return respond(200, { bookingId, state: existing.bookingState });
    }
  }

  await sqs.send(
    new SendMessageCommand({
      QueueUrl: process.env.BOOKINGS_QUEUE_URL,
      MessageBody: JSON.stringify({ booking: bookingId, details }),
    }),
  );

  try {
    await documents.send(
      new UpdateCommand({
        TableName,
        Key,
        UpdateExpression: "SET bookingState = :forwarded, forwardedAt = :now",
        ConditionExpression: "bookingState = :requested AND detailsHash = :hash",
        ExpressionAttributeValues: {
          ":forwarded": FORWARDED,
          ":requested": REQUESTED,
          ":hash": detailsHash,
          ":now": Date.now(),
        },
      }),
    );
  } catch (error) {
    if (error.name !== "ConditionalCheckFailedException") throw error;
    // Lost to another attempt or to the reservations system: fine once it is forwarded.
    const existing = await current(TableName, Key);
    if (existing?.detailsHash === detailsHash && existing.bookingState !== REQUESTED) {
      return respond(201, { bookingId, state: existing.bookingState });
    }
    throw error;
  }
  return respond(201, { bookingId, state: FORWARDED });
}

async function current(TableName, Key) {
  return (await documents.send(new GetCommand({ TableName, Key, ConsistentRead: true }))).Item;
}
