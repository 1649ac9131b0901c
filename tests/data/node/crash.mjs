// A server that stops reading, a client that writes into it, and a crash
// mid-write: the process dies with bytes unread in its server socket's
// receive buffer, so its kernel resets the connection (RST).
import { createServer, createConnection } from "net";

const server = createServer((socket) => socket.pause());
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  const client = createConnection({ host: "127.0.0.1", port }, () => {
    console.log("[client] writing");
    client.write(Buffer.alloc(100000, 0x61));
    setTimeout(() => {
      throw new Error("crash mid-write");
    }, 100);
  });
});
