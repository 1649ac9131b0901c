// Seed 002's sender, the Buffer version, as the seed has it: two raw bytes,
// 12 and 34, to a server on 127.0.0.1:3099. It never ends its socket, so it
// runs until something stops it (tcplab's --timeout).
const net = require("node:net");

const socket = net.createConnection({ host: "127.0.0.1", port: 3099 }, () => {
  const buff = Buffer.alloc(2);
  buff[0] = 12;
  buff[1] = 34;

  socket.write(buff);
});
