//! Templating with minijinja: parse once at load time, render many times.
//!
//! One [`Templates`] (a minijinja `Environment<'static>`) per loaded project holds every template of
//! every step, added once by name. Steps keep cheap [`Template`] handles. Rendering reads the
//! run's context through a lazy view ([`ContextView`]) instead of converting the whole context to
//! minijinja values on every render: only the keys a template touches are looked at.
//!
//! A string that is exactly one expression (`"{{ candidate }}"`) yields the expression's *value*
//! (object, number, list), not its string form. Undefined variables are errors when printed or
//! iterated (SemiStrict), while `{% if x %}` and `x | default(…)` still work.

use std::collections::BTreeSet;
use std::sync::Arc;

use minijinja::value::Value as MjValue;
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde_json::{Map, Value};

#[cfg(test)]
mod tests;
mod view;

use super::context::Context;

/// Builds the project's template set at load time.
pub struct TemplateBuilder {
    env: Environment<'static>,
    next_id: usize,
}

impl Default for TemplateBuilder {
    fn default() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        // Templates produce JSON values and prompts, never HTML.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        // Prompts written as YAML block scalars end with a newline; keep it as written.
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        TemplateBuilder { env, next_id: 0 }
    }
}

/// A template compile error, with the line inside the template when minijinja knows it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateSyntaxError {
    pub message: String,
    pub line_in_template: Option<usize>,
}

impl TemplateBuilder {
    /// Compiles `source`. Strings without `{{`/`{%`/`{#` are literals and cost nothing to render.
    pub fn compile(&mut self, source: &str) -> Result<Template, TemplateSyntaxError> {
        if !is_template(source) {
            return Ok(Template::Literal(Arc::from(source)));
        }
        let id = self.next_id;
        self.next_id += 1;
        let (name, body, kind) = match single_expression(source) {
            Some(expr) => {
                let name = format!("expr#{id}");
                (
                    name,
                    format!("{{% set {VALUE_VAR} = ({expr}) %}}"),
                    Kind::Value,
                )
            }
            None => (format!("text#{id}"), source.to_string(), Kind::Text),
        };
        if let Err(e) = self.env.add_template_owned(name.clone(), body) {
            return Err(self.syntax_error(e, kind, source));
        }
        let tmpl = self
            .env
            .get_template(&name)
            .map_err(|e| TemplateSyntaxError {
                message: e.to_string(),
                line_in_template: None,
            })?;
        let vars: BTreeSet<String> = tmpl.undeclared_variables(false).into_iter().collect();
        let handle = Compiled {
            name: name.into(),
            source: source.into(),
            vars: vars.into_iter().collect(),
        };
        Ok(match kind {
            Kind::Value => Template::Value(Arc::new(handle)),
            Kind::Text => Template::Text(Arc::new(handle)),
        })
    }

    /// The error for a template that does not compile, in terms of what the author wrote: a
    /// single expression is compiled wrapped in `{% set … = (…) %}`, whose errors can name a `)`
    /// the author never typed, so such an error is taken from compiling the source as written.
    fn syntax_error(
        &mut self,
        wrapped: minijinja::Error,
        kind: Kind,
        source: &str,
    ) -> TemplateSyntaxError {
        let as_written = match kind {
            Kind::Value => {
                let probe = "syntax-probe";
                let e = self.env.add_template_owned(probe, source.to_string()).err();
                self.env.remove_template(probe);
                e
            }
            Kind::Text => None,
        };
        let e = as_written.unwrap_or(wrapped);
        TemplateSyntaxError {
            message: e.detail().unwrap_or(&e.to_string()).to_string(),
            line_in_template: e.line(),
        }
    }

