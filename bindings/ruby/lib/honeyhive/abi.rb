# frozen_string_literal: true

# Generated from include/honeyhive.h by scripts/abi_tables.py: do not edit. `make header`
# regenerates it; `make header-check` fails when it differs from the header.

module HoneyHive
  module Native
    # Buffer sizes (HH_*_LEN).
    ERROR_MESSAGE_LEN = 256
    EVENT_ID_BUF_LEN = 37
    SESSION_ID_BUF_LEN = 37
    TRACEPARENT_BUF_LEN = 56

    # Status codes (hh_status; stable numeric values).
    OK                   = 0
    ERR_NULL_ARGUMENT    = 1
    ERR_INVALID_UTF8     = 2
    ERR_INVALID_JSON     = 3
    ERR_INVALID_CONFIG   = 4
    ERR_INVALID_ARGUMENT = 5
    ERR_INVALID_HANDLE   = 6
    ERR_SPAN_ENDED       = 7
    ERR_TRACER_CLOSED    = 8
    ERR_LIMIT_EXCEEDED   = 9
    ERR_BUFFER_TOO_SMALL = 10
    ERR_TIMEOUT          = 11
    ERR_EXPORT_FAILED    = 12
    ERR_PANIC            = 13
    ERR_INTERNAL         = 14

    # Status code => symbol, e.g. 3 => :invalid_json (HoneyHive::Error#status).
    STATUS = {
      0 => :ok,
      1 => :null_argument,
      2 => :invalid_utf8,
      3 => :invalid_json,
      4 => :invalid_config,
      5 => :invalid_argument,
      6 => :invalid_handle,
      7 => :span_ended,
      8 => :tracer_closed,
      9 => :limit_exceeded,
      10 => :buffer_too_small,
      11 => :timeout,
      12 => :export_failed,
      13 => :panic,
      14 => :internal,
    }.freeze
    STATUS_CODE = STATUS.invert.freeze

    # Event types (HH_EVENT_*).
    EVENT_TYPES = {
      default: 0,
      model: 1,
      tool: 2,
      chain: 3,
    }.freeze

    # Namespaces of the typed setters (HH_NS_*).
    NAMESPACES = {
      none: 0,
      inputs: 1,
      outputs: 2,
      metadata: 3,
      metrics: 4,
      feedback: 5,
      config: 6,
      user_properties: 7,
    }.freeze

    # hh_stats, in declaration order: [field, ffi type].
    STATS_LAYOUT = [
      [:spans_started, :uint64],
      [:spans_ended, :uint64],
      [:spans_exported, :uint64],
      [:spans_dropped, :uint64],
      [:export_requests, :uint64],
      [:export_failures, :uint64],
      [:export_retries, :uint64],
      [:rest_calls, :uint64],
      [:rest_failures, :uint64],
      [:spans_rejected, :uint64],
      [:queue_len, :uint64],
      [:spans_no_session, :uint64],
    ].freeze
  end
end
