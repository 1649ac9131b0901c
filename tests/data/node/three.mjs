// Three connections, one after the other, to a server in the same process.
import { createServer, createConnection } from "net";

const server = createServer((socket) => socket.pipe(socket));
server.listen(0, "127.0.0.1", async () => {
  const { port } = server.address();
  for (const word of ["one", "two", "three"]) {
    await new Promise((done) => {
      const c = createConnection({ host: "127.0.0.1", port }, () => c.end(word));
      c.on("data", (d) => console.log(`[client] ${d}`));
      c.on("close", done);
    });
  }
  server.close();
});