    /// Compiles a YAML subtree: strings become templates, everything else stays as is.
    /// On error: the position and JSON path (below `path`) of the bad string.
    pub fn compile_value(
        &mut self,
        node: &crate::spec::Node,
        path: &str,
    ) -> Result<TemplatedValue, (crate::spec::Pos, String, TemplateSyntaxError)> {
        use crate::spec::yaml::Value as Y;
        Ok(match &node.value {
            Y::Str(s) => match self
                .compile(s)
                .map_err(|e| (node.pos, path.to_string(), e))?
            {
                Template::Literal(_) => TemplatedValue::Static(Value::String(s.clone())),
                t => TemplatedValue::Template(t),
            },
            Y::Seq(items) => {
                let items = items
                    .iter()
                    .enumerate()
                    .map(|(i, n)| self.compile_value(n, &format!("{path}[{i}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                if items.iter().all(TemplatedValue::is_static) {
                    TemplatedValue::Static(node.to_json())
                } else {
                    TemplatedValue::Array(items)
                }
            }
            Y::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let key = k.key_text().unwrap_or_default();
                    let value = self.compile_value(v, &format!("{path}.{key}"))?;
                    out.push((key, value));
                }
                if out.iter().all(|(_, v)| v.is_static()) {
                    TemplatedValue::Static(node.to_json())
                } else {
                    TemplatedValue::Object(out)
                }
            }
            _ => TemplatedValue::Static(node.to_json()),
        })
    }

    /// Freezes the set for rendering.
    pub fn finish(self) -> Arc<Templates> {
        Arc::new(Templates { env: self.env })
    }
}

const VALUE_VAR: &str = "__weft_value";

enum Kind {
    Value,
    Text,
}

fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// `"{{ expr }}"` (one expression and nothing else) → `Some("expr")`.
fn single_expression(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") {
        return None;
    }
    Some(inner.trim())
}

/// The compiled templates of a project.
pub struct Templates {
    env: Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates")
    }
}

#[derive(Debug)]
pub struct Compiled {
    name: Box<str>,
    source: Box<str>,
    /// Variables the template reads from the context (to name the undefined one in errors).
    vars: Box<[String]>,
}

/// A handle to one compiled template.
#[derive(Clone, Debug)]
pub enum Template {
    /// No template syntax: the text itself.
    Literal(Arc<str>),
    /// Renders to a string.
    Text(Arc<Compiled>),
    /// `{{ expr }}` alone: renders to the expression's value.
    Value(Arc<Compiled>),
}

/// A failed render: the message names the undefined variable when that was the cause.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct RenderError {
    pub message: String,
}

impl Template {
    pub fn source(&self) -> &str {
        match self {
            Template::Literal(s) => s,
            Template::Text(c) | Template::Value(c) => &c.source,
        }
    }

    pub fn is_literal(&self) -> bool {
        matches!(self, Template::Literal(_))
    }

    /// Renders to a string (a value template's value is printed as JSON unless it is a string).
    pub fn render_str(&self, templates: &Templates, ctx: &Context) -> Result<String, RenderError> {
        match self {
            Template::Literal(s) => Ok(s.to_string()),
            Template::Text(c) => {
                let tmpl = templates
                    .env
                    .get_template(&c.name)
                    .map_err(|e| render_error(c, e, ctx))?;
                tmpl.render(view(ctx)).map_err(|e| render_error(c, e, ctx))
            }
            Template::Value(_) => Ok(match self.render_value(templates, ctx)? {
                Value::String(s) => s,
                other => other.to_string(),
            }),
        }
    }

    /// Renders to a JSON value: a value template yields its value, a text template a string.
    pub fn render_value(&self, templates: &Templates, ctx: &Context) -> Result<Value, RenderError> {
        match self {
            Template::Literal(s) => Ok(Value::String(s.to_string())),
            Template::Text(_) => self.render_str(templates, ctx).map(Value::String),
            Template::Value(c) => {
                let tmpl = templates
                    .env
                    .get_template(&c.name)
                    .map_err(|e| render_error(c, e, ctx))?;
                let captured = tmpl
                    .render_captured(view(ctx))
                    .map_err(|e| render_error(c, e, ctx))?;
                let value = captured
                    .state()
                    .lookup(VALUE_VAR)
                    .unwrap_or(MjValue::UNDEFINED);
                if value.is_undefined() {
                    return Err(undefined_error(c, ctx));
                }
                to_json(&value).map_err(|e| RenderError {
                    message: format!("`{}`: {e}", c.source),
                })
            }
        }
    }
}

