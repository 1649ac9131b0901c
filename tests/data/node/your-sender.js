// The your-code lab's sender: seed 002's Buffer sender, ending its socket
// once the echo has come back (the seed's never ends). The port is the
// first argument.
const net = require("node:net");

const port = Number(process.argv[2] ?? 3099);
const socket = net.createConnection({ host: "127.0.0.1", port }, () => {
  console.log("[client] Connected to server");
  const buff = Buffer.alloc(2);
  buff[0] = 12;
  buff[1] = 34;
  socket.write(buff);
});
socket.on("data", (data) => {
  console.log("[client] Received", data);
  socket.end();
});
socket.on("close", () => {
  console.log("[client] bytesWritten:", socket.bytesWritten, "bytesRead:", socket.bytesRead);
});
