// Seed 003's experiment, completed where the seed's excerpt cuts it
// ("// [...]"): a server and a client in one process, the server on port 0
// (any free port), the client writing the seed's two lines and printing the
// seed's socket stats (the addresses once connected, the byte counts once
// the connection has closed).
import { createServer, createConnection } from "net";

console.log("=== TCP Server and Client ===\n");

// Create a TCP server
const server = createServer((socket) => {
  const addr = `${socket.remoteAddress}:${socket.remotePort}`;
  console.log(`[server] Client connected: ${addr}`);

  // socket is a Duplex stream — both readable and writable
  socket.on("data", (data) => {
    console.log(`[server] Received from ${addr}: ${data.toString().trim()}`);
    // Echo back with transformation
    socket.write(`Echo: ${data.toString().toUpperCase()}`);
  });

  socket.on("end", () => {
    console.log(`[server] Client disconnected: ${addr}`);
  });

  socket.on("error", (err) => {
    console.log(`[server] Socket error: ${err.message}`);
  });
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  console.log(`[server] Listening on 127.0.0.1:${port}`);
  const client = createConnection({ host: "127.0.0.1", port }, () => {
    console.log("[client] Connected to server");
    console.log("[client] localAddress:", client.localAddress);
    console.log("[client] localPort:", client.localPort);
    console.log("[client] remoteAddress:", client.remoteAddress);
    console.log("[client] remotePort:", client.remotePort);
    client.write("Hello, TCP!\n");
    client.write("Streams are powerful\n");
  });
  let echoed = "";
  client.on("data", (data) => {
    echoed += data.toString();
    console.log(`[client] Received: ${data.toString().trim()}`);
    // Both lines echoed (in one reply or two): done.
    if (echoed.includes("STREAMS ARE POWERFUL")) client.end();
  });
  client.on("close", () => {
    console.log("[client] bytesWritten:", client.bytesWritten);
    console.log("[client] bytesRead:", client.bytesRead);
    server.close();
  });
});
