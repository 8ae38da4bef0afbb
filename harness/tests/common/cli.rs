//! Running the `mintcheck` binary as a user does, and reading what it printed.

use std::process::Output;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mintcheck")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn show(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}
