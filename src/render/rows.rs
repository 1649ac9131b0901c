//! The streaming timeline of `replay` (and live `capture`): one line per
//! frame, written as it comes, wrapped to the terminal; TCP analysis
//! explained in words in the row.

use std::io::{self, Write};

use super::text::{prose, TextOptions};
use super::{preview, PacketRecord, Paint};
use crate::capture::Timestamp;
use crate::decode::Flags;
use crate::flow::{Analysis, Findings};

/// Writes timeline rows one frame at a time.
pub struct RowWriter {
    opts: TextOptions,
    first_ts: Option<Timestamp>,
}

impl RowWriter {
    pub fn new(opts: TextOptions) -> Self {
        Self {
            opts,
            first_ts: None,
        }
    }

    /// The options rows are written with.
    pub fn options(&self) -> &TextOptions {
        &self.opts
    }

    /// One row: number, seconds since the first frame, stream, endpoints,
    /// flags, numbers, and what is notable about the segment.
    pub fn row(
        &mut self,
        w: &mut dyn Write,
        ts: Timestamp,
        r: &PacketRecord,
        flags: Option<Flags>,
        findings: &Findings,
        payload: &[u8],
    ) -> io::Result<()> {
        let pal = self.opts.palette;
        let t0 = *self.first_ts.get_or_insert(ts);
        let secs = ts.secs_since(t0);
        let lead = format!("{:>6} {secs:>10.6} ", r.frame);
        let Some(flags) = flags else {
            let why = r.error.as_deref().or(r.note.as_deref()).unwrap_or("");
            let paint = if r.error.is_some() {
                Paint::Bad
            } else {
                Paint::Dim
            };
            let text = format!("{} bytes · {}", r.frame_len, pal.paint(paint, why));
            return prose(w, &lead, &text, &self.opts);
        };
        let mut text = format!(
            "s{} {}:{} → {}:{} {} seq {}",
            r.stream.unwrap_or(0),
            r.src.as_deref().unwrap_or("?"),
            r.sport.unwrap_or(0),
            r.dst.as_deref().unwrap_or("?"),
            r.dport.unwrap_or(0),
            pal.paint(flag_paint(flags), &flags.spoken()),
            r.seq.unwrap_or(0),
        );
        if flags.contains(Flags::ACK) {
            text.push_str(&format!(" ack {}", r.ack.unwrap_or(0)));
        }
        if self.opts.raw_seq {
            text.push_str(&format!(
                " (raw {}/{})",
                r.seq_raw.unwrap_or(0),
                r.ack_raw.unwrap_or(0)
            ));
        }
        text.push_str(&format!(
            " win {} len {}",
            r.window.unwrap_or(0),
            r.payload_len.unwrap_or(0)
        ));
        if r.payload_len.unwrap_or(0) > 0 {
            text.push(' ');
            text.push_str(&preview(payload, 24));
        }
        if let Some(opts) = r.options.as_ref().filter(|_| flags.contains(Flags::SYN)) {
            let o = super::options_text(opts);
            if !o.is_empty() {
                text.push_str(&format!(" [{o}]"));
            }
        }
        for line in explain(r, findings) {
            text.push_str(" · ");
            text.push_str(&pal.paint(Paint::Warn, &line));
        }
        prose(w, &lead, &text, &self.opts)
    }
}

fn flag_paint(flags: Flags) -> Paint {
    if flags.contains(Flags::RST) {
        Paint::Bad
    } else if flags.contains(Flags::SYN) || flags.contains(Flags::FIN) {
        Paint::Good
    } else {
        Paint::Tcp
    }
}

/// Each analysis flag of a segment in plain words.
pub fn explain(r: &PacketRecord, f: &Findings) -> Vec<String> {
    let a = f.flags;
    let mut out = Vec::new();
    let seq = r.seq.unwrap_or(0);
    let len = r.payload_len.unwrap_or(0) as u32;
    let bytes = if len > 0 {
        format!("bytes {}-{}", seq, seq.wrapping_add(len - 1))
    } else {
        "this segment".to_string()
    };
    let first = |what: &str| match f.original_frame {
        Some(n) => format!("{what}: {bytes} were first sent in frame {n}"),
        None => format!("{what}: {bytes} were sent before"),
    };
    if a.contains(Analysis::FAST_RETRANSMISSION) {
        out.push(first("fast retransmission after duplicate ACKs"));
    } else if a.contains(Analysis::SPURIOUS_RETRANSMISSION) {
        out.push(format!(
            "spurious retransmission: {bytes} had already been acknowledged"
        ));
    } else if a.contains(Analysis::RETRANSMISSION) {
        out.push(first("retransmission"));
    }
    if a.contains(Analysis::OUT_OF_ORDER) {
        out.push(format!("out of order: {bytes} arrived after later bytes"));
    }
    if a.contains(Analysis::LOST_SEGMENT) {
        out.push("previous segment not captured: bytes before this one are missing".into());
    }
    if a.contains(Analysis::ACK_LOST_SEGMENT) {
        out.push("ACKed unseen segment: acknowledges bytes the capture never showed".into());
    }
    if a.contains(Analysis::DUPLICATE_ACK) {
        out.push(format!(
            "duplicate ACK #{} of frame {}: the receiver still waits for byte {}",
            f.dup_ack_num,
            f.dup_ack_frame,
            r.ack.unwrap_or(0)
        ));
    }
    if a.contains(Analysis::ZERO_WINDOW) {
        out.push("zero window: the receiver's buffer is full, the sender must wait".into());
    }
    if a.contains(Analysis::WINDOW_FULL) {
        out.push("window full: this fills all the receiver advertised".into());
    }
    if a.contains(Analysis::WINDOW_UPDATE) {
        out.push("window update: the receiver announces more room".into());
    }
    if a.contains(Analysis::KEEP_ALIVE) {
        out.push("keep-alive: probes whether the peer is still there".into());
    }
    if a.contains(Analysis::KEEP_ALIVE_ACK) {
        out.push("keep-alive ACK: the peer is still there".into());
    }
    out
}
