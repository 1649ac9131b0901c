// Lab half-close, as Node 20 does it: the client writes "hello" and calls
// end() at once; the server answers only after the client's FIN ('end').
//   node half-close.mjs default now    default server (allowHalfOpen: false),
//                                      answer written inside the 'end' listener
//   node half-close.mjs default later  the same, answer written 20 ms after 'end'
//   node half-close.mjs allow later    net.createServer({ allowHalfOpen: true }),
//                                      answer 20 ms after 'end', then end()
// It prints one JSON line per observation; tests/lab_truths.rs reads them.
import { createServer, createConnection } from "net";

const allowHalfOpen = process.argv[2] === "allow";
const later = process.argv[3] === "later";
const say = (what) => console.log(JSON.stringify(what));

const server = createServer({ allowHalfOpen }, (socket) => {
  let got = "";
  socket.on("data", (d) => (got += d));
  socket.on("end", () => {
    // The client's FIN has arrived: now answer.
    say({ side: "server", event: "end", writableEnded: socket.writableEnded });
    const answer = () => {
      say({ side: "server", event: "write", writableEnded: socket.writableEnded });
      socket.write("Echo: " + got.toUpperCase(), (err) => {
        say({
          side: "server",
          event: "write-callback",
          error: err ? { code: err.code, message: err.message } : null,
        });
        if (!err) socket.end();
      });
    };
    if (later) setTimeout(answer, 20);
    else answer();
  });
  socket.on("error", (err) =>
    say({ side: "server", event: "error", code: err.code, message: err.message }),
  );
  socket.on("close", () => {
    say({ side: "server", event: "close" });
    server.close();
  });
});

server.listen(0, "127.0.0.1", () => {
  const client = createConnection({ host: "127.0.0.1", port: server.address().port }, () => {
    client.write("hello");
    client.end();
  });
  let received = "";
  client.on("data", (d) => (received += d));
  client.on("end", () => say({ side: "client", event: "end" }));
  client.on("error", (err) =>
    say({ side: "client", event: "error", code: err.code, message: err.message }),
  );
  client.on("close", () => say({ side: "client", event: "close", received }));
});
