// A test handler that fails the ways a handler can: throws, rejects with a non-Error, or
// crashes its runtime with an exception nobody catches.
export const handler = async (event) => {
  if (event.how === "throw") throw new TypeError("no such thing");
  if (event.how === "reject") return Promise.reject("just a string");
  if (event.how === "uncaught") {
    setTimeout(() => {
      throw new Error("escaped");
    }, 1);
    return new Promise(() => {});
  }
  return "fine";
};
