//! Running a stage command: its stdout and stderr stream to the terminal (or only to
//! the run's log) and into the log; an interrupt (SIGINT, SIGTERM, SIGHUP) is passed to
//! every running command and each caller is told, so it can record nothing.
//!
//! The interrupt state is a value, `Interrupts`: one per process (signal handlers are
//! process-wide), holding the commands that run right now, so several runs on threads
//! (a sweep) each get their own child, output and outcome.

use super::error::{Error, Result};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// A command line run through `sh -c`.
    Shell(String),
    /// An argument vector run directly.
    Argv(Vec<String>),
}

/// Where a command's output goes besides the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// stdout to our stdout, stderr to our stderr.
    Terminal,
    /// Both to our stderr (keeps `--json` stdout clean).
    Stderr,
    /// Only the log (a sweep's combinations, which would interleave).
    LogOnly,
}

pub struct Invocation<'a> {
    pub program: Program,
    pub cwd: &'a Path,
    pub env: Vec<(String, String)>,
    pub echo: Echo,
    /// Give the command no stdin (parallel runs must not fight over the terminal).
    pub no_stdin: bool,
    pub log_file: PathBuf,
}

/// How the command ended.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code, 128+signal when killed by a signal, 127 when not found.
    pub exit_code: i32,
    /// An interrupt arrived while it ran (or before it started).
    pub interrupted: bool,
    pub duration: Duration,
}

/// The interrupt state of the process: whether an interrupt arrived, and the commands
/// running now (pids, or process groups as negative pids) that it is passed to.
#[derive(Clone)]
pub struct Interrupts(Arc<Shared>);

struct Shared {
    fired: AtomicBool,
    children: Mutex<Vec<i32>>,
}

impl Interrupts {
    /// The process's interrupt state, with the handler installed on first use.
    pub fn process() -> Interrupts {
        static PROCESS: OnceLock<Interrupts> = OnceLock::new();
        PROCESS
            .get_or_init(|| {
                let me = Interrupts::detached();
                let handler = me.clone();
                let _ = ctrlc::set_handler(move || handler.fire());
                me
            })
            .clone()
    }

    /// State no signal reaches: `fire` is the only way in (for tests).
    pub fn detached() -> Interrupts {
        Interrupts(Arc::new(Shared {
            fired: AtomicBool::new(false),
            children: Mutex::new(Vec::new()),
        }))
    }

    /// True once an interrupt arrived.
    pub fn fired(&self) -> bool {
        self.0.fired.load(Ordering::SeqCst)
    }

    /// Records an interrupt and passes it to every running command, escalating to
    /// SIGTERM and SIGKILL for commands that ignore it.
    pub fn fire(&self) {
        self.0.fired.store(true, Ordering::SeqCst);
        let running = self.running();
        for pid in &running {
            send(*pid, libc::SIGINT);
        }
        let me = self.clone();
        std::thread::spawn(move || {
            for (wait, sig) in [(3, libc::SIGTERM), (5, libc::SIGKILL)] {
                std::thread::sleep(Duration::from_secs(wait));
                for pid in me.running().iter().filter(|p| running.contains(p)) {
                    send(*pid, sig);
                }
            }
        });
    }

    fn running(&self) -> Vec<i32> {
        self.0.children.lock().expect("children lock").clone()
    }

    fn register(&self, pid: i32) {
        self.0.children.lock().expect("children lock").push(pid);
        if self.fired() {
            // Interrupted while the command was being started: stop it now.
            send(pid, libc::SIGINT);
        }
    }

    fn unregister(&self, pid: i32) {
        self.0
            .children
            .lock()
            .expect("children lock")
            .retain(|p| *p != pid);
    }
}

fn send(pid: i32, sig: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, sig);
    }
}

fn command_of(program: &Program) -> Command {
    match program {
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
    }
}

