//! Steps of kubestrap's own commands that are more than a playbook: the host lock, for now.

pub mod lock;
