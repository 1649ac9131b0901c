//! Accurate ECN (RFC 9768) through the real binary: after a handshake that
//! negotiated it, ECE, CWR and AE are the ACE counter, and the text view
//! and `--explain` say so, as Wireshark does; after a classic ECN
//! handshake (RFC 3168) they stay flags. captures/accecn.pcap holds both
//! (scripts/make-accecn-capture.py): stream 0 AccECN, frames 1-10;
//! stream 1 classic ECN, frames 11-20.

mod common;

use common::*;

fn replay(args: &[&str]) -> String {
    let out = tcplab()
        .arg("replay")
        .arg(committed_capture("accecn.pcap"))
        .args(args)
        .env("COLUMNS", "160")
        .env("NO_COLOR", "1")
        .output()
        .expect("run tcplab");
    assert_success(&out);
    String::from_utf8(out.stdout).unwrap()
}

/// The row of frame `n` in the text view.
fn row(text: &str, n: u32) -> String {
    let lead = format!("{n:>6} ");
    text.lines()
        .find(|l| l.starts_with(&lead))
        .unwrap_or_else(|| panic!("no row {n} in\n{text}"))
        .to_string()
}

#[test]
fn the_text_view_shows_the_counter_only_after_an_accecn_handshake() {
    let text = replay(&[]);
    // The handshake's own bits are the negotiation, said as flags.
    assert!(row(&text, 1).contains(" SYN-ECE-CWR-AE seq 0"), "{text}");
    assert!(row(&text, 2).contains(" SYN-ACK-CWR seq 0"), "{text}");
    for (n, said) in [
        (3, " ACK ACE=2 "),
        (4, " PSH-ACK ACE=5 "),
        (7, " ACK ACE=6 "),
    ] {
        assert!(
            row(&text, n).contains(said),
            "frame {n}: {said:?} in\n{text}"
        );
    }
    // Classic ECN: the same bits are ECN-Echo and CWR, and no counter.
    assert!(row(&text, 11).contains(" SYN-ECE-CWR seq 0"), "{text}");
    assert!(row(&text, 17).contains(" ACK-ECE seq 6"), "{text}");
    assert!(row(&text, 19).contains(" FIN-ACK-CWR seq 6"), "{text}");
    assert_eq!(text.matches("ACE=").count(), 8, "{text}");
}

#[test]
fn explain_names_the_ace_counter_only_after_an_accecn_handshake() {
    let counted = "ACE counter 6 (AccECN: ECE, CWR and AE count CE-marked packets)";
    let seven = replay(&["--frame", "7", "--explain"]);
    assert!(
        seven.contains("#7 · client → server · 66 bytes · ACK ACE=6"),
        "{seven}"
    );
    assert!(
        seven.contains(&format!(
            "46-47  81 90                flags 0x190: ACK · {counted}"
        )),
        "{seven}"
    );
    // The SYN that asked for AccECN is not counted on.
    let syn = replay(&["--frame", "1", "--explain"]);
    assert!(syn.contains("flags 0x1c2: SYN ECE CWR AE"), "{syn}");
    assert!(!syn.contains("ACE counter"), "{syn}");
    let classic = replay(&["--frame", "17", "--explain"]);
    assert!(classic.contains("flags 0x050: ACK ECE"), "{classic}");
    assert!(!classic.contains("ACE"), "{classic}");
}

/// JSON keeps `flags` as the bits' names (SPEC's contract: AE has no name
/// there); the fields carry Wireshark's `tcp.flags.ace` in place of the
/// three flags, and its flag picture.
#[test]
fn json_fields_hold_tcp_flags_ace_and_flags_stay_the_bits() {
    let json = replay(&["--frame", "7", "--explain", "--format", "ndjson"]);
    let record: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(record["flags"], serde_json::json!(["ACK", "CWR"]));
    let fields = record["fields"].as_array().unwrap();
    let field = |name: &str| fields.iter().find(|f| f["abbrev"] == name).cloned();
    let ace = field("tcp.flags.ace").expect("tcp.flags.ace");
    assert_eq!(
        (ace["offset"].as_u64(), ace["len"].as_u64()),
        (Some(46), Some(2))
    );
    assert_eq!(ace["value"], "6");
    assert!(field("tcp.flags.cwr").is_none() && field("tcp.flags.ae").is_none());
    assert_eq!(field("tcp.flags.str").unwrap()["value"], "···-6-·A····");
}
