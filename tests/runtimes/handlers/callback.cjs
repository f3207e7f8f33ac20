// A test handler in the callback style of older Node.js functions (CommonJS, 3 parameters).
// It calls back first and logs later, on a timer: Lambda (and the runner) answer only once the
// event loop is empty, so the late line belongs to this invocation.
exports.handler = function (event, context, callback) {
  if (event.fail) {
    callback(new RangeError(`refused ${event.fail}`));
    return;
  }
  setTimeout(() => console.log("after the callback"), 5);
  callback(null, { echo: event.value });
};
