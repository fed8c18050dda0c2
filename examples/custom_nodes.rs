//! A weft binary extended with a Rust node. Everything but the node registration is the standard
//! `weft` command line:
//!
//! ```sh
//! cargo run --example custom_nodes -- run make_slug --project examples/custom_nodes \
//!   --payload '{"title": "Hello, Wörld!"}'
//! ```

use serde_json::{Map, Value, json};
use weft::{App, NodeError, NodeOutput};

fn main() {
    let app = App::new().node("slugify", |call| async move {
        let text = call
            .params
            .get("text")
            .and_then(Value::as_str)
            .ok_or_else(|| NodeError::failed("`text` param is required"))?;
        let slug = slugify(text);
        let mut out = Map::new();
        if slug.is_empty() {
            out.insert("reason".into(), json!("the title has no letters or digits"));
            return Ok(NodeOutput::merge(out).with_signal("empty"));
        }
        out.insert("slug".into(), json!(slug));
        Ok(NodeOutput::merge(out))
    });
    std::process::exit(weft::cli::main(app));
}

/// Lower-case ASCII letters and digits, runs of anything else collapsed to one `-`.
fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}
