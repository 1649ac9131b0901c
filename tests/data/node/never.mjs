// Connects, says hello, and never exits: tcplab's --timeout stops it.
import { createServer, createConnection } from "net";

const server = createServer((socket) => socket.pipe(socket));
server.listen(0, "127.0.0.1", () => {
  const client = createConnection(server.address().port, "127.0.0.1", () => client.write("hi"));
  setInterval(() => {}, 1000);
});
