// queuecheck's Node.js runner, protocol 1 (docs/runners.md).
//
//   node node_runner.mjs PATH EXPORT
//
// Loads the handler PATH (.mjs, .cjs or .js; its imports resolve from its own folder, as Node
// does), answers {"type": "ready"} on fd 4, then runs one invocation per {"type": "invoke"}
// line read from fd 3 and answers each with a "result" or an "error" line on fd 4. The
// handler's own output (console.log, stdout, stderr) never mixes with the protocol: it goes to
// stdout and stderr, which the harness reads as the invocation's log lines. When fd 3 closes
// (the harness is done, or died) the runner exits.
//
// Retries run without sleeping: a timer that the AWS SDK's retry code creates (seen on the call
// stack) fires at once, and its delay is counted as virtual time ("skippedDelayMs"); every other
// timer keeps its delay. The number and order of attempts stay what the SDK decides.

import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

const PROTOCOL = 1;
const TO_HARNESS = 4;
const FROM_HARNESS = 3;

// ---- the protocol's output: one JSON object per line, written synchronously ----

function send(message) {
  const data = Buffer.from(JSON.stringify(message) + "\n");
  let written = 0;
  while (written < data.length) {
    try {
      written += fs.writeSync(TO_HARNESS, data, written);
    } catch (error) {
      if (error.code !== "EAGAIN") throw error;
    }
  }
}

function oneLine(text) {
  return String(text).split("\n")[0].trim();
}

// ---- virtual time for the SDK's retry delays ----

// The files and methods that wait between attempts: @smithy/core's retry submodule (SDK v3 from
// 2025 on), @smithy/util-retry and @smithy/middleware-retry (older v3), and, for bundled
// handlers whose file names say nothing, the retry strategies' own method names.
const RETRY_FILE = /[\\/]@smithy[\\/](?:core[\\/]dist-[^\\/]+[\\/]submodules[\\/]retry|util-retry|middleware-retry)[\\/]/;
const RETRY_METHOD = /(?:^|\.)(?:refreshRetryTokenForRetry|acquireTokenBucket|retry)$/;

const realSetTimeout = globalThis.setTimeout;
const virtual = { skippedMs: 0, retryTimers: 0 };

function callerSites() {
  const keepPrepare = Error.prepareStackTrace;
  const keepLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 6;
  Error.prepareStackTrace = (_, sites) => sites;
  const holder = {};
  Error.captureStackTrace(holder, queuecheckSetTimeout);
  const sites = holder.stack;
  Error.prepareStackTrace = keepPrepare;
  Error.stackTraceLimit = keepLimit;
  return Array.isArray(sites) ? sites : [];
}

function fromRetryCode() {
  // The function that called setTimeout, and the one that made the Promise it resolves.
  for (const site of callerSites().slice(0, 3)) {
    const file = site.getFileName() ?? "";
    const name = site.getFunctionName() ?? "";
    const method = `${site.getTypeName() ?? ""}.${site.getMethodName() ?? name}`;
    if (RETRY_FILE.test(file) || RETRY_METHOD.test(name) || RETRY_METHOD.test(method)) {
      return !file.startsWith("node:");
    }
  }
  return false;
}

function queuecheckSetTimeout(callback, delay, ...args) {
  const ms = Number(delay) || 0;
  if (ms > 0 && typeof callback === "function" && fromRetryCode()) {
    virtual.skippedMs += ms;
    virtual.retryTimers += 1;
    return realSetTimeout(callback, 0, ...args);
  }
  return realSetTimeout(callback, delay, ...args);
}
Object.defineProperty(queuecheckSetTimeout, "name", { value: "setTimeout" });
globalThis.setTimeout = queuecheckSetTimeout;

// ---- loading the handler ----

async function load(file, exportName) {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute)) {
    throw new Error(`handler file ${absolute} does not exist`);
  }
  const module = await import(pathToFileURL(absolute).href);
  let handler = module[exportName];
  if (handler === undefined && module.default && typeof module.default === "object") {
    handler = module.default[exportName]; // CommonJS exports that Node could not name statically
  }
  if (handler === undefined) {
    const names = Object.keys(module).filter((name) => name !== "default");
    throw new Error(
      `${path.basename(absolute)} exports no ${exportName} (it exports: ${names.join(", ") || "nothing"})`,
    );
  }
  if (typeof handler !== "function") {
    throw new Error(`${path.basename(absolute)}'s export ${exportName} is a ${typeof handler}, not a function`);
  }
  return handler;
}

// ---- one invocation ----

function lambdaContext(wire, started) {
  const context = {
    awsRequestId: wire.awsRequestId,
    functionName: wire.functionName,
    functionVersion: wire.functionVersion,
    invokedFunctionArn: wire.invokedFunctionArn,
    memoryLimitInMB: String(wire.memoryLimitInMB),
    logGroupName: wire.logGroupName,
    logStreamName: wire.logStreamName,
    identity: undefined,
    clientContext: undefined,
    callbackWaitsForEmptyEventLoop: true,
    // Time the SDK did not sleep still counts against the deadline, as it would on Lambda.
    getRemainingTimeInMillis: () =>
      Math.max(0, wire.deadlineMs - Date.now() - (virtual.skippedMs - started)),
  };
  return context;
}

function errorFields(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name && error.name !== "Error" ? error.name : error.constructor?.name || "Error",
      errorMessage: String(error.message ?? ""),
    };
  }
  if (error && typeof error === "object") {
    return {
      errorType: String(error.name ?? error.errorType ?? "Error"),
      errorMessage: String(error.message ?? error.errorMessage ?? JSON.stringify(error)),
    };
  }
  return { errorType: typeof error, errorMessage: String(error) };
}

