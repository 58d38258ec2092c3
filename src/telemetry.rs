//! Structured logs through `tracing`: human-readable text or one JSON object per line.
//! Every line logged while a request runs carries that request's id (from its span).
//!
//! Lines go to stderr through a writer thread with a bounded queue: a request never waits
//! for the log. When stderr cannot take them (a full disk, a stuck pipe) and the queue is
//! full, lines are dropped and counted ([`dropped_lines`], shown on `/readyz`); logging
//! resumes by itself when stderr can be written again.

use std::os::fd::AsFd;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Lines the writer holds before it drops new ones.
const QUEUE_LINES: usize = 16_384;

static DROPPED: OnceLock<ErrorCounter> = OnceLock::new();
/// Lines stderr refused (ENOSPC, EPIPE, EIO...): dropped too.
static FAILED: AtomicUsize = AtomicUsize::new(0);
/// Whether the last write to stderr failed.
static FAILING: AtomicBool = AtomicBool::new(false);

/// stderr for the writer thread: a line it refuses is dropped and counted, and the next
/// line is tried again, so logging resumes by itself when space returns.
struct Stderr;

impl std::io::Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match std::io::stderr().write_all(buf) {
            Ok(()) => FAILING.store(false, Ordering::Relaxed),
            Err(_) => {
                FAILED.fetch_add(1, Ordering::Relaxed);
                FAILING.store(true, Ordering::Relaxed);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// Installs the global subscriber. Calling it twice is harmless (the second call is
/// ignored). Keep the returned guard until the process ends: dropping it flushes the queue.
pub fn init(format: LogFormat, filter: &str) -> Option<WorkerGuard> {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = NonBlockingBuilder::default().lossy(true).buffered_lines_limit(QUEUE_LINES).finish(Stderr);
    let counter = writer.error_counter();
    // Colours only for a person at a terminal, never into a file or a collector.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(writer);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).flatten_event(true).try_init(),
    };
    match installed {
        Ok(()) => {
            let _ = DROPPED.set(counter);
            Some(guard)
        }
        Err(_) => None,
    }
}

/// Log lines dropped because stderr could not take them (the queue was full, or stderr
/// refused the write).
pub fn dropped_lines() -> usize {
    DROPPED.get().map(|c| c.dropped_lines()).unwrap_or(0) + FAILED.load(Ordering::Relaxed)
}

/// Where the log goes and how much room is left there.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogTarget {
    /// `file` when stderr is a regular file, else `stream` (a pipe, a terminal, journald).
    pub kind: &'static str,
    /// Bytes free for an unprivileged writer on the file's file system (files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_bytes: Option<u64>,
    /// Lines dropped so far.
    pub dropped_lines: usize,
    /// Whether the last line could not be written (a full disk, a closed stream).
    pub failing: bool,
}

/// Looks at stderr: a file on a file system with room, or a stream.
pub fn log_target() -> LogTarget {
    let stderr = std::io::stderr();
    let fd = stderr.as_fd();
    let is_file = nix::sys::stat::fstat(fd)
        .map(|st| {
            nix::sys::stat::SFlag::from_bits_truncate(st.st_mode) & nix::sys::stat::SFlag::S_IFMT
                == nix::sys::stat::SFlag::S_IFREG
        })
        .unwrap_or(false);
    let free_bytes = if is_file {
        nix::sys::statvfs::fstatvfs(fd).ok().map(|v| v.blocks_available() * v.fragment_size())
    } else {
        None
    };
    LogTarget {
        kind: if is_file { "file" } else { "stream" },
        free_bytes,
        dropped_lines: dropped_lines(),
        failing: FAILING.load(Ordering::Relaxed),
    }
}

/// Bytes free for an unprivileged writer on the file system holding `path`.
pub fn free_bytes(path: &std::path::Path) -> Option<u64> {
    nix::sys::statvfs::statvfs(path).ok().map(|v| v.blocks_available() * v.fragment_size())
}
