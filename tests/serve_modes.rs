//! Each `tcplab serve` mode against real std::net clients, through the real
//! binary; the log is checked too (events named as Node names them).

mod serve_common;

use serve_common::{arg, tcplab, temp_dir, Server};

#[test]
fn echo_writes_back_exactly_what_it_reads_binary_included() {
    let server = Server::start("echo", &[]);
    let mut c = server.connect();
    let all: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    c.send(&all);
    assert_eq!(c.read_exact(all.len()), all);
    c.send(b"hello\n");
    assert_eq!(c.read_exact(6), b"hello\n");
    c.end();
    c.expect_eof();
    let close = server.wait_log("close ");
    assert!(
        close.contains("read 3006 · wrote 3006 · 0 active"),
        "{close}"
    );
    let connection = server.wait_log("connection  from");
    assert!(connection.contains("from 127.0.0.1:"), "{connection}");
    assert!(connection.contains("(IPv4) · 1 active"), "{connection}");
    server.wait_log("#1    end");
}

#[test]
fn upper_replies_echo_and_the_text_in_capitals() {
    let server = Server::start("upper", &[]);
    let mut c = server.connect();
    c.send("Hello, TCP!\n");
    assert_eq!(c.line(), "Echo: HELLO, TCP!");
    c.send("straße\n");
    assert_eq!(c.line(), "Echo: STRASSE");
}

#[test]
fn greet_says_hello_then_answers_in_capitals_and_quit() {
    let server = Server::start("greet", &[]);
    let mut c = server.connect();
    assert_eq!(c.line(), "Hello from the server!");
    c.send("Hello from the client!\n");
    // Two writes; whether they arrive in one read or two is TCP's business.
    assert_eq!(c.read_exact(27), b"HELLO FROM THE CLIENT!\nQUIT");
    c.end();
    c.expect_eof();
    server.wait_log("read 23 · wrote 50");
}

