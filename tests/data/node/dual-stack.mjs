// Lab ipv6-mapped, as Node 20 does it: server.listen(0) with no host
// listens on :: with IPV6_V6ONLY off (dual stack, when the machine has
// IPv6), so one listener takes an IPv4 client (127.0.0.1) and an IPv6
// client (::1). Then a listener bound to ::ffff:127.0.0.1, which only
// IPv4 reaches. It prints one JSON line per observation; tests/lab_truths.rs
// reads them.
import { createServer, createConnection } from "net";

const say = (what) => console.log(JSON.stringify(what));

// Connects to `host`:`port`; resolves with what the client and the server saw, or the error.
function connect(server, host) {
  return new Promise((resolve) => {
    let serverSaw = null;
    let clientLocal = null;
    const done = () => serverSaw && clientLocal && resolve({ host, server_saw: serverSaw, client_local: clientLocal });
    server.once("connection", (s) => {
      serverSaw = { remoteAddress: s.remoteAddress, remoteFamily: s.remoteFamily, localAddress: s.localAddress };
      s.end();
      done();
    });
    const c = createConnection({ host, port: server.address().port }, () => {
      clientLocal = { address: c.localAddress, family: c.localFamily };
      c.end();
      done();
    });
    c.on("error", (err) => {
      server.removeAllListeners("connection");
      resolve({ host, error: err.code });
    });
  });
}

function listen(...args) {
  return new Promise((resolve) => {
    const server = createServer();
    server.on("error", (err) => resolve({ server: null, error: err.code }));
    server.listen(...args, () => resolve({ server }));
  });
}

const { server: any } = await listen(0);
say({ listener: "listen(0)", address: any.address() });
say(await connect(any, "127.0.0.1"));
say(await connect(any, "::1"));
any.close();

const { server: mapped, error } = await listen(0, "::ffff:127.0.0.1");
if (mapped) {
  say({ listener: "listen(0, '::ffff:127.0.0.1')", address: mapped.address() });
  say(await connect(mapped, "127.0.0.1"));
  say(await connect(mapped, "::1"));
  mapped.close();
} else {
  say({ listener: "listen(0, '::ffff:127.0.0.1')", error });
}
