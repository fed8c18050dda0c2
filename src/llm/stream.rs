//! Framing of streamed response bodies. Network chunks split lines and even UTF-8 characters
//! anywhere, so bytes are buffered until a whole line arrives (a `\n` never occurs inside a
//! multi-byte character, so decoding whole lines is safe).
//!
//! - Server-sent events (OpenAI, Anthropic): `event:` and `data:` lines, a blank line ends an
//!   event; several `data:` lines join with `\n`; `:` lines are comments.
//! - NDJSON (Ollama): one JSON document per line.

/// One frame of a streamed body: an SSE event, or one NDJSON line (no event name).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    pub event: Option<String>,
    pub data: String,
}

/// How a body is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    Sse,
    Ndjson,
}

/// Turns body chunks into frames.
#[derive(Debug)]
pub struct Decoder {
    framing: Framing,
    buf: Vec<u8>,
    /// The SSE event being assembled.
    event: Option<String>,
    data: Option<String>,
}

impl Decoder {
    pub fn new(framing: Framing) -> Self {
        Decoder {
            framing,
            buf: Vec::new(),
            event: None,
            data: None,
        }
    }

    /// Feeds one chunk; returns the frames it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Frame> {
        self.buf.extend_from_slice(chunk);
        let mut frames = Vec::new();
        let mut start = 0;
        while let Some(offset) = self.buf[start..].iter().position(|&b| b == b'\n') {
            let end = start + offset;
            let line = String::from_utf8_lossy(&self.buf[start..end]);
            let line = line.strip_suffix('\r').unwrap_or(&line).to_string();
            self.line(&line, &mut frames);
            start = end + 1;
        }
        self.buf.drain(..start);
        frames
    }

    /// Ends the body: a last line without a newline, or an event without its blank line, still
    /// counts.
    pub fn finish(&mut self) -> Vec<Frame> {
        let mut frames = Vec::new();
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            let line = String::from_utf8_lossy(&rest);
            self.line(line.trim_end_matches('\r'), &mut frames);
        }
        if self.framing == Framing::Sse {
            self.dispatch(&mut frames);
        }
        frames
    }

    fn line(&mut self, line: &str, frames: &mut Vec<Frame>) {
        match self.framing {
            Framing::Ndjson => {
                if !line.trim().is_empty() {
                    frames.push(Frame {
                        event: None,
                        data: line.to_string(),
                    });
                }
            }
            Framing::Sse => self.sse_line(line, frames),
        }
    }

    fn sse_line(&mut self, line: &str, frames: &mut Vec<Frame>) {
        if line.is_empty() {
            self.dispatch(frames);
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            _ => {} // `id`, `retry` and unknown fields do not matter here.
        }
    }

    fn dispatch(&mut self, frames: &mut Vec<Frame>) {
        let event = self.event.take();
        if let Some(data) = self.data.take() {
            frames.push(Frame { event, data });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `body` in chunks of `size` bytes.
    fn decode(framing: Framing, body: &str, size: usize) -> Vec<Frame> {
        let mut d = Decoder::new(framing);
        let mut frames = Vec::new();
        for chunk in body.as_bytes().chunks(size) {
            frames.extend(d.push(chunk));
        }
        frames.extend(d.finish());
        frames
    }

    fn frame(event: Option<&str>, data: &str) -> Frame {
        Frame {
            event: event.map(str::to_string),
            data: data.to_string(),
        }
    }

    #[test]
    fn sse_events_survive_any_chunking() {
        let body = ": keep-alive\r\nevent: delta\r\ndata: {\"t\":\"héllo\"}\r\n\r\ndata: a\ndata: b\n\ndata: [DONE]";
        let want = vec![
            frame(Some("delta"), "{\"t\":\"héllo\"}"),
            frame(None, "a\nb"),
            frame(None, "[DONE]"),
        ];
        for size in [1, 2, 3, 7, 64] {
            assert_eq!(decode(Framing::Sse, body, size), want, "chunk size {size}");
        }
    }

    #[test]
    fn ndjson_lines() {
        let body = "{\"a\":1}\n\n{\"b\":\"ü\"}\r\n{\"c\":3}";
        let want = vec![
            frame(None, "{\"a\":1}"),
            frame(None, "{\"b\":\"ü\"}"),
            frame(None, "{\"c\":3}"),
        ];
        for size in [1, 5, 100] {
            assert_eq!(
                decode(Framing::Ndjson, body, size),
                want,
                "chunk size {size}"
            );
        }
    }
}
