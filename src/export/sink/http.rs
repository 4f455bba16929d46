//! OTLP over HTTP: HoneyHive's endpoint or a generic collector, JSON or protobuf.

use super::{Export, Outcome, SpanSink};
use crate::config::Protocol;
use crate::export::encode::json::{self, JsonStyle};
use crate::export::encode::{protobuf, Encoding};
use crate::export::transport;
use opentelemetry_sdk::trace::SpanData;
use reqwest::header::HeaderMap;
use reqwest::Method;
use std::time::Duration;

pub(crate) struct HttpSink {
    pub(super) http: Result<reqwest::Client, String>,
    pub(super) url: String,
    pub(super) headers: HeaderMap,
    pub(super) protocol: Protocol,
    pub(super) style: JsonStyle,
    pub(super) timeout: Duration,
}

impl SpanSink for HttpSink {
    fn export<'a>(&'a mut self, batch: &'a [SpanData], enc: &'a Encoding) -> Export<'a> {
        Box::pin(async move {
            let body = match self.protocol {
                Protocol::Json => json::encode(batch, enc, self.style),
                Protocol::Protobuf => protobuf::encode(batch, enc),
            };
            let deadline = tokio::time::Instant::now() + self.timeout;
            let d = match &self.http {
                Ok(http) => {
                    transport::send(
                        http,
                        Method::POST,
                        &self.url,
                        &self.headers,
                        body.into(),
                        deadline,
                    )
                    .await
                }
                Err(e) => transport::Delivery {
                    error: Some(e.clone()),
                    ..Default::default()
                },
            };
            Outcome {
                result: if d.delivered {
                    Ok(d.rejected.min(batch.len() as u64))
                } else {
                    Err(d.error.unwrap_or_else(|| "not delivered".into()))
                },
                retries: d.retries,
                warning: d.partial_warning,
            }
        })
    }
}
