//! Real loopback traffic made with tokio: a lesson server and a client that
//! run one exchange, and the socket-level view (bytes read and written, the
//! events the application saw, named as Node's `net` names them).
//!
//! `kernel` reads the TCP settings the labs size their traffic by.
//!
//! Functions take an already bound listener and a clock, so callers decide
//! ports and tests can drive them; nothing here decodes or prints.

pub mod client;
mod exchange;
pub mod kernel;
pub mod logged;
pub mod serve;

pub use exchange::{
    bind_listener, run_exchange, run_exchange_from, run_exchange_with, ClientWay, CloseMode,
    Exchange, ExchangePlan,
};
pub use serve::{frame, ServeMode, FRAME_HEADER};
