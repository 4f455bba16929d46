# frozen_string_literal: true

$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
$LOAD_PATH.unshift __dir__

require "minitest/autorun"
require "honeyhive"
require "receiver"
require "stringio"
require "logger"

# One receiver per test process, shared by its tests (reset in each setup).
RECEIVER = Receiver.new
Minitest.after_run { RECEIVER.stop }

module HoneyHiveTestHelpers
  def setup
    RECEIVER.reset
    @tracers = []
  end

  def teardown
    @tracers.each { |t| t.close(timeout: 2) }
  end

  def receiver
    RECEIVER
  end

  # A tracer exporting to the receiver (closed in teardown).
  def new_tracer(**extra)
    tracer = HoneyHive::Tracer.new(api_key: "test-key", project: "p", server_url: RECEIVER.url,
                                   schedule_delay_ms: 50, **extra)
    @tracers << tracer
    tracer
  end

  def by_name(spans)
    spans.each_with_object({}) { |s, h| h[s["name"]] = s }
  end

  # Runs the block, which must not raise but report +count+ telemetry errors of +status+
  # (a Symbol such as :invalid_argument) to the tracer's Logger. Returns the block's value.
  def assert_telemetry_error(tracer, status, count: 1)
    io = StringIO.new
    previous = tracer.logger
    before = tracer.telemetry_errors
    tracer.logger = Logger.new(io)
    value = yield
    assert_equal before + count, tracer.telemetry_errors, "telemetry errors counted"
    name = HoneyHive::Native.hh_status_name(HoneyHive::Native::STATUS_CODE.fetch(status))
    assert_equal count, io.string.scan(/WARN -- honeyhive: telemetry error \(ignored\): .*\(#{name}\)$/).size, io.string
    value
  ensure
    tracer.logger = previous
  end

  def span_requests
    receiver.requests_to("/v1/traces")
  end
end
