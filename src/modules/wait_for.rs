//! wait_for: wait, bounded, until a TCP port answers (or stops answering), or a path appears.
//!
//! The wait is a polling loop run on the host (so `host` is seen from
//! there, as in Ansible); it only reads, so it runs under `--check` too, and
//! it reports ok. A port is probed with bash's /dev/tcp under `timeout`
//! (dash has no /dev/tcp), else with `nc -z`. Without port and path it
//! sleeps `timeout` seconds, as Ansible does. Not supported: search_regex,
//! drained, exclude_hosts, active_connection_states.

use super::{q, Action, Args, Context, Module, Plan};

pub struct WaitFor;

impl Module for WaitFor {
    fn name(&self) -> &'static str {
        "wait_for"
    }

    fn params(&self) -> &'static [&'static str] {
        &[
            "host",
            "port",
            "path",
            "state",
            "timeout",
            "delay",
            "sleep",
            "connect_timeout",
            "msg",
        ]
    }

    fn check(&self, args: &Args, _ctx: &Context) -> Result<Plan, String> {
        let host = args.str("host")?.unwrap_or_else(|| "127.0.0.1".into());
        if host.is_empty()
            || host.starts_with('-')
            || host.contains(|c: char| c.is_whitespace() || c == '/')
        {
            return Err(format!(
                "argument `host`: {host:?} is not a host name or address"
            ));
        }
        let port = match args.str("port")? {
            None => None,
            Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                format!("argument `port` must be a TCP port (1-65535), got {p:?}")
            })?),
        };
        let path = args.str("path")?;
        let timeout = seconds(args, "timeout", 300)?;
        let delay = seconds(args, "delay", 0)?;
        let sleep = seconds(args, "sleep", 1)?.max(1);
        let connect_timeout = seconds(args, "connect_timeout", 5)?.max(1);
        let state = args.choice(
            "state",
            &["started", "stopped", "present", "absent"],
            "started",
        )?;
        let up = matches!(state.as_str(), "started" | "present");

        let (probe, what, default_msg) = match (port, &path) {
            (Some(_), Some(_)) => return Err("give only one of `port` and `path`".into()),
            (Some(p), None) => {
                let target = format!("{host}:{p}");
                let msg = if up {
                    format!("Timeout when waiting for {target}")
                } else {
                    format!("Timeout when waiting for {target} to stop.")
                };
                (Some(format!("probe {} {p}", q(&host))), target, msg)
            }
            (None, Some(f)) => {
                let msg = if up {
                    format!("Timeout when waiting for file {f}")
                } else {
                    format!("Timeout when waiting for file {f} to be absent.")
                };
                (Some(format!("[ -e {} ]", q(f))), f.clone(), msg)
            }
            (None, None) => (None, String::new(), String::new()),
        };
        let msg = args.str("msg")?.unwrap_or(default_msg);

        let mut s = String::new();
        if delay > 0 {
            s.push_str(&format!("sleep {delay}\n"));
        }
        let Some(probe) = probe else {
            s.push_str(&format!("sleep {timeout}\n"));
            return Ok(read_only(s, format!("waited {timeout}s")));
        };
        if port.is_some() {
            // Host and port are passed as arguments, never spliced into bash's code.
            s.push_str(&format!(
                "if command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then\n\
                 \x20 probe() {{ timeout {connect_timeout} bash -c 'exec 3<>\"/dev/tcp/$0/$1\"' \"$1\" \"$2\" 2>/dev/null; }}\n\
                 elif command -v nc >/dev/null 2>&1; then\n\
                 \x20 probe() {{ nc -z -w {connect_timeout} \"$1\" \"$2\" 2>/dev/null; }}\n\
                 else\n\
                 \x20 echo 'wait_for: the host has neither bash and timeout nor nc to probe a port' >&2; exit 2\n\
                 fi\n"
            ));
        }
        let done = if up { probe } else { format!("! {probe}") };
        s.push_str(&format!(
            "end=$(( $(date +%s) + {timeout} ))\n\
             while :; do\n\
             \x20 if {done}; then exit 0; fi\n\
             \x20 if [ \"$(date +%s)\" -ge \"$end\" ]; then echo {m} >&2; exit 1; fi\n\
             \x20 sleep {sleep}\n\
             done\n",
            m = q(&msg)
        ));
        let verb = if up { "answers" } else { "stopped" };
        Ok(read_only(s, format!("{what} {verb}")))
    }
}

fn read_only(script: String, msg: String) -> Plan {
    Plan {
        changed: false,
        actions: vec![Action::Run {
            script,
            stdin: None,
        }],
        msg,
        read_only: true,
        ..Plan::default()
    }
}

/// A whole number of seconds, bounded to a day so a typo cannot hang a run for years.
fn seconds(args: &Args, key: &str, default: u64) -> Result<u64, String> {
    match args.str(key)? {
        None => Ok(default),
        Some(s) => s
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= 86_400)
            .ok_or_else(|| {
                format!("argument `{key}` must be whole seconds (at most 86400), got {s:?}")
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::{check, scripts};
    use super::*;
    use crate::facts::Facts;
    use serde_json::json;

    #[test]
    fn table() {
        let f = Facts::default();
        // (args, fragments the script must contain)
        let cases: Vec<(serde_json::Value, Vec<&str>)> = vec![
            (
                json!({"port": 6443}),
                vec![
                    "probe '127.0.0.1' 6443; then exit 0",
                    "end=$(( $(date +%s) + 300 ))",
                    "'Timeout when waiting for 127.0.0.1:6443'",
                    "timeout 5 bash -c",
                    "nc -z -w 5",
                    "sleep 1\n",
                ],
            ),
            (
                json!({"host": "10.0.0.10", "port": "2379", "timeout": 60, "delay": 2, "sleep": 3, "connect_timeout": 1}),
                vec!["sleep 2\n", "+ 60 ))", "sleep 3\n", "timeout 1 bash"],
            ),
            (
                json!({"port": 10250, "state": "stopped"}),
                vec![
                    "if ! probe '127.0.0.1' 10250; then exit 0",
                    "'Timeout when waiting for 127.0.0.1:10250 to stop.'",
                ],
            ),
            (
                json!({"path": "/etc/kubernetes/admin.conf", "msg": "no admin.conf"}),
                vec![
                    "if [ -e '/etc/kubernetes/admin.conf' ]; then exit 0",
                    "echo 'no admin.conf' >&2",
                ],
            ),
            (
                json!({"path": "/run/x.lock", "state": "absent"}),
                vec!["if ! [ -e '/run/x.lock' ]"],
            ),
            (json!({"timeout": 5}), vec!["sleep 5\n"]),
        ];
        for (args, frags) in cases {
            let plan = check(&WaitFor, &f, args.clone()).unwrap();
            assert!(!plan.changed && plan.read_only, "{args}");
            let s = &scripts(&plan)[0];
            for frag in frags {
                assert!(s.contains(frag), "{args}: {frag:?} not in\n{s}");
            }
        }
    }

    #[test]
    fn errors() {
        let f = Facts::default();
        for args in [
            json!({"port": 0}),
            json!({"port": 70000}),
            json!({"port": "http"}),
            json!({"port": 1, "path": "/x"}),
            json!({"port": 1, "host": "a b"}),
            json!({"port": 1, "host": "-x"}),
            json!({"port": 1, "timeout": -1}),
            json!({"port": 1, "timeout": 10_000_000}),
            json!({"port": 1, "state": "drained"}),
        ] {
            assert!(check(&WaitFor, &f, args.clone()).is_err(), "{args}");
        }
    }
}
