//! `kind: router` — evaluates `condition {field, operator, value}` on the context and emits
//! `"true"` or `"false"`.
//!
//! Semantics: `field` is a dot path (a missing field is null); `value` may be a template. Numbers
//! compare across int/float and numeric strings compare as numbers (query inputs arrive as
//! strings); ordered comparisons with null are false; two non-numeric strings compare
//! lexicographically. `in`: the field's value is an element of the list (or equals a scalar).
//! `contains`: substring of a string, or element of a list. `is_empty`: null, "", [] or {}.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde::Deserialize;
use serde_json::Value;

use super::{CompileCx, Outcome, StepCx};
use crate::engine::{StepFailure, TemplatedValue};
use crate::spec::{Code, Diagnostic, Located, Node, StepSpec};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    condition: ConditionSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionSpec {
    field: Located<String>,
    operator: Located<Operator>,
    #[serde(default)]
    value: Option<Node>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    Contains,
    IsEmpty,
    IsNotEmpty,
}

#[derive(Debug)]
pub struct Router {
    field: String,
    operator: Operator,
    value: TemplatedValue,
}

impl Router {
    pub fn compile(step: &StepSpec, cx: &mut CompileCx<'_, '_>) -> Option<Self> {
        let spec: Spec = cx.spec(step)?;
        let c = spec.condition;
        let needs_value = !matches!(c.operator.value, Operator::IsEmpty | Operator::IsNotEmpty);
        let value = match c.value {
            Some(v) => cx.templated_value(&v, &format!("{}.condition.value", step.path))?,
            None if needs_value => {
                cx.error(
                    Diagnostic::error(
                        Code::MissingField,
                        format!("operator `{:?}` needs a `value`", c.operator.value).to_lowercase(),
                    )
                    .at(c.operator.pos)
                    .path(format!("{}.condition", step.path))
                    .expected("`value`"),
                );
                return None;
            }
            None => TemplatedValue::Static(Value::Null),
        };
        Some(Router {
            field: c.field.value,
            operator: c.operator.value,
            value,
        })
    }

    pub fn run(&self, cx: &mut StepCx<'_>) -> Result<Outcome, StepFailure> {
        let expected: Cow<'_, Value> = match &self.value {
            TemplatedValue::Static(v) => Cow::Borrowed(v),
            other => Cow::Owned(cx.render_value(other)?),
        };
        let actual = cx.ctx.lookup(&self.field).unwrap_or(&Value::Null);
        let result = evaluate(self.operator, actual, &expected);
        Ok(Outcome::Signal(Cow::Borrowed(if result {
            "true"
        } else {
            "false"
        })))
    }
}

/// Evaluates one condition.
pub fn evaluate(op: Operator, actual: &Value, expected: &Value) -> bool {
    match op {
        Operator::Eq => loose_eq(actual, expected),
        Operator::Neq => !loose_eq(actual, expected),
        Operator::Gt => compare(actual, expected) == Some(Ordering::Greater),
        Operator::Gte => matches!(
            compare(actual, expected),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        Operator::Lt => compare(actual, expected) == Some(Ordering::Less),
        Operator::Lte => matches!(
            compare(actual, expected),
            Some(Ordering::Less | Ordering::Equal)
        ),
        Operator::In => match expected {
            Value::Array(items) => items.iter().any(|i| loose_eq(actual, i)),
            scalar => loose_eq(actual, scalar),
        },
        Operator::Contains => match actual {
            Value::String(s) => match expected {
                Value::String(sub) => s.contains(sub.as_str()),
                Value::Number(n) => s.contains(&n.to_string()),
                _ => false,
            },
            Value::Array(items) => items.iter().any(|i| loose_eq(i, expected)),
            Value::Object(m) => expected.as_str().is_some_and(|k| m.contains_key(k)),
            _ => false,
        },
        Operator::IsEmpty => is_empty(actual),
        Operator::IsNotEmpty => !is_empty(actual),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// A number, or a string that reads as one.
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

fn loose_eq(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    // Cross int/float, and numeric strings against numbers.
    let numeric_involved = a.is_number() || b.is_number();
    if numeric_involved && let (Some(x), Some(y)) = (as_number(a), as_number(b)) {
        return x == y;
    }
    false
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    if a.is_null() || b.is_null() {
        return None;
    }
    if let (Some(x), Some(y)) = (as_number(a), as_number(b)) {
        return x.partial_cmp(&y);
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::Operator::*;
    use super::*;
    use serde_json::json;

    /// (operator, actual, expected, result)
    #[test]
    fn operators() {
        let cases = [
            (Eq, json!(5), json!(5.0), true),
            (Eq, json!("5"), json!(5), true),
            (Eq, json!("a"), json!("a"), true),
            (Eq, json!("5"), json!("5.0"), false),
            (Eq, json!(null), json!(null), true),
            (Neq, json!(1), json!(2), true),
            (Neq, json!("x"), json!("x"), false),
            (Gt, json!(10001), json!(10000), true),
            (Gt, json!("10001"), json!(10000), true),
            (Gt, json!(null), json!(0), false),
            (Gte, json!(10000), json!(10000.0), true),
            (Lt, json!(1.5), json!(2), true),
            (Lt, json!(null), json!(5), false),
            (Lte, json!("2024-01-01"), json!("2024-06-01"), true),
            (Lte, json!(true), json!(1), false),
            (In, json!("b"), json!(["a", "b"]), true),
            (In, json!(2), json!(["1", "2"]), true),
            (In, json!("c"), json!(["a", "b"]), false),
            (In, json!("a"), json!("a"), true),
            (Contains, json!("hello world"), json!("lo w"), true),
            (Contains, json!(["x", "y"]), json!("y"), true),
            (Contains, json!([1, 2]), json!(2.0), true),
            (Contains, json!(null), json!("x"), false),
            (IsEmpty, json!(null), json!(null), true),
            (IsEmpty, json!(""), json!(null), true),
            (IsEmpty, json!([]), json!(null), true),
            (IsEmpty, json!({}), json!(null), true),
            (IsEmpty, json!(0), json!(null), false),
            (IsNotEmpty, json!("x"), json!(null), true),
            (IsNotEmpty, json!([]), json!(null), false),
        ];
        for (op, actual, expected, want) in cases {
            assert_eq!(
                evaluate(op, &actual, &expected),
                want,
                "{op:?} {actual} {expected}"
            );
        }
    }
}
