//! The classroom labs: each is real traffic on the loopback interface,
//! captured and explained. A lab's function makes its point happen on
//! purpose, then computes "what happened" and its checks from the capture
//! and the socket events, into a [`render::Outcome`](crate::render::Outcome).

mod basic;
mod crash;
mod custom;
mod facts;
mod flow;
mod lossy;
mod your_code;
mod zero_window;

pub use crate::render::{Check, Lab, Outcome, Part};
use crate::{Error, Result};

/// Every scenario, in teaching order.
pub const LABS: &[Lab] = &[
    Lab { name: "handshake", seed: "001", title: "connect and close, no data", narrative: &[
        "A connection opens with three segments: SYN, SYN-ACK, ACK (the three-way handshake).",
        "Each SYN uses one sequence number, so the first data byte is number 1.",
        "It closes with a FIN from each side, each acknowledged: three segments when the second FIN carries the ACK of the first, else four.",
        "Watch the phase column and the options the SYNs carry (MSS, SACK, timestamps, window scale).",
    ]},
    Lab { name: "hello", seed: "002", title: "one text write and its PSH-ACK", narrative: &[
        "socket.write(\"hello\") sends 5 bytes. How many bytes cross the wire?",
        "Watch the PSH-ACK that carries them and the size line: Ethernet, IP and TCP headers",
        "(with timestamp options) are far larger than the payload.",
    ]},
    Lab { name: "buffer", seed: "002", title: "the raw two-byte Buffer [12, 34]", narrative: &[
        "Buffer.alloc(2) with bytes 12 and 34 is sent as they are: 0c 22 in hex.",
        "Watch the hex dump: no text encoding, no terminator, just two bytes.",
    ]},
    Lab { name: "echo", seed: "003/004", title: "the upper-case echo, socket stats and events", narrative: &[
        "The client writes two lines; the server answers each read with \"Echo: \" + upper case.",
        "Two writes may arrive as one read (one reply): TCP carries bytes, not messages.",
        "Compare bytesWritten and bytesRead on both sides with what crossed the wire,",
        "and the events each program saw: connect, data, end, close.",
    ]},
    Lab { name: "json", seed: "000", title: "a JSON message and its reply", narrative: &[
        "TCP carries bytes; JSON is text the programs agree on, one message per line.",
        "Watch the newline at the end of the message: it is what marks where one ends.",
    ]},
    Lab { name: "coalesce", seed: "003", title: "writes are not messages", narrative: &[
        "Ten small writes. Do they arrive as ten reads? Two runs show when they do not:",
        "a receiver that reads late gets them in one read; a corked sender sends one segment.",
        "The third is the control: TCP_NODELAY, and each write waits until the reader has read",
        "the one before, so they stay apart. Watch Nagle too: on in the first run, it held nothing back.",
    ]},
    Lab { name: "framing", seed: "003", title: "length-prefixed messages across segments", narrative: &[
        "Each message is sent as a 4-byte length and its text, the stream cut in 7-byte writes.",
        "Segments end in the middle of messages; the server's decoder still gets every message.",
        "This is how a protocol puts message boundaries back into a byte stream.",
    ]},
    Lab { name: "half-close", seed: "003", title: "end() while the server still sends", narrative: &[
        "The client calls end() right after writing: its FIN says \"I will send no more\".",
        "TCP lets the server still send: watch its data arrive after the client's FIN,",
        "and the client read it. Each direction closes on its own.",
        "In Node a default server (allowHalfOpen: false) ends its side right after 'end':",
        "it may answer inside its 'end' listener, and a later write fails with EPIPE.",
        "net.createServer({ allowHalfOpen: true }) keeps its side open until it calls end().",
    ]},
    Lab { name: "reset", seed: "003", title: "end() against an abortive close: FIN against RST", narrative: &[
        "The same exchange twice: closed with end(), then aborted (zero linger, as Node's",
        "socket.resetAndDestroy() does; plain destroy() sends RST only when data is still unread).",
        "end() sends FIN and waits for the other side; the abort sends RST and forgets.",
        "Watch the last segments, and the error the server sees the second time.",
    ]},
    Lab { name: "refused", seed: "003", title: "a closed port, then retry with backoff", narrative: &[
        "Nothing listens yet: the SYN is answered at once by RST-ACK (ECONNREFUSED).",
        "The client retries, doubling its wait each time, until a server starts late.",
    ]},
    Lab { name: "crash", seed: "003", title: "the server is killed under its clients", narrative: &[
        "Two clients are connected; the server process gets kill\u{a0}-9.",
        "Watch what each client sees: the kernel closes a dead process's sockets.",
        "The clients are tcplab's own plain sockets: B writes after the FIN, its bytes go out,",
        "and an RST comes back. A default Node client (allowHalfOpen: false) would end its side",
        "instead: its late write fails at once with EPIPE and sends nothing.",
    ]},
    Lab { name: "chat", seed: "003/004", title: "three clients, broadcast", narrative: &[
        "Three clients join a chat server; one says hello.",
        "Watch three interleaved streams: the server writes the line once per other client.",
    ]},
    Lab { name: "ipv6-mapped", seed: "001", title: "IPv4 and IPv6 clients of one dual-stack server", narrative: &[
        "One IPv6 listener on :: with IPV6_V6ONLY off takes both families (dual stack):",
        "Node's server.listen(port) with no host makes this one.",
        "An IPv4 client (127.0.0.1) connects, then an IPv6 client (::1): the wire carries IPv4, then IPv6,",
        "and the server's program sees the IPv4 one as ::ffff:127.0.0.1, an IPv4-mapped IPv6 address.",
    ]},
    Lab { name: "kv", seed: "004", title: "a CRUD session against serve kv", narrative: &[
        "create, read, update, delete, list: one request line and one reply line at a time.",
        "Each OK is sent only after the store is safely on disk.",
    ]},
    Lab { name: "your-code", seed: "002", title: "trace your own program", narrative: &[
        "Your programs are Node programs: tcplab can run one and trace its connections.",
        "This lab runs a sender like seed 002's (the Buffer [12,\u{a0}34]) against tcplab's echo server,",
        "as you would run yours: sudo tcplab trace --server echo --port 3099 -- node sender.js.",
        "Watch its output among the segments, and its kernel's count of bytes beside the wire's.",
    ]},
    Lab { name: "loss", seed: "003", title: "a segment lost on purpose, and how TCP finds out", narrative: &[
        "TCP promises every byte in order; on loopback nothing is ever lost, so tcplab loses one on purpose.",
        "The client and the server sit in network namespaces of their own, joined by tcplab's forwarder (10 ms each way).",
        "First 20 segments with the third dropped: the ones after it arrive, and each duplicate ACK says what is missing.",
        "Then 3 segments with the last dropped: nothing follows it, so only a timer can tell. Compare the two waits.",
        "Last, the same with Linux's tail-loss probes off: the classic retransmission timeout (RTO) fires.",
        "Needs root (the namespaces).",
    ]},
    Lab { name: "delay", seed: "002", title: "the hello exchange with 20 ms each way", narrative: &[
        "The same two writes, \"hello \" and \"world\", over a path that adds 20 ms each way: a 40 ms round trip.",
        "Watch where the time goes: the handshake, the second write that Nagle holds until an ACK returns,",
        "and the teardown. The second run turns Nagle off (TCP_NODELAY). Needs root (the namespaces).",
    ]},
    Lab { name: "zero-window", seed: "003", title: "flow control: the slow reader", narrative: &[
        "The client writes 8 MiB in one write; the server waits a second before its first read,",
        "and its receive buffer is small. TCP sends no more than the receiver's window says:",
        "watch the window fall to 0, the client probe the closed window, and the window update",
        "that opens it. Meanwhile the client's write waits for its kernel (in Node: write()",
        "returns false, then 'drain'). Every byte still arrives, in order.",
    ]},
];

