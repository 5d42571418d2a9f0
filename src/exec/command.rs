//! Running a stage command: its stdout and stderr stream to the terminal and into
//! the run's log; Ctrl-C (SIGINT, SIGTERM, SIGHUP) is passed to the command and the
//! caller is told, so it can record nothing.

use crate::error::{Error, Result};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

/// Where to send signals: the child's pid, or its process group as a negative pid.
static CHILD_PID: AtomicI32 = AtomicI32::new(0);
static CHILD_DONE: AtomicBool = AtomicBool::new(true);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static HANDLER: Once = Once::new();

/// What to run.
pub enum Program {
    /// A command line run through `sh -c`.
    Shell(String),
    /// An argument vector run directly.
    Argv(Vec<String>),
}

pub struct Invocation<'a> {
    pub program: Program,
    pub cwd: &'a Path,
    pub env: Vec<(String, String)>,
    /// Send the command's stdout to our stderr (keeps `--json` stdout clean).
    pub stdout_to_stderr: bool,
    pub log_file: PathBuf,
}

/// How the command ended.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code, 128+signal when killed by a signal, 127 when not found.
    pub exit_code: i32,
    pub interrupted: bool,
    pub duration: Duration,
}

fn install_handler() {
    HANDLER.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            INTERRUPTED.store(true, Ordering::SeqCst);
            let pid = CHILD_PID.load(Ordering::SeqCst);
            if pid == 0 || CHILD_DONE.load(Ordering::SeqCst) {
                return;
            }
            send(pid, libc::SIGINT);
            // Escalate if the command ignores the interrupt.
            std::thread::spawn(move || {
                for (wait, sig) in [(3, libc::SIGTERM), (5, libc::SIGKILL)] {
                    std::thread::sleep(Duration::from_secs(wait));
                    if CHILD_DONE.load(Ordering::SeqCst) {
                        return;
                    }
                    send(pid, sig);
                }
            });
        });
    });
}

fn send(pid: i32, sig: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Runs the command to completion, teeing its output into `log_file`.
pub fn run(inv: Invocation) -> Result<Outcome> {
    install_handler();
    let log = std::fs::File::create(&inv.log_file).map_err(Error::io(&inv.log_file))?;
    let log = Arc::new(Mutex::new(log));
    let mut cmd = match &inv.program {
        Program::Shell(line) => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(line);
            c
        }
        Program::Argv(argv) => {
            let mut c = Command::new(&argv[0]);
            c.args(&argv[1..]);
            c
        }
    };
    // Without a terminal nobody else signals the command's own children, so it gets a
    // process group of its own and interrupts go to the whole group. With a terminal
    // it stays in the foreground group, where Ctrl-C already reaches every process
    // and reading the terminal keeps working.
    let own_group = !std::io::stdin().is_terminal();
    #[cfg(unix)]
    if own_group {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    cmd.current_dir(inv.cwd)
        .envs(inv.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let (code, what) = match e.kind() {
                std::io::ErrorKind::NotFound => (127, "command not found"),
                std::io::ErrorKind::PermissionDenied => (126, "permission denied"),
                _ => (126, "cannot start command"),
            };
            let name = match &inv.program {
                Program::Shell(_) => "sh".to_string(),
                Program::Argv(a) => a[0].clone(),
            };
            let msg = format!("git-workbench: {name}: {what}: {e}\n");
            let _ = std::io::stderr().write_all(msg.as_bytes());
            let _ = log.lock().expect("log lock").write_all(msg.as_bytes());
            return Ok(Outcome {
                exit_code: code,
                interrupted: false,
                duration: started.elapsed(),
            });
        }
    };
    CHILD_DONE.store(false, Ordering::SeqCst);
    let pid = child.id() as i32;
    CHILD_PID.store(if own_group { -pid } else { pid }, Ordering::SeqCst);
    if INTERRUPTED.load(Ordering::SeqCst) {
        // Interrupted while the command was being started: stop it now.
        send(CHILD_PID.load(Ordering::SeqCst), libc::SIGINT);
    }
    let out = child.stdout.take().expect("piped stdout");
    let err = child.stderr.take().expect("piped stderr");
    let to_stderr = inv.stdout_to_stderr;
    let log_out = Arc::clone(&log);
    let t_out = std::thread::spawn(move || {
        if to_stderr {
            tee(out, std::io::stderr(), &log_out)
        } else {
            tee(out, std::io::stdout(), &log_out)
        }
    });
    let log_err = Arc::clone(&log);
    let t_err = std::thread::spawn(move || tee(err, std::io::stderr(), &log_err));
    let status = child.wait();
    CHILD_DONE.store(true, Ordering::SeqCst);
    CHILD_PID.store(0, Ordering::SeqCst);
    let _ = t_out.join();
    let _ = t_err.join();
    let duration = started.elapsed();
    let status = status.map_err(Error::io(inv.cwd))?;
    let exit_code = exit_code_of(&status);
    Ok(Outcome {
        exit_code,
        interrupted: INTERRUPTED.load(Ordering::SeqCst),
        duration,
    })
}

fn exit_code_of(status: &std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return 128 + sig;
        }
    }
    status.code().unwrap_or(1)
}

/// Copies a pipe to a terminal stream and the log. A closed terminal stream (broken
/// pipe) stops the echo but never the log.
fn tee(mut from: impl Read, mut to: impl Write, log: &Mutex<std::fs::File>) {
    let mut buf = [0u8; 16 * 1024];
    let mut echo = true;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if echo && (to.write_all(&buf[..n]).is_err() || to.flush().is_err()) {
            echo = false;
        }
        let _ = log.lock().expect("log lock").write_all(&buf[..n]);
    }
}
