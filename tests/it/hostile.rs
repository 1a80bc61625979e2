//! Hostile or broken servers and inputs: kubestrap stays bounded, reports, never crashes.
//!
//! Lab hosts node34 (a command printing 200 MB), node35 (binary output in a
//! play) and node36 (fake SSH servers in its network
//! namespace, one port per test: 2222-2225). The parser fuzzing is in `bad_input`.

mod bad_input;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::lab::Lab;
use crate::support::{s, Home, Run};

/// Longest any kubestrap run here may take before the test kills it: a hang
/// fails the test instead of stalling CI. Not a performance assertion.
const CHILD_LIMIT: Duration = Duration::from_secs(180);

/// Runs kubestrap as `Home::kubestrap` does, sampling the child's peak
/// resident memory (VmHWM, in KiB) from /proc every 10 ms while it runs.
fn kubestrap_measured(home: &Home, args: &[&str]) -> (Run, u64) {
    let mut child = home
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning kubestrap");
    let status_file = format!("/proc/{}/status", child.id());
    let readers = [
        reader(child.stdout.take().expect("stdout")),
        reader(child.stderr.take().expect("stderr")),
    ];
    let started = Instant::now();
    let mut peak_kib = 0;
    let status = loop {
        // VmHWM only grows, so the last sample before exit is the peak but
        // for what the final <10 ms added; the zombie has no Vm* lines.
        if let Some(kib) = std::fs::read_to_string(&status_file)
            .ok()
            .as_deref()
            .and_then(vm_hwm_kib)
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().expect("waiting for kubestrap") {
            break status;
        }
        if started.elapsed() > CHILD_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kubestrap {args:?} did not finish within {CHILD_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let [out, err] =
        readers.map(|r| String::from_utf8_lossy(&r.join().expect("reader")).into_owned());
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: out,
        stderr: err,
    };
    (run, peak_kib)
}

fn reader(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// `VmHWM:    12345 kB` from /proc/PID/status.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()
}

#[test]
fn a_command_printing_200_mb_keeps_memory_bounded_and_says_output_was_cut() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory(&["node34"], "root");
    let (run, peak_kib) = kubestrap_measured(
        &home,
        &[
            "exec",
            "-i",
            s(&inv),
            "--known-hosts",
            s(&lab.known_hosts()),
            "--",
            "head -c 200000000 /dev/zero | tr '\\0' x",
        ],
    );
    // The output itself is 8 MiB of x; show only its edges.
    let edges = |t: &str| -> String {
        if t.len() <= 2000 {
            return t.to_string();
        }
        let head = t.char_indices().nth(1000).map_or(t.len(), |(i, _)| i);
        let tail = t.char_indices().rev().nth(1000).map_or(0, |(i, _)| i);
        format!("{} […] {}", &t[..head], &t[tail..])
    };
    eprintln!(
        "[exit {}] peak RSS {} KiB\n{}\n{}",
        run.code,
        peak_kib,
        edges(&run.stdout),
        run.stderr
    );
    assert_eq!(run.code, 0, "{}\n{}", edges(&run.stdout), run.stderr);
    assert!(
        run.stdout
            .contains("\n[kubestrap: output truncated after 8 MiB per stream]"),
        "no truncation mark:\n{}",
        edges(&run.stdout)
    );
    let xs = run.stdout.bytes().filter(|&b| b == b'x').count();
    assert_eq!(xs, kubestrap::ssh::MAX_CAPTURE, "exactly the cap is kept");
    assert!(peak_kib > 0, "VmHWM was never sampled");
    assert!(
        peak_kib < 150 * 1024,
        "kubestrap's peak RSS was {} MiB for 200 MB of output",
        peak_kib / 1024
    );
}

