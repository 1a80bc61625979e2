//! The layers of `src/` point one way: every `crate::` path is read, and no two top-level modules import each other.
//!
//! docs/architecture.md draws the layers; this test keeps the drawing true.
//! It works on source text (a `crate::x` path in code, `use crate::{x, y}`
//! groups, the crate's macros) rather than a compiler plugin, so it runs
//! with the unit tests and needs nothing installed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its files name.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The crate's root re-exports live in these modules.
const ROOT_ITEMS: &[(&str, &str)] = &[("Error", "error"), ("ExitCode", "exit_code")];

/// The modules that may never be reached from the engine: it runs plays
/// for whoever asks and knows nothing of commands, their flags or locks.
const ABOVE_ENGINE: &[&str] = &["cli", "commands", "phases"];

/// The top-level module names `crate::…` paths in `code` refer to.
fn referenced(code: &str, modules: &BTreeSet<String>) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::{c, d}, E}`: the first name of each item.
            let mut depth = 0;
            let mut item_start = true;
            for (i, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        rest = &group[i..];
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_alphanumeric() || c == '_') => {
                        let name: String = group[i..]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        names.push(name);
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
        }
    }
    for name in names {
        if name == "self" || name.is_empty() {
            continue;
        }
        let module = if modules.contains(&name) {
            name
        } else if let Some((_, m)) = ROOT_ITEMS.iter().find(|(n, _)| *n == name) {
            m.to_string()
        } else {
            return Err(format!(
                "crate::{name}: not a top-level module nor a known root item"
            ));
        };
        out.insert(module);
    }
    Ok(out)
}

/// Source text without comments (doc links name paths that import nothing).
fn code_of(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The import graph of the crate at `src`, by top-level module.
fn graph(src: &Path) -> Result<Graph, String> {
    let mut modules = BTreeSet::new();
    for entry in std::fs::read_dir(src).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path.file_stem().unwrap_or_default().to_string_lossy();
        // This file's own fixtures name made-up paths.
        if name != "lib" && name != "main" && name != "layers" {
            modules.insert(name.into_owned());
        }
    }
    let mut graph = Graph::new();
    for module in &modules {
        let mut files = Vec::new();
        collect_rs(&src.join(module), &mut files);
        collect_rs(&src.join(format!("{module}.rs")), &mut files);
        let edges = graph.entry(module.clone()).or_default();
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
            let refs = referenced(&code_of(&text), &modules)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            edges.extend(refs.into_iter().filter(|m| m != module));
        }
    }
    Ok(graph)
}

fn collect_rs(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        if let Ok(entries) = std::fs::read_dir(path) {
            for e in entries.flatten() {
                collect_rs(&e.path(), out);
            }
        }
    } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// A cycle of modules (`a → b → … → a`), if the graph has one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

/// Every module reachable from `start` through imports.
fn reachable(graph: &Graph, start: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![start.to_string()];
    while let Some(n) = todo.pop() {
        for next in graph.get(&n).into_iter().flatten() {
            if seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph_of(edges: &[(&str, &[&str])]) -> Graph {
        edges
            .iter()
            .map(|(m, to)| (m.to_string(), to.iter().map(|t| t.to_string()).collect()))
            .collect()
    }

    #[test]
    fn paths_groups_and_macros_are_read() {
        let modules: BTreeSet<String> = ["engine", "report", "ssh", "ui"]
            .into_iter()
            .map(String::from)
            .collect();
        let code = "use crate::ssh::{run_as::run_as, Target};\nuse crate::{report::{redact, Outcome}, Error};\nlet x = crate::engine::fan_out::fan_out(a);\ncrate::ui::init_logging(1);\nuse crate::{self as k};";
        let want: BTreeSet<String> = ["engine", "error", "report", "ssh", "ui"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(referenced(code, &modules).unwrap(), want);
        let err = referenced("crate::nowhere::x", &modules).unwrap_err();
        assert!(err.contains("crate::nowhere"), "{err}");
        assert_eq!(code_of("/// [`crate::cli`]\nuse a;"), "use a;");
    }

    #[test]
    fn a_cycle_is_found_and_named() {
        let g = graph_of(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &["a"])]);
        assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
        let g = graph_of(&[("a", &["b", "c"]), ("b", &["c"]), ("c", &[])]);
        assert_eq!(find_cycle(&g), None);
        assert_eq!(
            reachable(&g, "a"),
            ["b", "c"].into_iter().map(String::from).collect()
        );
    }

    #[test]
    fn src_has_no_import_cycle() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let g = graph(&src).unwrap();
        assert!(
            g.contains_key("engine") && g["engine"].contains("render"),
            "{g:?}"
        );
        if let Some(cycle) = find_cycle(&g) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }

    #[test]
    fn the_engine_never_reaches_cli_commands_or_phases() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let g = graph(&src).unwrap();
        let from_engine = reachable(&g, "engine");
        for above in ABOVE_ENGINE {
            assert!(
                !from_engine.contains(*above),
                "engine reaches {above}: {from_engine:?}"
            );
        }
    }
}