/// Finds a lab by name.
pub fn find(name: &str) -> Option<&'static Lab> {
    LABS.iter().find(|l| l.name == name)
}

/// Runs one lab's traffic and computes its outcome.
pub async fn run_lab(name: &str) -> Result<Outcome> {
    match name {
        "handshake" => basic::handshake().await,
        "hello" => basic::one_write(b"hello").await,
        "buffer" => basic::one_write(&[12, 34]).await,
        "echo" => basic::echo().await,
        "json" => basic::json().await,
        "coalesce" => basic::coalesce().await,
        "framing" => basic::framing().await,
        "half-close" => basic::half_close().await,
        "reset" => basic::reset().await,
        "ipv6-mapped" => basic::ipv6_mapped().await,
        "refused" => custom::refused().await,
        "crash" => crash::crash().await,
        "chat" => custom::chat().await,
        "kv" => custom::kv().await,
        "loss" => lossy::loss().await,
        "delay" => lossy::delay().await,
        "zero-window" => flow::zero_window().await,
        "your-code" => your_code::your_code().await,
        other => Err(unknown(other)),
    }
}

pub fn unknown(name: &str) -> Error {
    let names: Vec<&str> = LABS.iter().map(|l| l.name).collect();
    Error::Usage(format!(
        "no lab named '{name}'; try one of: {} (tcplab lab list)",
        names.join(", ")
    ))
}