#[test]
fn a_play_whose_command_prints_binary_completes() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (dir, inv) = lab.write_inventory(&["node35"], "root");
    let book = dir.path().join("binary.yaml");
    std::fs::write(
        &book,
        r#"- name: binary output
  hosts: all
  gather_facts: false
  tasks:
    - name: random bytes on stdout and stderr
      shell: head -c 4096 /dev/urandom; head -c 4096 /dev/urandom >&2; printf '\377\376\000end'
      register: noise
    - name: the registered output is usable
      command: "echo {{ noise.stdout | length }} {{ noise.stderr | length }}"
      when: noise.rc == 0 and noise.stdout is search('end')
"#,
    )
    .expect("writing the playbook");
    // -v shows every registered result, binary included.
    let run = home.kubestrap(&[
        "run",
        s(&book),
        "-i",
        s(&inv),
        "--known-hosts",
        s(&lab.known_hosts()),
        "-v",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("PLAY RECAP"), "{}", run.stdout);
    let recap = run
        .stdout
        .lines()
        .find(|l| l.starts_with("node35 ") && l.contains(" : ok="))
        .unwrap_or_else(|| panic!("no recap line:\n{}", run.stdout));
    assert!(
        recap.contains("changed=2 ") && recap.contains("failed=0 "),
        "both tasks ran: {recap}"
    );
    assert!(!run.all().contains("panicked"), "{}", run.all());
}

/// A fake SSH server on `port` inside node36's network namespace, stopped
/// (by its PID) when dropped. It gives up by itself after two minutes.
struct FakeServer<'a> {
    lab: &'a Lab,
    port: u16,
}

