//! The one output channel: a reporter receives every event; a fan-out hands each to several.

use std::sync::Arc;

use super::event::Event;

/// Something that shows a run's events: as text, as a JSON report, as
/// progress lines. Called from every host's task at once, so it is shared.
pub trait Reporter: Send + Sync {
    /// Take in one event (masking every known secret in what it shows).
    fn emit(&self, event: &Event);

    /// Whether a live display shows what is running (progress lines on a
    /// terminal), so "still running" notices would only repeat it.
    fn live(&self) -> bool {
        false
    }
}

/// Several reporters as one: each event goes to each, in the order given.
#[derive(Default, Clone)]
pub struct Fanout {
    reporters: Vec<Arc<dyn Reporter>>,
}

impl Fanout {
    pub fn new(reporters: Vec<Arc<dyn Reporter>>) -> Self {
        Fanout { reporters }
    }

    /// Add a reporter after the ones there.
    pub fn push(&mut self, reporter: Arc<dyn Reporter>) {
        self.reporters.push(reporter);
    }
}

impl Reporter for Fanout {
    fn emit(&self, event: &Event) {
        for r in &self.reporters {
            r.emit(event);
        }
    }

    fn live(&self) -> bool {
        self.reporters.iter().any(|r| r.live())
    }
}

/// Where the text reporter's bytes go: stdout and stderr, or a recording.
pub trait Sink: Send + Sync {
    /// Write `text` (already masked) to stdout.
    fn out(&self, text: &str);
    /// Write `text` (already masked) to stderr.
    fn err(&self, text: &str);
}

/// The process's stdout and stderr through [`super::stdout`]: never a
/// panic on a closed pipe, and a closed stdout ends the run quietly.
pub struct Stdio;

impl Sink for Stdio {
    fn out(&self, text: &str) {
        super::stdout::print(text);
    }

    fn err(&self, text: &str) {
        super::stdout::error_text(text);
    }
}

/// A sink that keeps what was written, stdout and stderr in one stream as a
/// reader of both would see them (stderr lines marked), for tests.
#[derive(Default)]
pub struct Recording(std::sync::Mutex<String>);

impl Recording {
    /// Everything written so far.
    pub fn text(&self) -> String {
        self.0.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

impl Sink for Recording {
    fn out(&self, text: &str) {
        if let Ok(mut t) = self.0.lock() {
            t.push_str(text);
        }
    }

    fn err(&self, text: &str) {
        if let Ok(mut t) = self.0.lock() {
            for line in text.split_inclusive('\n') {
                t.push_str("[stderr] ");
                t.push_str(line);
            }
        }
    }
}
