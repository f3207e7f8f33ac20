// A test handler: makes the AWS calls its event lists, one after the other, and answers what
// the SDK reported for each (attempts, the retry delay it counted, or the error's name).
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";

const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});

function command(call) {
  const table = process.env.CALLS_TABLE;
  switch (call.op) {
    case "put":
      return [dynamodb, new PutItemCommand({ TableName: table, Item: { id: { S: call.id } } })];
    case "get":
      return [dynamodb, new GetItemCommand({ TableName: table, Key: { id: { S: call.id } } })];
    case "send":
      return [sqs, new SendMessageCommand({ QueueUrl: process.env.CALLS_QUEUE_URL, MessageBody: call.body })];
    default:
      throw new Error(`unknown op ${call.op}`);
  }
}

export const handler = async (event) => {
  const seen = [];
  for (const call of event.calls) {
    const [client, request] = command(call);
    try {
      const output = await client.send(request);
      seen.push({ ok: true, attempts: output.$metadata.attempts, retryDelay: output.$metadata.totalRetryDelay });
    } catch (error) {
      seen.push({ ok: false, error: error.name, attempts: error.$metadata?.attempts, retryDelay: error.$metadata?.totalRetryDelay });
    }
  }
  return seen;
};
