//! The manager over fixture phases that only write down what happened to them.

use std::sync::atomic::{AtomicBool, Ordering};

use super::*;

/// What the fixture phases did, in order: "run NAME", "clean NAME".
#[derive(Default)]
struct Log {
    events: Vec<String>,
    /// Phases whose should_run reads this (a fact) see nothing to do.
    converged: bool,
}

struct Fixture {
    name: &'static str,
    stage: Option<&'static str>,
    in_check: bool,
    /// Nothing to do when the log says the hosts are converged.
    skips_when_converged: bool,
    result: Flow,
    /// Sets the fixture SIGINT flag while running.
    interrupts: bool,
}

fn phase(name: &'static str) -> Fixture {
    Fixture {
        name,
        stage: None,
        in_check: true,
        skips_when_converged: false,
        result: Flow::Next(ExitCode::Ok),
        interrupts: false,
    }
}

impl Fixture {
    fn stage(mut self, s: &'static str) -> Self {
        self.stage = Some(s);
        self
    }
    fn changes_only(mut self) -> Self {
        self.in_check = false;
        self
    }
    fn converges(mut self) -> Self {
        self.skips_when_converged = true;
        self
    }
    fn gives(mut self, f: Flow) -> Self {
        self.result = f;
        self
    }
    fn interrupts(mut self) -> Self {
        self.interrupts = true;
        self
    }
    fn boxed<'p>(self) -> Box<dyn Phase<Log> + 'p> {
        Box::new(self)
    }
}

impl Phase<Log> for Fixture {
    fn title(&self) -> &'static str {
        self.name
    }
    fn stage(&self) -> Option<&'static str> {
        self.stage
    }
    fn runs_in_check(&self) -> bool {
        self.in_check
    }
    fn should_run(&self, ctx: &Log) -> bool {
        !(self.skips_when_converged && ctx.converged)
    }
    fn run<'a>(&'a mut self, ctx: &'a mut Log) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            ctx.events.push(format!("run {}", self.name));
            if self.interrupts {
                SIGINT.store(true, Ordering::SeqCst);
            }
            self.result
        })
    }
    fn clean_up<'a>(&'a mut self, ctx: &'a mut Log) -> PhaseFuture<'a, ()> {
        Box::pin(async move { ctx.events.push(format!("clean {}", self.name)) })
    }
}

/// The fixture SIGINT: only the interrupt test sets it, and it is the only
/// test that reads it (the others never interrupt).
static SIGINT: AtomicBool = AtomicBool::new(false);
fn fixture_sigint() -> bool {
    SIGINT.load(Ordering::SeqCst)
}
fn never() -> bool {
    false
}

const STAGES: &[&str] = &["prepared", "cluster"];

/// apply's shape: connect, lock, two stages with a plan between, unlock.
fn apply_like<'p>() -> Vec<Box<dyn Phase<Log> + 'p>> {
    vec![
        phase("connect").boxed(),
        phase("lock").changes_only().boxed(),
        phase("prepared stage")
            .stage("prepared")
            .converges()
            .boxed(),
        phase("cluster plan").stage("cluster").boxed(),
        phase("cluster stage").stage("cluster").converges().boxed(),
        phase("kubeconfig")
            .stage("cluster")
            .changes_only()
            .converges()
            .boxed(),
        phase("unlock").changes_only().boxed(),
    ]
}

fn run(m: Manager<'_, Log>, log: &mut Log) -> ExitCode {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(m.run(log))
}

#[test]
fn phases_run_in_order_and_fold_their_codes() {
    let mut log = Log::default();
    let phases = vec![
        phase("a").boxed(),
        phase("b").gives(Flow::Next(ExitCode::HostFailed)).boxed(),
        phase("c").boxed(),
    ];
    let code = run(Manager::new(STAGES, phases).interrupted_by(never), &mut log);
    assert_eq!(code, ExitCode::HostFailed);
    assert_eq!(log.events, ["run a", "run b", "run c"], "no clean-up");
}

#[test]
fn should_run_leaves_out_what_has_nothing_to_do() {
    let mut log = Log {
        converged: true,
        ..Default::default()
    };
    let code = run(
        Manager::new(STAGES, apply_like()).interrupted_by(never),
        &mut log,
    );
    assert_eq!(code, ExitCode::Ok);
    assert_eq!(
        log.events,
        ["run connect", "run lock", "run cluster plan", "run unlock"]
    );
}

#[test]
fn until_stops_after_its_stage_but_keeps_the_unstaged_phases() {
    let mut log = Log::default();
    let m = Manager::new(STAGES, apply_like())
        .interrupted_by(never)
        .until(Some("prepared"))
        .unwrap();
    run(m, &mut log);
    assert_eq!(
        log.events,
        [
            "run connect",
            "run lock",
            "run prepared stage",
            "run unlock"
        ]
    );
    assert!(Manager::new(STAGES, apply_like())
        .until(Some("nodes"))
        .is_none());
}

#[test]
fn check_leaves_out_the_phases_that_only_change_things() {
    let mut log = Log::default();
    let m = Manager::new(STAGES, apply_like())
        .interrupted_by(never)
        .check(true);
    run(m, &mut log);
    assert_eq!(
        log.events,
        [
            "run connect",
            "run prepared stage",
            "run cluster plan",
            "run cluster stage"
        ]
    );
}

#[test]
fn a_stop_cleans_up_every_phase_that_ran_last_first() {
    let mut log = Log::default();
    let mut phases = apply_like();
    phases[3] = phase("cluster plan")
        .stage("cluster")
        .gives(Flow::Stop(ExitCode::HostFailed))
        .boxed();
    let code = run(Manager::new(STAGES, phases).interrupted_by(never), &mut log);
    assert_eq!(code, ExitCode::HostFailed);
    assert_eq!(
        log.events,
        [
            "run connect",
            "run lock",
            "run prepared stage",
            "run cluster plan",
            "clean cluster plan",
            "clean prepared stage",
            "clean lock",
            "clean connect",
        ],
        "nothing after the stop runs, unlock included: the lock's clean-up gives it back"
    );
}

#[test]
fn an_interrupt_starts_no_new_phase_and_cleans_up() {
    let mut log = Log::default();
    let mut phases = apply_like();
    phases[2] = phase("prepared stage")
        .stage("prepared")
        .interrupts()
        .boxed();
    let code = run(
        Manager::new(STAGES, phases).interrupted_by(fixture_sigint),
        &mut log,
    );
    assert_eq!(code, ExitCode::Interrupted);
    assert_eq!(
        log.events,
        [
            "run connect",
            "run lock",
            "run prepared stage",
            "clean prepared stage",
            "clean lock",
            "clean connect",
        ]
    );
}