let baseline = [];

function busyResources() {
  // What keeps the event loop alive beyond the runner's own channel (measured at start).
  const left = [...baseline];
  return process.getActiveResourcesInfo().filter((kind) => {
    const at = left.indexOf(kind);
    if (at >= 0) {
      left.splice(at, 1);
      return false;
    }
    return true;
  });
}

async function emptyEventLoop() {
  // Lambda answers a callback-style handler only once its event loop is empty (unless the
  // handler set context.callbackWaitsForEmptyEventLoop = false).
  while (busyResources().length > 0) {
    await new Promise((resolve) => realSetTimeout(resolve, 1).unref());
  }
}

function run(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error, value) => {
      if (settled) return;
      settled = true;
      if (error !== undefined && error !== null) {
        reject(error);
      } else if (context.callbackWaitsForEmptyEventLoop) {
        emptyEventLoop().then(() => resolve(value), reject);
      } else {
        resolve(value);
      }
    };
    const callback = (error, value) => finish(error, value);
    context.done = callback;
    context.succeed = (value) => finish(null, value);
    context.fail = (error) => finish(error ?? new Error("context.fail"));
    let returned;
    try {
      returned = handler.length >= 3 ? handler(event, context, callback) : handler(event, context);
    } catch (error) {
      settled = true;
      reject(error);
      return;
    }
    if (returned && typeof returned.then === "function") {
      returned.then(
        (value) => {
          if (!settled) {
            settled = true;
            resolve(value);
          }
        },
        (error) => {
          if (!settled) {
            settled = true;
            reject(error ?? new Error("the handler rejected with no reason"));
          }
        },
      );
    } else if (handler.length < 3) {
      settled = true;
      resolve(returned); // a plain function with two parameters: what it returns is the answer
    }
  });
}

let current = null; // the id of the invocation in progress

async function invoke(handler, message) {
  const started = virtual.skippedMs;
  current = message.id;
  let reply;
  try {
    const value = await run(handler, message.event, lambdaContext(message.context ?? {}, started));
    let text;
    try {
      text = JSON.stringify(value === undefined ? null : value);
    } catch (error) {
      throw Object.assign(new Error(`the handler's answer is not JSON: ${oneLine(error.message)}`), {
        name: "Runtime.SerializationError",
      });
    }
    reply = { type: "result", id: message.id, value: JSON.parse(text) };
  } catch (error) {
    reply = { type: "error", id: message.id, ...errorFields(error) };
  }
  reply.skippedDelayMs = virtual.skippedMs - started;
  current = null;
  send(reply); // stdout and stderr are written synchronously (pipes, files): nothing is pending
}

function onFatal(kind) {
  return (error) => {
    // Lambda's runtime reports the invocation as failed and starts a new environment.
    if (current !== null) {
      // "fatal": this process exits now; the next invocation needs a new one (a cold start).
      send({ type: "error", id: current, ...errorFields(error), errorType: kind, fatal: true });
    }
    process.stderr.write(`${kind}: ${error?.stack ?? error}\n`);
    process.exit(1);
  };
}

// ---- the channel from the harness ----

function fromHarness() {
  try {
    return new net.Socket({ fd: FROM_HARNESS, readable: true, writable: false });
  } catch {
    return fs.createReadStream(null, { fd: FROM_HARNESS }); // a file, when run by hand
  }
}

function watchTheHarness() {
  // fd 3's end stops the runner while its event loop turns; a handler stuck in a loop of its
  // own is stopped by this thread instead, when the harness that started it is gone.
  const watchdog = new Worker(
    `const { workerData } = require("node:worker_threads");
     const kill = (pid) => { try { process.kill(pid, "SIGKILL"); return true; } catch { return false; } };
     setInterval(() => {
       if (process.ppid !== workerData.parent) kill(-process.pid) || kill(process.pid);
     }, 500);`,
    { eval: true, workerData: { parent: process.ppid } }, // the harness, as seen at the start
  );
  watchdog.on("error", () => {});
  watchdog.unref();
}

async function main() {
  const [file, exportName = "handler"] = process.argv.slice(2);
  if (!file) {
    send({ type: "failed", stage: "load", message: "usage: node node_runner.mjs PATH EXPORT" });
    process.exit(2);
  }
  watchTheHarness();
  // Read fd 3 from the start, so that its end stops the runner even while the handler loads;
  // invocations wait for the load.
  const input = fromHarness();
  input.on("error", () => process.exit(0));
  input.on("end", () => process.exit(0));
  input.on("close", () => process.exit(0));
  let loaded;
  let queue = new Promise((resolve) => (loaded = resolve));
  readline.createInterface({ input, crlfDelay: Infinity }).on("line", (line) => {
    if (!line.trim()) return;
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      process.stderr.write(`queuecheck runner: not JSON from the harness: ${line.slice(0, 80)}\n`);
      process.exit(2);
    }
    if (message.type !== "invoke") {
      process.stderr.write(`queuecheck runner: unknown message type ${message.type}\n`);
      process.exit(2);
    }
    queue = queue.then((handler) => invoke(handler, message).then(() => handler)); // in order
  });
  let handler;
  try {
    handler = await load(file, exportName);
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    send({ type: "failed", stage: "load", message: oneLine(reason) });
    process.exit(1);
  }
  process.on("uncaughtException", onFatal("Runtime.UncaughtException"));
  process.on("unhandledRejection", onFatal("Runtime.UnhandledPromiseRejection"));
  baseline = process.getActiveResourcesInfo();
  send({ type: "ready", protocol: PROTOCOL, runtime: `node ${process.version}`, pid: process.pid });
  loaded(handler);
}

main();
