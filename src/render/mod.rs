//! Rendering: the minijinja environment with Ansible's filters and tests, variables and their precedence.

mod convert;
mod error;
mod filters;
mod filters_format;
mod filters_hash;
mod filters_lists;
mod filters_net;
mod filters_text;
mod jtests;
pub mod lookups;
mod renderer;
pub mod vars;

#[cfg(test)]
mod filters_more_tests;
#[cfg(test)]
mod render_tests;

#[cfg(test)]
pub use convert::map_to_jinja;
pub use convert::{from_jinja, to_jinja, yaml_key, yaml_to_json};
pub use error::{ExtraVarsError, RenderError};
pub use renderer::{check_expression, check_template, has_template, strip_braces, Renderer, OMIT};
