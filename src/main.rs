//! The `icts-review` command: parses the command line and hands over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    return_large_allocations();
    icts_review::cli::main()
}

/// Every allocation of 1 MiB or more is mapped on its own and returned to the system when
/// it is freed. glibc's default threshold rises with each large block freed, after which
/// such blocks come from the thread's heap and stay resident: each argon2 hash (19 MiB,
/// on the hashing threads) then left up to twice that behind per thread, and the service's
/// memory grew with every sign-in and step-up until each arena had kept its share.
fn return_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
