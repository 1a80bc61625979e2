//! Render task arguments, conditions and template files with minijinja, the Ansible way.
//!
//! What makes it Ansible's flavour rather than plain Jinja:
//! - undefined variables are errors naming the variable, yet `is defined`,
//!   `is undefined` and `default(...)` still see them (minijinja's strict mode);
//! - a string that is exactly one `{{ expr }}` yields the expression's value
//!   with its type (a list stays a list), as Ansible's native types do, and
//!   so does one followed by a single newline unless the value is a string;
//! - `trim_blocks` and a kept final newline, as Ansible's template module;
//! - `omit` removes an argument, and Ansible's filters and tests exist.

use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value as Json;

use super::convert::from_jinja;
use super::error::RenderError;
use super::{filters, jtests, lookups};

/// The value of `omit`: an argument rendering to exactly this is dropped.
pub const OMIT: &str = "__omit_place_holder__kubestrap__";

/// What `{{ ansible_managed }}` says unless a variable sets it (Ansible
/// 2.19's `DEFAULT_MANAGED_STR`).
pub const ANSIBLE_MANAGED: &str = "Ansible managed";

/// A configured minijinja environment; cheap to share by reference.
pub struct Renderer {
    env: Environment<'static>,
}

impl Default for Renderer {
    fn default() -> Self {
        Renderer::new()
    }
}

impl Renderer {
    pub fn new() -> Renderer {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Debug info is what lets an undefined error name its variable.
        env.set_debug(true);
        // Ansible's templating trims the newline after a block tag and keeps
        // a file's final newline.
        let mut syntax = env.syntax().to_builder();
        syntax.trim_blocks(true).keep_trailing_newline(true);
        if let Ok(syntax) = syntax.build() {
            env.set_syntax(syntax);
        }
        env.add_global("omit", OMIT);
        // Ansible 2.19's default `ansible_managed`; a variable of that name
        // (play, inventory, -e) wins over it, as over any global.
        env.add_global("ansible_managed", ANSIBLE_MANAGED);
        // minijinja escapes by file name (`*.yaml.j2` as JSON, `*.html` as
        // HTML); Ansible never escapes, and templates are config files.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        // Ansible's templates call Python's str/list/dict methods
        // (`v.split('.')`, `s.startswith(…)`, `d.items()`): minijinja's
        // Python compatibility layer provides them.
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        filters::register(&mut env);
        jtests::register(&mut env);
        lookups::register(&mut env);
        Renderer { env }
    }

    /// Render every string inside `v`. A string that is one `{{ expr }}`
    /// gives the expression's native value; map entries that render to
    /// `omit` are dropped.
    pub fn render_value(&self, v: &Json, vars: &minijinja::Value) -> Result<Json, RenderError> {
        match v {
            Json::String(s) => self.render_str(s, vars),
            Json::Array(items) => items
                .iter()
                .map(|i| self.render_value(i, vars))
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array),
            Json::Object(m) => {
                let mut out = serde_json::Map::new();
                for (k, item) in m {
                    let key = self.render_text_inline(k, vars)?;
                    let value = self.render_value(item, vars)?;
                    if value.as_str() != Some(OMIT) {
                        out.insert(key, value);
                    }
                }
                Ok(Json::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    /// Evaluate a condition (`when`, `changed_when`, `failed_when`): a bare
    /// expression, or one wrapped in `{{ }}`, with Jinja's truthiness.
    pub fn eval_bool(&self, expr: &str, vars: &minijinja::Value) -> Result<bool, RenderError> {
        let inner = strip_braces(expr);
        let compiled = self
            .env
            .compile_expression(inner)
            .map_err(RenderError::from)?;
        let value = compiled.eval(vars.clone()).map_err(RenderError::from)?;
        if value.is_undefined() {
            return Err(self.undefined_in(inner, vars));
        }
        Ok(value.is_true())
    }

    /// Render a template file's text; errors name the template and line.
    pub fn render_text(
        &self,
        name: &str,
        text: &str,
        vars: &minijinja::Value,
    ) -> Result<String, RenderError> {
        self.env
            .render_named_str(name, text, vars.clone())
            .map_err(|e| RenderError::InTemplate {
                template: name.to_string(),
                line: e.line(),
                source: Box::new(RenderError::from(&e)),
            })
    }

    fn render_str(&self, s: &str, vars: &minijinja::Value) -> Result<Json, RenderError> {
        if !has_template(s) {
            return Ok(Json::String(s.to_string()));
        }
        // Jinja drops one final newline of a template and ansible-core
        // (2.19) puts it back only on a string result: "{{ 7 }}\n" is the
        // number 7, "{{ 'w' }}\n" the text "w\n".
        let (body, newline) = match s.strip_suffix('\n') {
            Some(body) if !body.ends_with('\n') => (body, true),
            _ => (s, false),
        };
        if let Some(expr) = single_expression(body) {
            if let Ok(compiled) = self.env.compile_expression(expr) {
                let value = compiled.eval(vars.clone()).map_err(RenderError::from)?;
                if value.is_undefined() {
                    return Err(self.undefined_in(expr, vars));
                }
                return match from_jinja(&value)? {
                    Json::String(text) if newline => Ok(Json::String(text + "\n")),
                    value => Ok(value),
                };
            }
        }
        self.render_text_inline(s, vars).map(Json::String)
    }

    fn render_text_inline(&self, s: &str, vars: &minijinja::Value) -> Result<String, RenderError> {
        if !has_template(s) {
            return Ok(s.to_string());
        }
        self.env
            .render_str(s, vars.clone())
            .map_err(RenderError::from)
    }

    /// The error for an expression that evaluated to undefined: printing it
    /// makes minijinja name the variable.
    fn undefined_in(&self, expr: &str, vars: &minijinja::Value) -> RenderError {
        match self
            .env
            .render_str(&format!("{{{{ {expr} }}}}"), vars.clone())
        {
            Err(e) => RenderError::from(&e),
            Ok(_) => RenderError::UndefinedIn {
                expr: expr.to_string(),
            },
        }
    }
}

/// Does the text contain Jinja markup at all? Plain strings skip the engine.
pub fn has_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// The expression inside a string that is exactly `{{ expr }}` (it may
/// still be two expressions, `{{ a }}-{{ b }}`: the caller compiles it to know).
fn single_expression(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    Some(inner.trim())
}

/// A condition without the `{{ }}` Ansible tolerates around it.
pub fn strip_braces(expr: &str) -> &str {
    let t = expr.trim();
    match single_expression(t) {
        Some(inner) if check_expression(inner).is_ok() => inner,
        _ => t,
    }
}

/// Syntax check of a template string, before anything runs.
pub fn check_template(text: &str) -> Result<(), RenderError> {
    if !has_template(text) {
        return Ok(());
    }
    let env = Environment::new();
    env.template_from_str(text)
        .map(|_| ())
        .map_err(RenderError::from)
}

/// Syntax check of a condition, before anything runs.
pub fn check_expression(expr: &str) -> Result<(), RenderError> {
    let env = Environment::new();
    env.compile_expression(expr)
        .map(|_| ())
        .map_err(RenderError::from)
}
