// Never finishes loading: a top-level await that waits for ever (a timer keeps it alive).
await new Promise(() => setInterval(() => {}, 60_000));
export const handler = async () => "never";