/// Runs the command to completion, teeing its output into `log_file`.
pub fn run(inv: Invocation, interrupts: &Interrupts) -> Result<Outcome> {
    let log = std::fs::File::create(&inv.log_file).map_err(Error::io(&inv.log_file))?;
    let log = Arc::new(Mutex::new(log));
    let mut cmd = command_of(&inv.program);
    // Without a terminal nobody else signals the command's own children, so it gets a
    // process group of its own and interrupts go to the whole group. With a terminal
    // it stays in the foreground group, where Ctrl-C already reaches every process
    // and reading the terminal keeps working.
    let own_group = inv.no_stdin || !std::io::stdin().is_terminal();
    #[cfg(unix)]
    if own_group {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    cmd.current_dir(inv.cwd)
        .envs(inv.env.iter().map(|(k, v)| (k, v)))
        .stdin(if inv.no_stdin {
            Stdio::null()
        } else {
            Stdio::inherit()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Ok(not_started(&inv, &log, &e, started, interrupts)),
    };
    let pid = child.id() as i32;
    let target = if own_group { -pid } else { pid };
    interrupts.register(target);
    let out = child.stdout.take().expect("piped stdout");
    let err = child.stderr.take().expect("piped stderr");
    let echo = inv.echo;
    let log_out = Arc::clone(&log);
    let t_out = std::thread::spawn(move || match echo {
        Echo::Terminal => tee(out, Some(std::io::stdout()), &log_out),
        Echo::Stderr => tee(out, Some(std::io::stderr()), &log_out),
        Echo::LogOnly => tee(out, None::<std::io::Stderr>, &log_out),
    });
    let log_err = Arc::clone(&log);
    let t_err = std::thread::spawn(move || match echo {
        Echo::LogOnly => tee(err, None::<std::io::Stderr>, &log_err),
        _ => tee(err, Some(std::io::stderr()), &log_err),
    });
    let status = child.wait();
    interrupts.unregister(target);
    let _ = t_out.join();
    let _ = t_err.join();
    let duration = started.elapsed();
    let status = status.map_err(Error::io(inv.cwd))?;
    Ok(Outcome {
        exit_code: exit_code_of(&status),
        interrupted: interrupts.fired(),
        duration,
    })
}

/// The outcome of a command that could not be started: 127 when not found, 126
/// otherwise, with the reason in the log (as a shell reports it).
fn not_started(
    inv: &Invocation,
    log: &Mutex<std::fs::File>,
    e: &std::io::Error,
    started: Instant,
    interrupts: &Interrupts,
) -> Outcome {
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
    if inv.echo != Echo::LogOnly {
        let _ = std::io::stderr().write_all(msg.as_bytes());
    }
    let _ = log.lock().expect("log lock").write_all(msg.as_bytes());
    Outcome {
        exit_code: code,
        interrupted: interrupts.fired(),
        duration: started.elapsed(),
    }
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

/// Copies a pipe to a terminal stream (if any) and the log. A closed terminal stream
/// (broken pipe) stops the echo but never the log.
fn tee(mut from: impl Read, mut to: Option<impl Write>, log: &Mutex<std::fs::File>) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if let Some(w) = &mut to {
            if w.write_all(&buf[..n]).is_err() || w.flush().is_err() {
                to = None;
            }
        }
        let _ = log.lock().expect("log lock").write_all(&buf[..n]);
    }
}

/// The first file named `name` in a directory of PATH, as a shell would find it.
pub fn on_path(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invocation<'a>(dir: &'a Path, line: &str) -> Invocation<'a> {
        Invocation {
            program: Program::Shell(line.to_string()),
            cwd: dir,
            env: vec![("X".into(), "42".into())],
            echo: Echo::LogOnly,
            no_stdin: true,
            log_file: dir.join("log.txt"),
        }
    }

    #[test]
    fn output_reaches_the_log_and_exit_codes_come_back() {
        let d = tempfile::tempdir().unwrap();
        let i = Interrupts::detached();
        let o = run(
            invocation(d.path(), "echo out $X; echo err >&2; exit 3"),
            &i,
        )
        .unwrap();
        assert_eq!(o.exit_code, 3);
        assert!(!o.interrupted);
        let log = std::fs::read_to_string(d.path().join("log.txt")).unwrap();
        assert!(log.contains("out 42") && log.contains("err"), "{log}");
        let mut inv = invocation(d.path(), "");
        inv.program = Program::Argv(vec!["/no/such/program".into()]);
        assert_eq!(run(inv, &i).unwrap().exit_code, 127);
    }

    #[test]
    fn an_interrupt_reaches_every_running_command_and_each_is_told() {
        let d = tempfile::tempdir().unwrap();
        let i = Interrupts::detached();
        std::thread::scope(|s| {
            let runs: Vec<_> = (0..2)
                .map(|n| {
                    let dir = d.path().join(n.to_string());
                    std::fs::create_dir_all(&dir).unwrap();
                    let i = i.clone();
                    s.spawn(move || run(invocation(&dir, "sleep 30"), &i).unwrap())
                })
                .collect();
            while i.running().len() < 2 {
                std::thread::sleep(Duration::from_millis(5));
            }
            i.fire();
            for r in runs {
                let o = r.join().unwrap();
                assert!(o.interrupted);
                // SIGINT first; on a loaded machine the shell may only go down to the
                // escalation (SIGTERM after 3 s, SIGKILL after 5 s more)
                let by = [libc::SIGINT, libc::SIGTERM, libc::SIGKILL].map(|s| 128 + s);
                assert!(by.contains(&o.exit_code), "exit code {}", o.exit_code);
            }
        });
        // A signal's exit code, not sleep's 0, shows each was stopped, not waited for:
        // no clock is read (a timed assertion fails on a loaded machine).
        // A run that starts after the interrupt is stopped too.
        let o = run(invocation(d.path(), "sleep 30"), &i).unwrap();
        assert!(
            o.interrupted && o.exit_code != 0,
            "exit code {}",
            o.exit_code
        );
    }
}
