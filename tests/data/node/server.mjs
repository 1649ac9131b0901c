// A server for tcplab's client (`trace --send hi --connect PORT -- node
// server.mjs PORT`): upper-cases what it reads, and exits once its one
// client has gone.
import { createServer } from "net";

const port = Number(process.argv[2] ?? 3099);
const server = createServer((socket) => {
  console.log(`[server] connection from ${socket.remotePort}`);
  socket.on("data", (d) => socket.write(d.toString().toUpperCase()));
  socket.on("close", () => server.close());
});
server.listen(port, "127.0.0.1", () => console.log(`[server] listening on ${port}`));
