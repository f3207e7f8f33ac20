// A test handler whose own timer must keep its delay while the SDK's retries do not wait:
// the runner counts only the retry delays it skipped.
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";

const dynamodb = new DynamoDBClient({});

export const handler = async (event, context) => {
  const fired = [];
  await new Promise((resolve) => setTimeout(() => resolve(fired.push("own timer")), event.ownDelayMs));
  let attempts, retryDelay, error;
  try {
    const output = await dynamodb.send(
      new GetItemCommand({ TableName: process.env.CALLS_TABLE, Key: { id: { S: "x" } } }),
    );
    ({ attempts, totalRetryDelay: retryDelay } = output.$metadata);
  } catch (failure) {
    error = failure.name;
    ({ attempts, totalRetryDelay: retryDelay } = failure.$metadata);
  }
  return { fired, attempts, retryDelay, error, remaining: context.getRemainingTimeInMillis() };
};