#[test]
fn json_answers_each_message_and_survives_invalid_json() {
    let server = Server::start("json", &[]);
    let mut c = server.connect();
    let reply: serde_json::Value =
        serde_json::from_str(&c.ask(r#"{"message":"Hello, server!"}"#)).unwrap();
    assert_eq!(reply["type"], "reply");
    assert_eq!(reply["seq"], 1);
    assert_eq!(reply["received"]["message"], "Hello, server!");
    assert_eq!(reply["bytes"], 28);

    let error: serde_json::Value = serde_json::from_str(&c.ask("this is not json")).unwrap();
    assert_eq!(error["type"], "error");
    assert!(
        error["error"].as_str().unwrap().starts_with("invalid JSON"),
        "{error}"
    );

    // Without a newline, as JSON.stringify(...) is written by a Node client.
    c.send(r#"{"n":2}[3]"#);
    let a: serde_json::Value = serde_json::from_str(&c.line()).unwrap();
    let b: serde_json::Value = serde_json::from_str(&c.line()).unwrap();
    assert_eq!(
        (a["seq"].clone(), a["received"]["n"].clone()),
        (2.into(), 2.into())
    );
    assert_eq!(b["received"], serde_json::json!([3]));
    server.wait_log("message 3 (3 bytes) answered");
    server.wait_log("error reply: invalid JSON");
}

#[test]
fn chat_broadcasts_to_the_others_in_the_same_channel() {
    let server = Server::start("chat", &[]);
    let mut a = server.connect();
    assert!(a
        .line()
        .starts_with("* welcome, guest1: you are in #general (1 here)"));
    let mut b = server.connect();
    assert!(b
        .line()
        .starts_with("* welcome, guest2: you are in #general (2 here)"));
    assert_eq!(a.line(), "* guest2 joined #general");
    let mut c = server.connect();
    assert!(c.line().starts_with("* welcome, guest3"));
    assert_eq!(a.line(), "* guest3 joined #general");
    assert_eq!(b.line(), "* guest3 joined #general");

    assert_eq!(a.ask("/nick alice"), "* you are now alice");
    assert_eq!(b.line(), "* guest1 is now alice");
    assert_eq!(c.line(), "* guest1 is now alice");
    assert_eq!(b.ask("/nick Alice"), "ERR nick Alice is taken");
    assert_eq!(b.ask("/nick bob"), "* you are now bob");
    assert_eq!(a.line(), "* guest2 is now bob");
    assert_eq!(c.line(), "* guest2 is now bob");

    a.send("hello everyone\n");
    assert_eq!(b.line(), "alice: hello everyone");
    assert_eq!(c.line(), "alice: hello everyone");

    assert_eq!(
        c.ask("/join #rust"),
        "* you left #general and joined #rust (1 here)"
    );
    assert_eq!(a.line(), "* guest3 left #general");
    assert_eq!(b.line(), "* guest3 left #general");
    assert_eq!(a.ask("/who"), "* in #general (2): alice, bob");
    assert_eq!(c.ask("/who"), "* in #rust (1): guest3");

    // Channels are separate: c hears nothing of #general, a nothing of #rust.
    b.send("only general\n");
    assert_eq!(a.line(), "bob: only general");
    c.send("only rust\n");
    server.wait_log("guest3: message to 0 in #rust");
    assert_eq!(
        b.ask("/join rust"),
        "* you left #general and joined #rust (2 here)"
    );
    assert_eq!(a.line(), "* bob left #general");
    assert_eq!(c.line(), "* bob joined #rust");
    b.send("hi rust\n");
    assert_eq!(c.line(), "bob: hi rust");
    assert_eq!(a.ask("/who"), "* in #general (1): alice");

    assert_eq!(c.ask("/quit"), "* bye");
    c.expect_eof();
    assert_eq!(b.line(), "* guest3 left #rust");
    assert!(a.ask("/shout").starts_with("ERR unknown command /shout"));
    server.wait_log("guest1 is now alice");
}

#[test]
fn kv_creates_reads_updates_deletes_lists_and_keeps_it_on_disk() {
    let dir = temp_dir("kv-crud");
    let data = dir.join("store.json");
    let server = Server::start("kv", &["--data", arg(&data)]);
    server.wait_log("store: 0 keys loaded from");
    let mut c = server.connect();
    assert_eq!(c.ask("create greeting hello world"), "OK");
    assert_eq!(
        c.ask("create greeting again"),
        "ERR greeting exists (use update)"
    );
    assert_eq!(c.ask("read greeting"), "OK hello world");
    assert_eq!(c.ask("UPDATE greeting hi there"), "OK");
    assert_eq!(c.ask("read greeting"), "OK hi there");
    assert_eq!(
        c.ask("update nothing x"),
        "ERR no such key: nothing (use create)"
    );
    assert_eq!(c.ask("create lang rust\r"), "OK");
    assert_eq!(c.ask("list"), "  greeting = hi there");
    assert_eq!(c.line(), "  lang = rust");
    assert_eq!(c.line(), "OK 2 keys");
    assert_eq!(c.ask("delete lang"), "OK");
    assert_eq!(c.ask("delete lang"), "ERR no such key: lang");
    assert_eq!(c.ask("read lang"), "ERR no such key: lang");
    assert_eq!(c.ask("create k"), "ERR usage: create KEY VALUE");
    assert!(c.ask("fetch k").starts_with("ERR unknown command 'fetch'"));
    server.wait_log("update greeting -> OK (saved)");

    // On disk, as JSON, after every OK.
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&data).unwrap()).unwrap();
    assert_eq!(on_disk, serde_json::json!({"greeting": "hi there"}));
    drop(c);
    drop(server);

    let server = Server::start("kv", &["--data", arg(&data)]);
    server.wait_log("store: 1 key loaded from");
    let mut c = server.connect();
    assert_eq!(c.ask("read greeting"), "OK hi there");
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn kv_refuses_a_corrupt_data_file_with_one_clear_line() {
    let dir = temp_dir("kv-corrupt");
    let data = dir.join("store.json");
    std::fs::write(&data, "{\"half\": ").unwrap();
    let out = tcplab()
        .args(["serve", "kv", "--port", "0", "--data", arg(&data)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("tcplab: kv store "), "{stderr}");
    assert!(
        stderr.contains("store.json cannot be loaded (fix it or move it away)"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn discard_reads_and_counts_and_never_replies() {
    let server = Server::start("discard", &[]);
    let mut c = server.connect();
    c.send(vec![b'x'; 100_000]);
    c.end();
    c.expect_eof();
    let close = server.wait_log("close ");
    assert!(close.contains("read 100000 · wrote 0"), "{close}");
}

#[test]
fn verbose_logs_a_hex_dump_of_each_read() {
    let server = Server::start("echo", &["-v"]);
    let mut c = server.connect();
    c.send([0x0c, 0x22]);
    assert_eq!(c.read_exact(2), [0x0c, 0x22]);
    server.wait_log("data        2 bytes");
    let dump = server.wait_log("0000  0c 22");
    assert!(dump.trim_end().ends_with(".\""), "{dump}");
}

/// Two `serve kv` on one data file would each overwrite the other's
/// acknowledged writes: the second exits 1, naming the first.
#[test]
fn kv_refuses_a_data_file_another_server_holds() {
    let dir = temp_dir("kv-locked");
    let data = dir.join("store.json");
    let first = Server::start("kv", &["--data", arg(&data)]);
    let out = tcplab()
        .args(["serve", "kv", "--port", "0", "--data", arg(&data)])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("in use by another tcplab serve kv (pid "),
        "{stderr}"
    );
    drop(first);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--data` through a symlink writes the target and leaves the link; a
/// device or a FIFO is refused with one line, exit 2, before anything is read.
#[test]
fn kv_writes_through_a_symlink_and_refuses_what_is_not_a_file() {
    let dir = temp_dir("kv-symlink");
    let link = dir.join("store.json");
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    let server = Server::start("kv", &["--data", arg(&link)]);
    let mut c = server.connect();
    assert_eq!(c.ask("create a 1"), "OK");
    drop(c);
    drop(server);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(dir.join("real.json"))
        .unwrap()
        .contains("\"a\""));
    for path in ["/dev/zero", "/dev/null"] {
        let out = tcplab()
            .args(["serve", "kv", "--port", "0", "--data", path])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{path}: {stderr}");
        assert!(stderr.contains("not a regular file"), "{path}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Client-chosen strings (a key, an unknown command word) reach the log
/// escaped: `create \x1b]0;pwned\x07\x1b[2J v` once set the operator's
/// terminal title and cleared the screen.
#[test]
fn the_log_escapes_what_clients_chose() {
    let dir = temp_dir("kv-escape");
    let data = dir.join("store.json");
    let server = Server::start("kv", &["--data", arg(&data)]);
    let mut c = server.connect();
    assert_eq!(c.ask("create \x1b]0;pwned\x07\x1b[2J v"), "OK");
    let _ = c.ask("\x08\x7fdrop\0 k");
    let line = server.wait_log("pwned");
    assert!(line.contains("\\x1b]0;pwned\\x07\\x1b[2J"), "{line}");
    server.wait_log("drop");
    let log = server.log.text();
    assert!(!log.contains('\x1b') && !log.contains('\x07'), "{log:?}");
    assert!(!log.contains('\x08') && !log.contains('\0'), "{log:?}");
    drop(c);
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// chat and kv relay one client's bytes to another byte for byte (the
/// lesson: nothing between two programs cleans what they send), so an
/// escape sequence reaches the other terminal; `--safe` spells it out
/// instead, and the other modes refuse the flag they would ignore.
#[test]
fn safe_spells_out_what_one_client_relays_to_another() {
    let attack = "\x1b]0;pwned\x07\x1b[2J a\\b";
    for (safe, shown) in [
        (false, attack.to_string()),
        (true, "\\x1b]0;pwned\\x07\\x1b[2J a\\\\b".to_string()),
    ] {
        let args: &[&str] = if safe { &["--safe"] } else { &[] };
        let server = Server::start("chat", args);
        let mut a = server.connect();
        a.line();
        let mut b = server.connect();
        b.line();
        assert_eq!(a.line(), "* guest2 joined #general");
        a.send(format!("{attack}\n"));
        assert_eq!(b.line(), format!("guest1: {shown}"), "chat, --safe {safe}");

        let dir = temp_dir(if safe { "kv-safe" } else { "kv-raw" });
        let data = dir.join("store.json");
        let mut kv_args = vec!["--data", arg(&data)];
        kv_args.extend_from_slice(args);
        let server = Server::start("kv", &kv_args);
        let mut writer = server.connect();
        assert_eq!(writer.ask(&format!("create k\x07 {attack}")), "OK");
        let mut reader = server.connect();
        assert_eq!(
            reader.ask("read k\x07"),
            format!("OK {shown}"),
            "kv read, --safe {safe}"
        );
        let key = if safe { "k\\x07" } else { "k\x07" };
        assert_eq!(reader.ask("list"), format!("  {key} = {shown}"), "kv list");
        assert_eq!(reader.line(), "OK 1 key");
        drop((writer, reader, server));
        std::fs::remove_dir_all(&dir).unwrap();
    }
    for mode in ["echo", "upper", "greet", "json", "discard"] {
        let out = tcplab().args(["serve", mode, "--safe"]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{mode}: {err}");
        assert!(err.contains("--safe applies to chat and kv"), "{err}");
    }
}
