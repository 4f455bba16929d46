//! The console exporter: one readable line per span on stderr.

use super::blocking::BlockingWriter;
use super::{Export, Outcome, SpanSink};
use crate::export::encode::attributes::unique_attributes;
use crate::export::encode::Encoding;
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SpanData;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

pub(crate) struct ConsoleSink {
    out: BlockingWriter,
}

impl ConsoleSink {
    pub(crate) fn new(timeout: Duration) -> ConsoleSink {
        let write = |text: &[u8]| {
            std::io::stderr()
                .lock()
                .write_all(text)
                .map_err(|e| format!("writing to stderr: {e}"))
        };
        ConsoleSink {
            out: BlockingWriter::new("honeyhive-console", timeout, write),
        }
    }
}

impl SpanSink for ConsoleSink {
    fn export<'a>(&'a mut self, batch: &'a [SpanData], enc: &'a Encoding) -> Export<'a> {
        Box::pin(async move {
            let mut text = String::new();
            for s in batch {
                text.push_str(&console_line(s, &enc.stamped));
                text.push('\n');
            }
            Outcome::of(self.out.write(text.into_bytes()).await)
        })
    }
}

/// One readable line per span.
fn console_line(s: &SpanData, stamped: &[KeyValue]) -> String {
    let ms = s
        .end_time
        .duration_since(s.start_time)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0);
    let mut line = format!(
        "[honeyhive] span {:?} trace={} span={} parent={} {:.3}ms",
        s.name,
        s.span_context.trace_id(),
        s.span_context.span_id(),
        s.parent_span_id,
        ms
    );
    // Values may hold text from outside (model output, user input): no raw control characters.
    for (k, v) in unique_attributes(stamped, &s.attributes) {
        let _ = write!(
            line,
            " {}={}",
            crate::redact::escape(k.as_str()),
            crate::redact::escape(&v.to_string())
        );
    }
    if let opentelemetry::trace::Status::Error { description } = &s.status {
        let _ = write!(line, " ERROR={description:?}");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::test_support::span;

    #[test]
    fn a_line_names_the_span_its_ids_and_its_attributes() {
        let mut s = span(1, 0);
        s.attributes = vec![KeyValue::new("model", "gpt-4o")];
        s.status = opentelemetry::trace::Status::error("boom");
        let line = console_line(&s, &[KeyValue::new("honeyhive.project", "p")]);
        assert!(
            line.starts_with("[honeyhive] span \"span-1\" trace="),
            "{line}"
        );
        assert!(line.contains(&format!("span={}", s.span_context.span_id())));
        assert!(line.contains(" 1.000ms"), "{line}");
        assert!(
            line.ends_with(" honeyhive.project=p model=gpt-4o ERROR=\"boom\""),
            "{line}"
        );
    }
}
