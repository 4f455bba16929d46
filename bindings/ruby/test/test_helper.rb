# frozen_string_literal: true

$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
$LOAD_PATH.unshift __dir__

require "minitest/autorun"
require "honeyhive"
require "receiver"

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

  def span_requests
    receiver.requests_to("/v1/traces")
  end
end
