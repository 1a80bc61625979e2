//! Running the kubestrap binary the way an operator would, with an isolated $HOME.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of the binary left behind.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr together, for searching.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A private $HOME for one test, so ~/.ssh of the machine running the tests
/// never leaks in (and the test can write its own ~/.ssh/config).
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        let dir = tempfile::tempdir().expect("temp home");
        std::fs::create_dir_all(dir.path().join(".ssh")).expect("~/.ssh");
        Home { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.path().join(".ssh/known_hosts")
    }

    /// The kubestrap binary with `args`, this $HOME, no ssh-agent and no
    /// stdin: how every test starts it (output is for the caller to route).
    pub fn command<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubestrap"));
        cmd.args(args)
            .env("HOME", self.path())
            .env_remove("SSH_AUTH_SOCK")
            .env("USER", "root")
            .stdin(Stdio::null());
        cmd
    }

    /// Run kubestrap with this $HOME and no ssh-agent; bounded at 120 s so a
    /// hang fails the test instead of stalling CI.
    pub fn kubestrap(&self, args: &[&str]) -> Run {
        self.kubestrap_within(args, Duration::from_secs(120))
    }

    /// As [`Home::kubestrap`], bounded at `limit` (emulated VMs are slower).
    pub fn kubestrap_within(&self, args: &[&str], limit: Duration) -> Run {
        let child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning kubestrap");
        let run = finish_within(child, limit, &format!("kubestrap {args:?}"));
        eprintln!(
            "$ kubestrap {}\n[exit {}]\n{}\n{}",
            args.join(" "),
            run.code,
            run.stdout,
            run.stderr
        );
        run
    }
}

/// Waits for `child` (stdout and stderr piped) at most `limit`, reading both
/// streams meanwhile so a full pipe cannot stall it; past the limit it is
/// killed and the test fails naming `what`.
pub fn finish_within(mut child: std::process::Child, limit: Duration, what: &str) -> Run {
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for a child") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out_reader.join().expect("stdout reader")).into_owned(),
        stderr: String::from_utf8_lossy(&err_reader.join().expect("stderr reader")).into_owned(),
    }
}

/// The SHA256 fingerprint OpenSSH's ssh-keygen prints for a host's ed25519 key.
pub fn ssh_keygen_fingerprint(lab: &crate::lab::Lab, host: &str) -> String {
    let public = lab.sh_ok(host, "cat /etc/ssh/ssh_host_ed25519_key.pub");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("key.pub");
    std::fs::write(&file, public).expect("writing key");
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(&file)
        .output()
        .expect("ssh-keygen");
    assert!(out.status.success(), "ssh-keygen -lf failed");
    // "256 SHA256:abc... root@node1 (ED25519)"
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .expect("fingerprint field")
        .to_string()
}

/// The output of `task` in a run's stdout, up to the next task; panics
/// when the task never ran.
pub fn task_section<'a>(stdout: &'a str, task: &str) -> &'a str {
    let rest = stdout
        .split(&format!("TASK [{task}]"))
        .nth(1)
        .unwrap_or_else(|| panic!("no task {task:?}:\n{stdout}"));
    rest.split("\nTASK [").next().unwrap_or(rest)
}

/// Path as &str for argument lists.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
