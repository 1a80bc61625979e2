//! The `kubestrap` command: parse the CLI, run it, exit with its code.

fn main() {
    std::process::exit(kubestrap::run() as i32);
}
