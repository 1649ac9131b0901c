//! The view flags `trace`, `replay` and `capture` share (`--hexdump`,
//! `--raw-seq`, `--max-hex`), declared once and flattened into each, and
//! the one place their [`TextOptions`] are built.

use super::output::{resolve_color, terminal_width, ColorChoice};
use crate::render::{DumpBudget, Folding, HexdumpMode, Palette, TextOptions};

/// `--hexdump`: the command line's side of [`HexdumpMode`] (the render
/// type knows nothing of clap); the docs are the ones `--help` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HexdumpArg {
    /// Each TCP payload.
    Payload,
    /// Every whole frame, each layer in its colour.
    Frame,
    /// No hex dumps.
    None,
}

impl From<HexdumpArg> for HexdumpMode {
    fn from(arg: HexdumpArg) -> Self {
        match arg {
            HexdumpArg::Payload => HexdumpMode::Payload,
            HexdumpArg::Frame => HexdumpMode::Frame,
            HexdumpArg::None => HexdumpMode::None,
        }
    }
}

/// How packets are shown: the flags every packet view shares. The default
/// `--hexdump` is `none`; `trace` makes it `payload` (see `TraceArgs`).
#[derive(Debug, Clone, clap::Args)]
pub struct ViewArgs {
    /// Hex dumps of each payload, of whole frames, or none.
    #[arg(long, value_enum, default_value_t = HexdumpArg::None)]
    pub hexdump: HexdumpArg,

    /// Show raw sequence and acknowledgment numbers beside the relative ones.
    #[arg(long)]
    pub raw_seq: bool,

    /// Cut hex dumps (and JSON payload_hex) after this many bytes.
    #[arg(long, default_value_t = 4096, value_name = "BYTES")]
    pub max_hex: usize,

    /// Every header field of each frame: its bytes, its value and what it
    /// means, then the frame's bytes marked field by field (JSON: `fields`).
    #[arg(long)]
    pub explain: bool,
}

/// The validated view: what to dump, raw numbers or not, where to cut.
/// (`--max-hex 0` is allowed: dumps show only the "… N more bytes" line
/// and `payload_hex` is empty, the sizes without the bytes.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    pub hexdump: HexdumpMode,
    pub raw_seq: bool,
    pub max_hex: usize,
    pub explain: bool,
}

impl From<&ViewArgs> for View {
    fn from(args: &ViewArgs) -> Self {
        View {
            hexdump: args.hexdump.into(),
            raw_seq: args.raw_seq,
            max_hex: args.max_hex,
            explain: args.explain,
        }
    }
}

/// The text options of `view` with colour as `color` resolves and the
/// terminal's width, or `default_width` when none is known (output to a
/// file or a pipe): `usize::MAX` never wraps rows (as tcpdump's), tables
/// need a number (a classic terminal's 100).
pub fn text_options(view: &View, color: ColorChoice, default_width: usize) -> TextOptions {
    TextOptions {
        palette: Palette {
            enabled: resolve_color(color),
        },
        width: terminal_width().unwrap_or(default_width),
        hexdump: view.hexdump,
        raw_seq: view.raw_seq,
        max_hex: view.max_hex,
        explain: view.explain,
        fold: Folding::Long,
        dump_budget: DumpBudget::Every,
        kernel_changes: false,
    }
}
