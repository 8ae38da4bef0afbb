//! Targets and fixtures driven by commands (`docs/target-contract.md`), each run through
//! `sh -c`:
//!
//! - `--target-cmd`: started once per run with `MINTCHECK_ADDR=127.0.0.1:0`; it prints
//!   `{"mintcheck":"ready","base_url":"http://127.0.0.1:PORT"}` on stdout within 10 s (other
//!   lines before it are kept for the error message and otherwise ignored); it is stopped
//!   at the end of the run, or when its [`TargetProcess`] is dropped.
//! - `--fixture-cmd`: run once per scenario with the fixture document (JSON) on stdin and
//!   `MINTCHECK_BASE_URL` set; exit 0 = applied, exit 89 = unsupported (stdout: what, one per
//!   line), anything else = a fault.
//!
//! Both run in their own process group, so stopping one also stops what it started
//! (`sh -c 'cd app && ./serve'` leaves a `serve` behind otherwise). When the fixture names a
//! CA (`--issuer-tls`), fixture commands get it as a file in each of [`CA_FILE_VARIABLES`].

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use reference_registry::FixtureDocument;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Child;
use tokio::task::JoinHandle;

use super::TargetError;
use super::process::{Signal, shell, signal_group, stop_child};

/// How long a target command may take to print its ready line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a fixture command may take (it may restart a service).
pub const FIXTURE_TIMEOUT: Duration = Duration::from_secs(120);
/// The variables a command finds the run's CA file in: mintcheck's own, OpenSSL's and
/// rustls-native-certs', and Python requests'.
pub const CA_FILE_VARIABLES: [&str; 3] =
    ["MINTCHECK_CA_FILE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"];
/// The exit code by which a fixture command says it cannot set up the fixture.
pub const UNSUPPORTED_EXIT: i32 = 89;
/// How much of each output stream is kept for messages (the end of it).
const KEEP_BYTES: usize = 8 * 1024;
/// How long to wait for a signalled process group to go.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How to start a target (`--target-cmd`).
#[derive(Clone, Debug)]
pub struct TargetCommand {
    command: String,
    env: Vec<(String, String)>,
    ready_timeout: Duration,
}

impl TargetCommand {
    pub fn new(command: impl Into<String>) -> Self {
        TargetCommand {
            command: command.into(),
            env: Vec::new(),
            ready_timeout: READY_TIMEOUT,
        }
    }

    /// An environment variable for the command, besides `MINTCHECK_ADDR=127.0.0.1:0`.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// How long to wait for the ready line (default [`READY_TIMEOUT`]).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Starts the command and waits for its ready line. On any problem the process is
    /// stopped and the error names the command and shows what it printed.
    pub async fn start(&self) -> Result<TargetProcess, TargetError> {
        let mut command = shell(&self.command);
        command
            .env("MINTCHECK_ADDR", "127.0.0.1:0")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        let mut child = command
            .spawn()
            .map_err(|e| fault(format!("starting target command `{}`: {e}", self.command)))?;
        let group = child.id();
        let output = Captured::default();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let stderr_task = tokio::spawn(drain(stderr, output.clone(), Stream::Stderr));
        let mut reader = BufReader::new(stdout);
        let waited =
            tokio::time::timeout(self.ready_timeout, read_ready_line(&mut reader, &output)).await;
        let problem = match waited {
            Ok(Ok(base_url)) => {
                let stdout_task = tokio::spawn(drain(reader, output.clone(), Stream::Stdout));
                return Ok(TargetProcess {
                    command: self.command.clone(),
                    child,
                    group,
                    base_url,
                    output,
                    readers: vec![stdout_task, stderr_task],
                    stopped: false,
                });
            }
            Ok(Err(NotReady::Bad(message))) => message,
            Ok(Err(NotReady::Closed)) => {
                match tokio::time::timeout(Duration::from_secs(2), child.wait()).await {
                    Ok(Ok(status)) => {
                        format!("{} before printing its ready line", describe_status(status))
                    }
                    _ => "closed its stdout without printing its ready line".to_owned(),
                }
            }
            Err(_) => format!(
                "printed no ready line within {} s",
                self.ready_timeout.as_secs_f64()
            ),
        };
        stop_child(&mut child, group, Duration::ZERO).await;
        let _ = tokio::time::timeout(Duration::from_secs(1), stderr_task).await;
        Err(fault(format!(
            "target command `{}` {problem} (expected one stdout line like \
             {{\"mintcheck\":\"ready\",\"base_url\":\"http://127.0.0.1:PORT\"}})\n{}",
            self.command,
            output.describe()
        )))
    }
}

enum NotReady {
    /// Stdout ended.
    Closed,
    /// A ready line that cannot be used, or unreadable stdout.
    Bad(String),
}

