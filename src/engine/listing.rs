//! `run --list-hosts` / `--list-tasks`: what each play would run on and run, without connecting, in ansible-playbook's format.

use super::error::PlayError;
use super::play_run::Runner;
use super::tags::selected;
use crate::playbook::Play;

impl Runner {
    /// The listing of every play: its hosts (`hosts`) and its tasks
    /// (`tasks`) as `--tags` / `--skip-tags` select them.
    pub fn listing(&mut self, hosts: bool, tasks: bool) -> Result<String, PlayError> {
        let mut out = format!("\nplaybook: {}\n", self.playbook.path.display());
        let plays = self.playbook.plays.clone();
        for (index, play) in plays.iter().enumerate() {
            let (play, pattern) = self.play_as_run(index, play)?;
            let pattern = pattern.unwrap_or_else(|| play.hosts.clone());
            out.push_str(&format!(
                "\n  play #{} ({pattern}): {}\tTAGS: [{}]\n",
                index + 1,
                play.name,
                play.tags.join(",")
            ));
            if hosts {
                let names: Vec<String> = self
                    .play_hosts(&play, Some(&pattern))?
                    .into_iter()
                    .map(|i| self.session(i).name.clone())
                    .collect();
                let listed: Vec<String> = pattern.split(',').map(|p| format!("'{p}'")).collect();
                out.push_str(&format!(
                    "    pattern: [{}]\n    hosts ({}):\n",
                    listed.join(", "),
                    names.len()
                ));
                for n in names {
                    out.push_str(&format!("      {n}\n"));
                }
            }
            if tasks {
                out.push_str(&self.task_list(&play));
            }
        }
        Ok(out)
    }

    /// `    tasks:` and a line per selected task: its name (else its
    /// module) and its tags with the play's, sorted.
    fn task_list(&self, play: &Play) -> String {
        let mut out = String::from("    tasks:\n");
        for task in &play.tasks {
            let mut tags: Vec<String> = task.tags.iter().chain(&play.tags).cloned().collect();
            if !selected(&tags, &self.tags, &self.skip_tags) {
                continue;
            }
            tags.sort();
            tags.dedup();
            let name = task
                .name
                .clone()
                .unwrap_or_else(|| task.module_name.clone());
            out.push_str(&format!("      {name}\tTAGS: [{}]\n", tags.join(", ")));
        }
        out
    }
}