fn view(ctx: &Context) -> MjValue {
    MjValue::from_object(view::ContextView::new(ctx.shared().clone()))
}

fn render_error(c: &Compiled, e: minijinja::Error, ctx: &Context) -> RenderError {
    if e.kind() == ErrorKind::UndefinedError {
        return undefined_error(c, ctx);
    }
    let detail = e
        .detail()
        .map(str::to_string)
        .unwrap_or_else(|| e.kind().to_string());
    RenderError {
        message: format!("template `{}` failed: {detail}", one_line(&c.source)),
    }
}

fn undefined_error(c: &Compiled, ctx: &Context) -> RenderError {
    let missing: Vec<&str> = c
        .vars
        .iter()
        .map(String::as_str)
        .filter(|v| ctx.get(v).is_none())
        .collect();
    let message = match missing.as_slice() {
        [] => match first_missing_path(&c.source, &c.vars, ctx) {
            Some(path) => format!(
                "undefined value `{path}` in template `{}`",
                one_line(&c.source)
            ),
            None => format!("template `{}` uses an undefined value", one_line(&c.source)),
        },
        [one] => format!(
            "undefined variable `{one}` in template `{}`",
            one_line(&c.source)
        ),
        many => format!(
            "undefined variables {} in template `{}`",
            many.join(", "),
            one_line(&c.source)
        ),
    };
    RenderError { message }
}

/// The first dotted reference (`order.nope`) in `source` that starts at a known variable but does
/// not resolve in the context: names the culprit when the root variable itself exists.
fn first_missing_path(source: &str, vars: &[String], ctx: &Context) -> Option<String> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut rest = source;
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic() || c == '_') {
        let tail = &rest[start..];
        let len = tail
            .find(|c: char| !is_ident(c) && c != '.')
            .unwrap_or(tail.len());
        let reference = tail[..len].trim_end_matches('.');
        let preceded_by_dot = rest[..start].ends_with('.');
        if !preceded_by_dot
            && reference.contains('.')
            && vars.iter().any(|v| reference.split('.').next() == Some(v))
        {
            let mut prefix = String::new();
            for part in reference.split('.') {
                if !prefix.is_empty() {
                    prefix.push('.');
                }
                prefix.push_str(part);
                if ctx.lookup(&prefix).is_none() {
                    return Some(prefix);
                }
            }
        }
        rest = &tail[len.max(1)..];
    }
    None
}

fn one_line(s: &str) -> String {
    let line = s.trim().lines().next().unwrap_or_default();
    if line.chars().count() > 60 {
        format!("{}…", line.chars().take(60).collect::<String>())
    } else {
        line.to_string()
    }
}

fn to_json(v: &MjValue) -> Result<Value, serde_json::Error> {
    if v.is_none() {
        return Ok(Value::Null);
    }
    serde_json::to_value(v)
}

/// A templated JSON value: static parts are kept as JSON, strings with template syntax render.
#[derive(Clone, Debug)]
pub enum TemplatedValue {
    Static(Value),
    Template(Template),
    Array(Vec<TemplatedValue>),
    Object(Vec<(String, TemplatedValue)>),
}

impl TemplatedValue {
    pub fn is_static(&self) -> bool {
        matches!(self, TemplatedValue::Static(_))
    }

    pub fn render(&self, templates: &Templates, ctx: &Context) -> Result<Value, RenderError> {
        Ok(match self {
            TemplatedValue::Static(v) => v.clone(),
            TemplatedValue::Template(t) => t.render_value(templates, ctx)?,
            TemplatedValue::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| i.render(templates, ctx))
                    .collect::<Result<_, _>>()?,
            ),
            TemplatedValue::Object(entries) => {
                let mut map = Map::with_capacity(entries.len());
                for (k, v) in entries {
                    map.insert(k.clone(), v.render(templates, ctx)?);
                }
                Value::Object(map)
            }
        })
    }
}
