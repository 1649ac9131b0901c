//! The `tcplab` binary: everything is in the library; see `tcplab::cmd::main`.

fn main() {
    std::process::exit(tcplab::cmd::main(std::env::args_os()));
}
