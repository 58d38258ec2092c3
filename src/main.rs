//! The `icts-review` command: parses the command line and hands over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    icts_review::cli::main()
}