async fn read_ready_line(
    reader: &mut BufReader<impl AsyncRead + Unpin>,
    output: &Captured,
) -> Result<String, NotReady> {
    loop {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) => return Err(NotReady::Closed),
            Ok(_) => {}
            Err(e) => return Err(NotReady::Bad(format!("could not be read from: {e}"))),
        }
        output.push(Stream::Stdout, &line);
        let text = String::from_utf8_lossy(&line);
        let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text.trim()) else {
            continue;
        };
        if fields.get("mintcheck").and_then(Value::as_str) != Some("ready") {
            continue;
        }
        return match fields.get("base_url").and_then(Value::as_str) {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Ok(url.trim_end_matches('/').to_owned())
            }
            _ => Err(NotReady::Bad(format!(
                "printed a ready line without an http(s) base_url: {}",
                text.trim()
            ))),
        };
    }
}

/// A target started by [`TargetCommand::start`]. [`Self::stop`] ends it; dropping it kills it.
#[derive(Debug)]
pub struct TargetProcess {
    command: String,
    child: Child,
    /// The process group the shell leads (its pid, kept: tokio forgets it once reaped).
    group: Option<u32>,
    base_url: String,
    output: Captured,
    readers: Vec<JoinHandle<()>>,
    stopped: bool,
}

impl TargetProcess {
    /// The `base_url` of its ready line, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn command(&self) -> &str {
        &self.command
    }

    /// `Some(how it ended)` if the process has exited (it should run until stopped).
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(describe_status(status)),
            _ => None,
        }
    }

    /// The end of what it printed since it started, stdout and stderr.
    pub fn output(&self) -> String {
        self.output.describe()
    }

    /// Stops the process group: SIGTERM, then SIGKILL after a grace period.
    pub async fn stop(mut self) {
        stop_child(&mut self.child, self.group, STOP_GRACE).await;
        self.stopped = true;
        for reader in self.readers.drain(..) {
            reader.abort();
        }
    }
}

impl Drop for TargetProcess {
    fn drop(&mut self) {
        if !self.stopped {
            if let Some(group) = self.group {
                signal_group(group, Signal::Kill);
            }
            let _ = self.child.start_kill();
        }
        for reader in &self.readers {
            reader.abort();
        }
    }
}

/// How to apply a fixture with a command (`--fixture-cmd`). Clones share the CA file.
#[derive(Clone, Debug)]
pub struct FixtureCommand {
    command: String,
    env: Vec<(String, String)>,
    timeout: Duration,
    ca_file: Arc<Mutex<Option<CaFile>>>,
}

impl FixtureCommand {
    pub fn new(command: impl Into<String>) -> Self {
        FixtureCommand {
            command: command.into(),
            env: Vec::new(),
            timeout: FIXTURE_TIMEOUT,
            ca_file: Arc::default(),
        }
    }

    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// How long one application may take (default [`FIXTURE_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn command(&self) -> &str {
        &self.command
    }

    /// Runs the command with `document` on stdin.
    pub async fn apply(
        &self,
        document: &FixtureDocument,
        base_url: &str,
    ) -> Result<(), TargetError> {
        let json = serde_json::to_vec(document)
            .map_err(|e| fault(format!("serializing the fixture document: {e}")))?;
        let what = format!("fixture command `{}`", self.command);
        let mut command = shell(&self.command);
        command
            .env("MINTCHECK_BASE_URL", base_url)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped());
        if let Some(pem) = &document.ca_pem {
            let path = self.ca_file_for(pem)?;
            command.envs(CA_FILE_VARIABLES.map(|name| (name, &path)));
        }
        let mut child = command
            .spawn()
            .map_err(|e| fault(format!("starting {what}: {e}")))?;
        let output = Captured::default();
        let readers = [
            tokio::spawn(drain(
                child.stdout.take().expect("stdout is piped"),
                output.clone(),
                Stream::Stdout,
            )),
            tokio::spawn(drain(
                child.stderr.take().expect("stderr is piped"),
                output.clone(),
                Stream::Stderr,
            )),
        ];
        if let Some(mut stdin) = child.stdin.take() {
            // A command that ignores its stdin may exit first: a broken pipe is not an error.
            tokio::spawn(async move {
                let _ = stdin.write_all(&json).await;
                let _ = stdin.shutdown().await;
            });
        }
        // If the run is abandoned (Ctrl-C) while the command runs, end its whole group.
        let group = child.id();
        let guard = GroupGuard(group);
        let status = match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(Ok(status)) => status,
            Ok(Err(e)) => return Err(fault(format!("waiting for {what}: {e}"))),
            Err(_) => {
                stop_child(&mut child, group, Duration::ZERO).await;
                return Err(fault(format!(
                    "{what} did not finish within {} s\n{}",
                    self.timeout.as_secs_f64(),
                    output.describe()
                )));
            }
        };
        // It exited: what it started in the background (a restarted service) stays.
        guard.disarm();
        // Something it started in the background may hold the pipes open: do not wait long.
        for reader in readers {
            let _ = tokio::time::timeout(Duration::from_millis(500), reader).await;
        }
        exit_verdict(status, &output, &what)
    }

    /// A file holding `pem` for the whole run (rewritten only if the PEM changes).
    fn ca_file_for(&self, pem: &str) -> Result<PathBuf, TargetError> {
        let mut slot = lock(&self.ca_file);
        if let Some(file) = slot.as_ref().filter(|f| f.pem == pem) {
            return Ok(file.path.clone());
        }
        let file = CaFile::write(pem).map_err(|e| {
            fault(format!(
                "writing the CA certificate to a temporary file: {e}"
            ))
        })?;
        let path = file.path.clone();
        *slot = Some(file);
        Ok(path)
    }
}