impl<'a> FakeServer<'a> {
    /// `behaviour` is Python run on each accepted socket `c`; `keep` is a list
    /// that keeps sockets open.
    fn start(lab: &'a Lab, port: u16, behaviour: &str) -> FakeServer<'a> {
        let script = format!(
            "import os, socket, threading, time\n\
             def handle(c):\n\
             \x20   try:\n\
             {}\n\
             \x20   except OSError:\n\
             \x20       pass\n\
             s = socket.socket()\n\
             s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('0.0.0.0', {port}))\n\
             s.listen(16)\n\
             open('/tmp/fake-ssh-{port}.ready', 'w').close()\n\
             s.settimeout(1)\n\
             keep = []\n\
             end = time.time() + 120\n\
             while time.time() < end:\n\
             \x20   try:\n\
             \x20       c, _ = s.accept()\n\
             \x20   except socket.timeout:\n\
             \x20       continue\n\
             \x20   threading.Thread(target=handle, args=(c,), daemon=True).start()\n",
            behaviour
                .lines()
                .map(|l| format!("        {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let script_path = format!("/tmp/fake-ssh-{port}.py");
        lab.sh_ok(
            "node36",
            &format!(
                "rm -f /tmp/fake-ssh-{port}.ready; cat > {script_path} <<'PY'\n{script}PY\n\
                 setsid nohup python3 {script_path} </dev/null >/tmp/fake-ssh-{port}.log 2>&1 &\n\
                 echo $! > /tmp/fake-ssh-{port}.pid\n\
                 for i in $(seq 100); do [ -e /tmp/fake-ssh-{port}.ready ] && exit 0; sleep 0.1; done\n\
                 cat /tmp/fake-ssh-{port}.log; exit 1"
            ),
        );
        FakeServer { lab, port }
    }

    /// An inventory pointing node36 at this server.
    fn inventory(&self) -> (tempfile::TempDir, std::path::PathBuf) {
        self.lab
            .write_inventory_with(&["node36"], "root", &format!("  port: {}\n", self.port))
    }
}

impl Drop for FakeServer<'_> {
    fn drop(&mut self) {
        let port = self.port;
        let _ = self.lab.sh(
            "node36",
            &format!(
                "kill $(cat /tmp/fake-ssh-{port}.pid) 2>/dev/null; rm -f /tmp/fake-ssh-{port}.*"
            ),
        );
    }
}

/// `kubestrap exec` against a fake server: the host must be reported
/// unreachable (exit code 4) and the run must end.
fn exec_against(lab: &Lab, server: &FakeServer) -> Run {
    let home = Home::new();
    let (_d, inv) = server.inventory();
    let run = home.kubestrap(&[
        "exec",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&lab.known_hosts()),
        "--connect-timeout",
        "3",
        "--retries",
        "1",
        "--",
        "true",
    ]);
    assert_eq!(
        run.code,
        4,
        "documented exit code for an unreachable host:\n{}",
        run.all()
    );
    let addr = format!("{}:{}", lab.address("node36"), server.port);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("node36 | UNREACHABLE! => "))
        .unwrap_or_else(|| panic!("node36 not reported unreachable:\n{}", run.all()));
    assert!(line.contains(&addr), "names {addr}: {line}");
    let recap = run
        .stdout
        .lines()
        .find(|l| l.starts_with("node36 ") && l.contains(" : "))
        .unwrap_or_else(|| panic!("no recap:\n{}", run.stdout));
    assert!(recap.contains("unreachable=1 "), "{recap}");
    assert!(!run.all().contains("panicked"), "{}", run.all());
    run
}

#[test]
fn a_server_that_accepts_but_never_speaks_ssh_times_out() {
    let lab = Lab::from_env();
    let server = FakeServer::start(&lab, 2222, "keep.append(c)");
    let run = exec_against(&lab, &server);
    assert!(
        run.stdout.contains("timed out after 3s"),
        "a timeout, not another error:\n{}",
        run.all()
    );
}

#[test]
fn a_server_that_closes_right_after_accepting_is_unreachable() {
    let lab = Lab::from_env();
    let server = FakeServer::start(&lab, 2223, "c.close()");
    let run = exec_against(&lab, &server);
    assert!(run.stdout.contains("cannot connect to"), "{}", run.all());
}

#[test]
fn a_server_sending_a_garbage_banner_is_unreachable() {
    let lab = Lab::from_env();
    // Not SSH: an HTTP reply, binary junk, then more junk every 50 ms for
    // as long as the client stays (russh must neither hang nor hoard it).
    let server = FakeServer::start(
        &lab,
        2224,
        "c.sendall(b'HTTP/1.1 400 Bad Request\\r\\nServer: not-ssh\\r\\n\\r\\n\\x00\\xff\\xfe junk')\n\
         c.settimeout(0.05)\n\
         for _ in range(1200):\n\
         \x20   c.sendall(os.urandom(1024))\n\
         \x20   time.sleep(0.05)\n\
         c.close()",
    );
    let run = exec_against(&lab, &server);
    assert!(run.stdout.contains("cannot connect to"), "{}", run.all());
}

#[test]
fn a_server_announcing_ssh_then_sending_junk_is_unreachable_with_bounded_memory() {
    let lab = Lab::from_env();
    // A valid banner, then a packet claiming to be nearly 4 GiB long and
    // random bytes for as long as the client listens: the client must
    // refuse the length, not allocate it.
    let server = FakeServer::start(
        &lab,
        2225,
        "c.sendall(b'SSH-2.0-OpenSSH_9.2p1 Debian-2\\r\\n' + b'\\xff\\xff\\xff\\xf0\\x04' + os.urandom(4096))\n\
         for _ in range(1200):\n\
         \x20   c.sendall(os.urandom(65536))\n\
         \x20   time.sleep(0.05)\n\
         c.close()",
    );
    let home = Home::new();
    let (_d, inv) = server.inventory();
    let (run, peak_kib) = kubestrap_measured(
        &home,
        &[
            "exec",
            "-i",
            s(&inv),
            "--known-hosts",
            s(&lab.known_hosts()),
            "--connect-timeout",
            "3",
            "--retries",
            "1",
            "--",
            "true",
        ],
    );
    eprintln!("[exit {}] peak RSS {peak_kib} KiB\n{}", run.code, run.all());
    assert_eq!(run.code, 4, "{}", run.all());
    assert!(
        run.stdout.contains("node36 | UNREACHABLE! => "),
        "{}",
        run.all()
    );
    assert!(peak_kib > 0, "VmHWM was never sampled");
    assert!(
        peak_kib < 150 * 1024,
        "kubestrap's peak RSS was {} MiB against a junk-sending server",
        peak_kib / 1024
    );
}
