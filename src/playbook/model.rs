//! Playbooks as loaded: plays and tasks, still holding their unrendered templates.

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::modules::Module;

/// A playbook file: a list of plays.
#[derive(Clone)]
pub struct Playbook {
    pub path: PathBuf,
    /// Shared, so a run can put in a play with its templated keywords
    /// rendered without copying the others.
    pub plays: Vec<std::sync::Arc<Play>>,
}

/// One play: which hosts, with which vars, run which tasks.
#[derive(Clone)]
pub struct Play {
    pub name: String,
    /// Host pattern (see [`crate::pattern`]), may itself be a template.
    pub hosts: String,
    /// Play vars, unrendered (rendered lazily per host, as Ansible does).
    pub vars: Map<String, Value>,
    pub become_: Option<bool>,
    pub become_user: Option<String>,
    pub gather_facts: bool,
    pub any_errors_fatal: bool,
    /// `force_handlers: true`: as `--force-handlers`, for this play.
    pub force_handlers: bool,
    /// Abort the play when more than this percentage of its hosts (of a
    /// batch, with `serial`) failed.
    pub max_fail_percentage: Option<f64>,
    /// `serial`: the play's hosts in batches of these sizes (empty: one batch).
    pub serial: Vec<super::serial::Serial>,
    pub tags: Vec<String>,
    /// `pre_tasks`, `tasks` and `post_tasks` in order, blocks flattened:
    /// each task says where it sits in [`Play::blocks`].
    pub tasks: Vec<Task>,
    pub handlers: Vec<Task>,
    /// The play's `block`s, by the index tasks' [`Task::blocks`] use.
    pub blocks: Vec<Block>,
    /// Keywords written as templates (`gather_facts: "{{ x | bool }}"`),
    /// as (keyword, template): rendered when the play starts, then set with
    /// [`Play::set_keyword`]; until then their fields hold the defaults.
    /// `hosts` is not among them: it is rendered with every play.
    pub templated: Vec<(String, String)>,
    /// The defaults of the play's roles (`defaults/main.yml`), unrendered:
    /// below every other variable, as Ansible's role defaults are.
    pub role_defaults: Map<String, Value>,
    /// 1-based line of the play in its file.
    pub line: usize,
}

/// One task (or handler): one module call plus Ansible's task keywords.
#[derive(Clone)]
pub struct Task {
    /// `name:`; when absent, the module name is shown.
    pub name: Option<String>,
    pub module: &'static dyn Module,
    /// The module name as written (e.g. `ansible.builtin.copy`).
    pub module_name: String,
    /// Arguments, unrendered; free-form text is under `_raw_params`.
    pub args: Map<String, Value>,
    /// Conditions, all of which must hold (Jinja expressions without braces).
    pub when: Vec<String>,
    /// `loop:` / `with_items:` value (a list, or a template giving one).
    pub loop_: Option<Value>,
    /// `loop_control.loop_var`, default `item`.
    pub loop_var: String,
    /// The `with_*` lookup that makes the items of [`Task::loop_`].
    pub loop_kind: super::loops::LoopKind,
    /// The rest of `loop_control` (`index_var`, `label`, `pause`, `extended`).
    pub loop_control: super::loops::LoopControl,
    /// `delegate_to`, unrendered: the host the task runs on, with this
    /// host's variables (`localhost`: the controller, no SSH).
    pub delegate_to: Option<String>,
    /// `delegate_facts`: a delegated `set_fact` sets the delegate's variables.
    pub delegate_facts: bool,
    /// `throttle`: at most this many hosts run the task at once (0: `--forks`).
    pub throttle: usize,
    pub register: Option<String>,
    pub notify: Vec<String>,
    /// Handler topics this handler also answers to (`listen:`).
    pub listen: Vec<String>,
    pub changed_when: Option<Vec<String>>,
    pub failed_when: Option<Vec<String>>,
    pub ignore_errors: bool,
    pub tags: Vec<String>,
    pub become_: Option<bool>,
    pub become_user: Option<String>,
    /// Task vars, unrendered.
    pub vars: Map<String, Value>,
    /// `check_mode: false` runs the task for real even under --check.
    pub check_mode: Option<bool>,
    /// `no_log: true`: the task's arguments and results must not be shown or logged.
    pub no_log: bool,
    /// `until`: conditions that must all hold for the task to be done;
    /// else it runs again, up to [`Task::attempts`] times.
    pub until: Option<Vec<String>>,
    /// `retries` as written (the default depends on `until`).
    pub retries: Option<u32>,
    /// `delay`: seconds between attempts (Ansible's default, 5).
    pub delay: u64,
    /// `run_once`: the first host of the task runs it; what it registers
    /// (and a failure) counts for every host, as in Ansible.
    pub run_once: bool,
    /// `environment` (of the play, its blocks and the task, the task's
    /// last), unrendered: exported for the commands the task runs.
    pub environment: Map<String, Value>,
    /// The blocks the task is in, outermost first, with the section of
    /// each it is in; empty for a task outside any block.
    pub blocks: Vec<Frame>,
    /// The directory of the role the task comes from (or of the imported
    /// playbook it is in): its `templates/` and `files/` are searched
    /// before the playbook's.
    pub role_dir: Option<PathBuf>,
    /// The vars of the task's role (and the roles depending on it),
    /// unrendered: over the play's vars, under what tasks register.
    pub role_vars: Map<String, Value>,
    /// For an `include_tasks`: the block (in [`Play::blocks`]) holding the
    /// file's tasks, which a host runs once per item the include gave it.
    pub opens: Option<usize>,
    pub file: PathBuf,
    /// 1-based line of the task in `file`.
    pub line: usize,
}

/// Which list of a block a task is in, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    Block,
    Rescue,
    Always,
}

/// A task's place in one block: the block's index in [`Play::blocks`] and the section.
pub type Frame = (usize, Section);

/// One `block`: where it sits, and which of its lists have tasks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The enclosing blocks, outermost first (as [`Task::blocks`]).
    pub parent: Vec<Frame>,
    pub rescue: bool,
    pub always: bool,
}

impl Task {
    /// How many times the task may run: once, plus `retries` (3 by
    /// default when `until` is set), as in ansible-core.
    pub fn attempts(&self) -> u32 {
        let default = if self.until.is_some() { 3 } else { 0 };
        1 + self.retries.unwrap_or(default)
    }

    /// The title shown in `TASK [...]`.
    pub fn title(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.module_name.clone())
    }
}