/// Kills a process group when dropped, unless disarmed.
struct GroupGuard(Option<u32>);

impl GroupGuard {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            signal_group(pid, Signal::Kill);
        }
    }
}

/// A temporary PEM file, removed on drop.
#[derive(Debug)]
struct CaFile {
    pem: String,
    path: PathBuf,
}

impl CaFile {
    fn write(pem: &str) -> std::io::Result<CaFile> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "mintcheck-ca-{}-{}.pem",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        std::io::Write::write_all(&mut file, pem.as_bytes())?;
        Ok(CaFile {
            pem: pem.to_owned(),
            path,
        })
    }

    #[cfg(test)]
    fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for CaFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn describe_status(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => format!("was ended by a signal ({status})"),
    }
}

fn fault(message: String) -> TargetError {
    TargetError::Fault(message)
}

#[derive(Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

/// The ends of a process's stdout and stderr.
#[derive(Clone, Debug, Default)]
struct Captured(Arc<Mutex<[Tail; 2]>>);

#[derive(Debug, Default)]
struct Tail {
    bytes: Vec<u8>,
    dropped: usize,
}

impl Captured {
    fn push(&self, stream: Stream, bytes: &[u8]) {
        let mut tails = lock(&self.0);
        let tail = &mut tails[stream as usize];
        tail.bytes.extend_from_slice(bytes);
        if tail.bytes.len() > KEEP_BYTES {
            let excess = tail.bytes.len() - KEEP_BYTES;
            tail.bytes.drain(..excess);
            tail.dropped += excess;
        }
    }

    fn text(&self, stream: Stream) -> String {
        String::from_utf8_lossy(&lock(&self.0)[stream as usize].bytes).into_owned()
    }

    /// `stdout: ...` and `stderr: ...`, indented, for error messages.
    fn describe(&self) -> String {
        let tails = lock(&self.0);
        let mut text = String::new();
        for (name, tail) in [("stdout", &tails[0]), ("stderr", &tails[1])] {
            let body = String::from_utf8_lossy(&tail.bytes);
            let body = body.trim_end();
            if body.is_empty() {
                let _ = writeln!(text, "  its {name}: (nothing)");
                continue;
            }
            let _ = write!(text, "  its {name}:");
            if tail.dropped > 0 {
                let _ = write!(text, " (last {} bytes)", tail.bytes.len());
            }
            text.push('\n');
            for line in body.lines() {
                let _ = writeln!(text, "    {line}");
            }
        }
        text.trim_end().to_owned()
    }
}

async fn drain(mut reader: impl AsyncRead + Unpin, sink: Captured, stream: Stream) {
    let mut buffer = [0u8; 4096];
    while let Ok(read) = reader.read(&mut buffer).await {
        if read == 0 {
            break;
        }
        sink.push(stream, &buffer[..read]);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a fixture command's exit says: applied (0), unsupported (89, with the reasons it
/// printed, one per line), else a fault showing its output.
fn exit_verdict(
    status: std::process::ExitStatus,
    output: &Captured,
    what: &str,
) -> Result<(), TargetError> {
    match status.code() {
        Some(0) => Ok(()),
        Some(UNSUPPORTED_EXIT) => {
            let stdout = output.text(Stream::Stdout);
            let mut reasons: Vec<String> = stdout
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect();
            if reasons.is_empty() {
                reasons.push(format!(
                    "(exit {UNSUPPORTED_EXIT} from {what}, no reason given)"
                ));
            }
            Err(TargetError::Unsupported(reasons))
        }
        _ => Err(fault(format!(
            "{what} {}\n{}",
            describe_status(status),
            output.describe()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_output_keeps_the_end() {
        let captured = Captured::default();
        captured.push(Stream::Stdout, &vec![b'a'; KEEP_BYTES]);
        captured.push(Stream::Stdout, b"\nlast line\n");
        captured.push(Stream::Stderr, b"boom\n");
        let text = captured.describe();
        assert!(
            text.contains(&format!("its stdout: (last {KEEP_BYTES} bytes)")),
            "{text}"
        );
        assert!(text.ends_with("its stderr:\n    boom"), "{text}");
        assert!(text.contains("    last line"), "{text}");
        assert_eq!(
            Captured::default().describe(),
            "  its stdout: (nothing)\n  its stderr: (nothing)"
        );
    }

    #[test]
    fn ca_files_are_removed_on_drop() {
        let file = CaFile::write("PEM").unwrap();
        let path = file.path().to_owned();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "PEM");
        drop(file);
        assert!(!path.exists());
    }
}
