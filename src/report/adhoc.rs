//! The ad-hoc reporter: `kubestrap exec -m`'s results as Ansible's ad-hoc mode (its `minimal` callback) prints them.
//!
//! One block per host, no play or task banners: `host | CHANGED | rc=0 >>`
//! and the output for `command`/`shell`, `host | SUCCESS => {…}` with the
//! result's JSON for every other module. Everything else (warnings,
//! notices, the recap) is the text reporter's.

use std::sync::{Arc, Mutex};

use serde_json::Value as Json;

use super::event::{Event, TaskResult};
use super::reporter::{Reporter, Sink};
use super::text::{pretty, Text};
use super::{redact, Outcome};

/// Modules whose result Ansible prints as their output, not as JSON
/// (`MODULE_NO_JSON`).
const NO_JSON: &[&str] = &["command", "shell", "raw"];

/// Prints an ad-hoc run's events to a [`Sink`], every known secret masked.
pub struct AdHoc {
    sink: Arc<dyn Sink>,
    text: Text,
    /// Show diffs (`--diff`).
    pub diff: bool,
    /// The module of the task whose results come next (from its TaskEnd).
    module: Mutex<String>,
}

impl AdHoc {
    pub fn new(sink: Arc<dyn Sink>) -> Self {
        AdHoc {
            text: Text::new(sink.clone()),
            sink,
            diff: false,
            module: Mutex::new(String::new()),
        }
    }

    fn line(&self, text: &str) {
        self.sink.out(&format!("{}\n", redact::text(text)));
    }

    fn module(&self) -> String {
        self.module.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

impl Reporter for AdHoc {
    fn emit(&self, event: &Event) {
        match event {
            Event::TaskEnd { module, .. } => {
                if let Ok(mut m) = self.module.lock() {
                    *m = module.clone();
                }
            }
            Event::HostResult {
                host,
                result,
                no_log,
            } => self.line(&host_block(
                host,
                &result.shown(*no_log),
                &self.module(),
                self.diff,
            )),
            Event::Unreachable { host, msg } => self.line(&unreachable(host, &redact::text(msg))),
            Event::Gathered {
                host,
                error: Some(e),
            } => self.line(&format!(
                "{host} | FAILED! => {}",
                pretty(&serde_json::json!({"changed": false, "msg": redact::text(e)}))
            )),
            Event::NoHostsMatched => self.line("[WARNING]: No hosts matched, nothing to do"),
            Event::PlayStart { .. } | Event::GatherStart | Event::Gathered { .. } => {}
            other => self.text.emit(other),
        }
    }
}

/// One host's block: any diffs, then the status line and the result.
pub fn host_block(host: &str, r: &TaskResult, module: &str, diff: bool) -> String {
    let mut out = String::new();
    if diff {
        for d in &r.diffs {
            out.push_str(d.trim_end_matches('\n'));
            out.push('\n');
        }
    }
    let short = module.rsplit('.').next().unwrap_or(module);
    let caption = match r.outcome {
        Outcome::Skipped => return format!("{out}{host} | SKIPPED"),
        Outcome::Unreachable => return format!("{out}{}", unreachable(host, &r.msg)),
        Outcome::Failed => "FAILED",
        Outcome::Changed => "CHANGED",
        Outcome::Ok => "SUCCESS",
    };
    let reg = r.registered.as_object().cloned().unwrap_or_default();
    if NO_JSON.contains(&short) && reg.contains_key("rc") {
        out.push_str(&command_block(host, caption, &reg, r));
        return out;
    }
    // What the module says for itself (debug's message) is the whole
    // result, as Ansible's callback shows debug's.
    if let (Some(Some(said)), false) = (r.shown.first(), r.outcome == Outcome::Failed) {
        out.push_str(&format!("{host} | {caption} => {}", pretty(said)));
        return out;
    }
    let mut shown = reg;
    // Ansible's result has no `diff` (--diff shows it) and says `failed`
    // only when it is true; a success's `msg` is kubestrap's own summary
    // of the plan, which Ansible's modules do not return.
    shown.remove("diff");
    if r.outcome != Outcome::Failed {
        // So are the outputs of the scripts a module's plan ran: a
        // failure keeps them, to show why.
        for key in [
            "failed",
            "msg",
            "rc",
            "stdout",
            "stderr",
            "stdout_lines",
            "stderr_lines",
        ] {
            shown.remove(key);
        }
    } else if !shown.contains_key("msg") {
        shown.insert("msg".into(), Json::from(r.msg.clone()));
    }
    let bang = if r.outcome == Outcome::Failed {
        "!"
    } else {
        ""
    };
    out.push_str(&format!(
        "{host} | {caption}{bang} => {}",
        pretty(&Json::Object(shown))
    ));
    out
}

/// `host | CHANGED | rc=0 >>` and the output: stdout, stderr and the
/// failure's message run together, as Ansible prints them.
fn command_block(
    host: &str,
    caption: &str,
    reg: &serde_json::Map<String, Json>,
    r: &TaskResult,
) -> String {
    let rc = reg.get("rc").and_then(Json::as_i64).unwrap_or(-1);
    let text = |k: &str| reg.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    let mut body = text("stdout") + &text("stderr");
    if r.outcome == Outcome::Failed {
        body.push_str(if rc != 0 {
            "non-zero return code"
        } else {
            &r.msg
        });
    }
    format!("{host} | {caption} | rc={rc} >>\n{body}")
}

fn unreachable(host: &str, msg: &str) -> String {
    let v = serde_json::json!({"changed": false, "msg": msg, "unreachable": true});
    format!("{host} | UNREACHABLE! => {}", pretty(&v))
}

#[cfg(test)]
#[path = "adhoc_tests.rs"]
mod tests;
