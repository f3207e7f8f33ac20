// A test handler with module state: counts its invocations, logs on stdout and stderr, and
// answers what it saw of its context.
let invocations = 0;

export const handler = async (event, context) => {
  invocations += 1;
  console.log(`invocation ${invocations} starts (${event.label})`);
  process.stderr.write(`invocation ${invocations} ends\n`);
  return {
    invocations,
    pid: process.pid,
    protocol: process.env.QUEUECHECK_PROTOCOL,
    awsRequestId: context.awsRequestId,
    functionName: context.functionName,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB,
    remaining: context.getRemainingTimeInMillis(),
    waits: context.callbackWaitsForEmptyEventLoop,
  };
};
