//! Pure functions from bytes to typed views: link, IP and TCP headers, TCP
//! options and flags, and the byte ranges of each layer.
//!
//! Parsing is done by etherparse's lax slicer: a frame cut by the snaplen
//! still yields the headers that fit, and the first layer that broke is kept
//! as a [`DecodeError`] saying layer, offset and rule. [`decode`] checks
//! lengths once; after it returns no accessor of [`Sliced`] can panic.
//! No time, no I/O, no flows here.

mod ace;
mod common;
pub mod encap;
mod error;
pub mod fields;
mod fragment;
pub(crate) mod link;
mod sliced;
mod tcp;

pub use ace::{ae_bit, Ace};
pub use common::{decode_common, Common};
pub use encap::{Kind, Outer, Stack};
pub use error::{DecodeError, Layer};
pub use fields::{explain, ChecksumStatus, Field, FlowContext};
pub use fragment::{fragment_of, FragmentOf};
pub use sliced::{decode, decode_frame, IpInfo, Layout, Sliced};
pub use tcp::{option_spans, walk_options, Flags, Tcp, TcpOptions};
