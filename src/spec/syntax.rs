//! Where a YAML syntax error really is.
//!
//! The scanner reports where it gave up, which for two common mistakes is not where the mistake
//! is: a tab in indentation is reported at the start of the scalar *before* it, and a `[` or `{`
//! left open is reported lines later, wherever the flow collection stops making sense (often as
//! "illegal placement of ':' indicator" on the next step). Both are found again here. This runs
//! only after parsing failed, so it may re-parse.

use serde_saphyr::granit_parser::{Event, Parser, StructureStyle};

use super::diagnostic::Pos;
use super::yaml::SyntaxError;

/// Moves `err` to the mistake that caused it, when it is one of the known cases.
pub(crate) fn refine(text: &str, err: SyntaxError) -> SyntaxError {
    if mentions_tab(&err.message)
        && let Some(pos) = tab_in_indentation(text, err.pos.line)
    {
        return SyntaxError {
            pos,
            message: "a tab in indentation (YAML indents with spaces only)".into(),
        };
    }
    if let Some((pos, open)) = unclosed_flow(text, err.pos) {
        let close = if open == '[' { ']' } else { '}' };
        return SyntaxError {
            pos,
            message: format!(
                "`{open}` is never closed (expected `{close}` before line {})",
                err.pos.line
            ),
        };
    }
    err
}

fn mentions_tab(message: &str) -> bool {
    message
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w == "tab" || w == "tabs")
}

/// The first tab in the leading whitespace of line `from` or a later line.
fn tab_in_indentation(text: &str, from: u32) -> Option<Pos> {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1) as usize)
        .find_map(|(i, line)| {
            let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
            let col = line[..indent].find('\t')?;
            Some(Pos::new(i as u32 + 1, col as u32 + 1))
        })
}

/// The innermost flow collection still open where parsing failed, when it was opened on an
/// earlier line than the failure and its bracket is never closed in the text.
fn unclosed_flow(text: &str, at: Pos) -> Option<(Pos, char)> {
    // One entry per open collection: the flow ones with their bracket's position and offset.
    let mut open: Vec<Option<(Pos, usize, char)>> = Vec::new();
    let mut failed = false;
    for item in Parser::new_from_str(text) {
        let Ok((event, span)) = item else {
            failed = true;
            break;
        };
        let start = || {
            let m = span.start;
            let pos = Pos::new(m.line() as u32, m.col() as u32 + 1);
            m.byte_offset().map(|b| (pos, b))
        };
        match event {
            Event::SequenceStart(style, ..) => open.push(flow_entry(style, start(), '[')),
            Event::MappingStart(style, ..) => open.push(flow_entry(style, start(), '{')),
            Event::SequenceEnd | Event::MappingEnd => {
                open.pop();
            }
            _ => {}
        }
    }
    let (pos, offset, bracket) = open.into_iter().rev().flatten().next()?;
    let unclosed = failed && pos.line < at.line && !closes(text.get(offset..)?);
    unclosed.then_some((pos, bracket))
}

fn flow_entry(
    style: StructureStyle,
    start: Option<(Pos, usize)>,
    bracket: char,
) -> Option<(Pos, usize, char)> {
    let (pos, offset) = start?;
    (style == StructureStyle::Flow).then_some((pos, offset, bracket))
}

/// Whether the bracket at the start of `text` is matched, skipping quoted scalars and comments.
fn closes(text: &str) -> bool {
    let mut depth = 0usize;
    let mut prev = ' ';
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        let node_start = prev.is_whitespace() || matches!(prev, '[' | '{' | ',' | ':');
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return true;
                }
            }
            '"' if node_start => skip_double_quoted(&mut chars),
            '\'' if node_start => skip_single_quoted(&mut chars),
            '#' if prev.is_whitespace() => {
                chars.by_ref().find(|&c| c == '\n');
            }
            _ => {}
        }
        prev = c;
    }
    false
}

fn skip_double_quoted(chars: &mut std::str::Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' => return,
            _ => {}
        }
    }
}

fn skip_single_quoted(chars: &mut std::str::Chars<'_>) {
    // `''` inside a single-quoted scalar is an escaped quote: skipping it as an empty scalar
    // followed by a new one comes to the same.
    chars.by_ref().find(|&c| c == '\'');
}

#[cfg(test)]
mod tests {
    use super::super::yaml::parse_documents;

    fn error(text: &str) -> (u32, u32, String) {
        let e = parse_documents(text).unwrap_err();
        (e.pos.line, e.pos.col, e.message)
    }

    #[test]
    fn tab_is_found_in_the_line_after_the_scalar() {
        let (line, col, msg) = error("a:\n  b: one\n\t  c: two\n");
        assert_eq!((line, col), (3, 1), "{msg}");
        assert!(msg.contains("tab in indentation"), "{msg}");
    }

    #[test]
    fn unclosed_bracket_is_reported_where_it_opens() {
        let (line, col, msg) =
            error("steps:\n  - id: a\n    routes: [x, y\n  - id: b\n    kind: c\n");
        assert_eq!((line, col), (3, 13), "{msg}");
        assert_eq!(msg, "`[` is never closed (expected `]` before line 4)");
    }

    #[test]
    fn a_closed_multi_line_flow_keeps_the_parser_position() {
        // The `{` opens on line 1 and is closed on line 4; the mistake is on line 3.
        let (line, _, msg) = error("p: {\n  a: 1,\n  b: : 2\n}\n");
        assert_eq!(line, 3, "{msg}");
    }

    #[test]
    fn brackets_in_quotes_and_comments_do_not_count() {
        assert!(super::closes("[\"]\", 'a]', # ]\n b]"));
        assert!(!super::closes("[\"]\", # ]\n"));
        assert!(super::closes("{a: [1, {b: 2}]}"));
    }
}
