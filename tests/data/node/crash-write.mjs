// Lab crash, as Node 20 does it: a client of a server process that gets
// kill -9, writing after the dead server's kernel sent its FIN.
//   node crash-write.mjs default   a default client (allowHalfOpen: false)
//   node crash-write.mjs allow     createConnection({ allowHalfOpen: true })
// The server is a child process (this file, argument "server"): an echo
// server on 127.0.0.1 that prints its port. The client writes "hi", reads
// the echo, kills the child, waits for 'end', then writes "anyone there?"
// and, 50 ms later, "hello?". It prints one JSON line per observation;
// tests/lab_truths.rs reads them.
import { createServer, createConnection } from "net";
import { spawn } from "child_process";
import { fileURLToPath } from "url";

const say = (what) => console.log(JSON.stringify(what));

if (process.argv[2] === "server") {
  const server = createServer((socket) => socket.pipe(socket));
  server.listen(0, "127.0.0.1", () => console.log(server.address().port));
} else {
  const allowHalfOpen = process.argv[2] === "allow";
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "server"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  child.stdout.once("data", (line) => {
    const port = Number(String(line).trim());
    const client = createConnection({ host: "127.0.0.1", port, allowHalfOpen }, () =>
      client.write("hi"),
    );
    const write = (text) => {
      say({ event: "write", text, writableEnded: client.writableEnded, destroyed: client.destroyed });
      client.write(text, (err) =>
        say({
          event: "write-callback",
          text,
          error: err ? { code: err.code, message: err.message } : null,
        }),
      );
    };
    client.once("data", (d) => {
      say({ event: "data", text: String(d) });
      child.kill("SIGKILL");
    });
    client.on("end", () => {
      say({ event: "end" });
      setTimeout(() => {
        write("anyone there?");
        setTimeout(() => {
          write("hello?");
          setTimeout(() => client.destroy(), 50);
        }, 50);
      }, 20);
    });
    client.on("error", (err) => say({ event: "error", code: err.code, message: err.message }));
    client.on("close", (hadError) => say({ event: "close", hadError }));
  });
}
