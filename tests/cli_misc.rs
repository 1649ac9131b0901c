//! Completions and the man page come from the CLI definition.

mod common;

use common::*;

#[test]
fn completions_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let out = tcplab().args(["completions", shell]).output().unwrap();
        assert_success(&out);
        let text = String::from_utf8(out.stdout).unwrap();
        for sub in ["trace", "replay", "capture", "serve", "send"] {
            assert!(text.contains(sub), "{shell} completion lacks {sub}");
        }
    }
}

#[test]
fn man_page_is_roff() {
    let out = tcplab().arg("man").output().unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(".TH tcplab 1"), "{text}");
    assert!(text.contains(".SH NAME"));
}
