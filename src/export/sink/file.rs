//! The file exporter: each request appended to a file as one line of OTLP/JSON.

use super::blocking::BlockingWriter;
use super::{Export, Outcome, SpanSink};
use crate::export::encode::json::{self, JsonStyle};
use crate::export::encode::Encoding;
use opentelemetry_sdk::trace::SpanData;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

pub(crate) struct FileSink {
    out: BlockingWriter,
}

impl FileSink {
    pub(crate) fn new(path: PathBuf, timeout: Duration) -> FileSink {
        let write = move |line: &[u8]| {
            // Opened for each request: a file moved away (log rotation) is created again.
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(line))
                .map_err(|e| format!("writing {}: {e}", path.display()))
        };
        FileSink {
            out: BlockingWriter::new("honeyhive-file", timeout, write),
        }
    }
}

impl SpanSink for FileSink {
    fn export<'a>(&'a mut self, batch: &'a [SpanData], enc: &'a Encoding) -> Export<'a> {
        Box::pin(async move {
            let mut line = json::encode(batch, enc, JsonStyle::HoneyHive);
            line.push(b'\n');
            Outcome::of(self.out.write(line).await)
        })
    }
}
