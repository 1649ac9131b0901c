// Ten connections one after another to a server that is not this
// program's (its port is argv[2]), each open for about a millisecond:
// connect, send "hi", end, and the next one once this one has closed.
// Too short for the 2 ms sampler; the tracepoint names each one's close.
import { createConnection } from "net";

const port = Number(process.argv[2]);
const N = 10;
let i = 0;
function one() {
  if (i++ === N) return;
  const c = createConnection({ host: "127.0.0.1", port }, () => c.end("hi"));
  c.on("data", () => {});
  c.on("close", one);
}
one();
