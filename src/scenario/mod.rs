//! Scenarios script the lab's sockets and the pipeline together: traffic
//! made on purpose, captured whole, and the report it fills in.
//!
//! - [`session`]: capture around any work until every stream is closed;
//! - [`trace`]: the one traced exchange behind `tcplab trace`;
//! - [`impaired`]: the same exchange through a path that loses, delays and
//!   reorders on purpose;
//! - [`program`]: `trace -- CMD`, a program's own connections;
//! - [`kernel`]: the kernel's view of a connection's sockets (TCP_INFO);
//! - [`lab`]: the classroom labs, each with its narrative and checks.

pub mod impaired;
pub mod kernel;
pub mod lab;
pub mod program;
pub mod session;
pub mod trace;
