# frozen_string_literal: true

require "tempfile"
require "test_helper"
require "rbconfig"

class TestTracer < Minitest::Test
  include HoneyHiveTestHelpers

  def test_library_loaded
    assert_match(/\A0\.1\.\d+\z/, HoneyHive.library_version)
    assert File.file?(HoneyHive.library_path) || HoneyHive.library_path == "honeyhive"
  end

  def test_invalid_config_raises_error_with_status_and_message
    err = assert_raises(HoneyHive::Error) do
      HoneyHive::Tracer.new(api_key: "k", server_url: RECEIVER.url, no_such_key: 1)
    end
    assert_equal :invalid_config, err.status
    assert_equal 4, err.code
    assert_equal "HH_ERR_INVALID_CONFIG", err.status_name
    assert_includes err.message, "no_such_key"

    err = assert_raises(HoneyHive::Error) do
      HoneyHive::Tracer.new(api_key: "secret-key-123", server_url: "ftp://x", project: "p")
    end
    assert_equal :invalid_config, err.status
    refute_includes err.message, "secret-key-123"
  end

  def test_missing_api_key_message
    old = ENV.delete("HH_API_KEY")
    err = assert_raises(HoneyHive::Error) { HoneyHive::Tracer.new(server_url: RECEIVER.url) }
    assert_equal :invalid_config, err.status
    assert_includes err.message, "api_key"
  ensure
    ENV["HH_API_KEY"] = old if old
  end

  def test_client_language_header_is_ruby
    tracer = new_tracer
    tracer.trace("one") { 1 }
    assert tracer.flush(timeout: 5)
    reqs = receiver.requests
    traces = reqs.select { |r| r["path"].end_with?("/v1/traces") }
    starts = reqs.select { |r| r["path"].end_with?("/session/start") }
    refute_empty traces
    refute_empty starts
    (traces + starts).each do |r|
      assert_equal "ruby", r["headers"]["hh-client-language"], r["path"]
      assert_equal "Bearer test-key", r["headers"]["authorization"]
    end
  end

  def test_flush_close_idempotent_and_stats
    tracer = new_tracer
    3.times { |i| tracer.trace("s#{i}") { i } }
    assert_equal true, tracer.flush(timeout: 5)
    stats = tracer.stats
    assert_equal 3, stats[:spans_started]
    assert_equal 3, stats[:spans_ended]
    assert_equal 3, stats[:spans_exported]
    assert_equal 0, stats[:spans_dropped]
    assert_equal true, tracer.close(timeout: 5)
    assert tracer.closed?
    assert_equal true, tracer.close(timeout: 5)
    assert_equal 3, tracer.stats[:spans_exported], "stats work after close"

    err = assert_raises(HoneyHive::Error) { tracer.flush(timeout: 1) }
    assert_equal :tracer_closed, err.status
    assert_equal 1, assert_telemetry_error(tracer, :tracer_closed) { tracer.trace("late") { 1 } }
  end

  def test_flush_returns_false_when_export_fails
    tracer = new_tracer
    receiver.fault(mode: "status", status: 400, path_prefix: nil, times: 0)
    tracer.trace("lost") { 1 }
    assert_equal false, tracer.flush(timeout: 10)
    assert_operator tracer.stats[:spans_dropped], :>=, 1
  ensure
    receiver.post("/__hh/clear_fault")
  end

  def test_close_returns_false_on_timeout_when_server_hangs
    tracer = new_tracer
    tracer.trace("warm") { 1 }
    assert tracer.flush(timeout: 5)
    receiver.fault(mode: "hang", path_prefix: nil, times: 0)
    tracer.trace("stuck") { 1 }
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    assert_equal false, tracer.close(timeout: 0.3)
    assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0, :<, 5
  ensure
    receiver.post("/__hh/clear_fault")
  end

  def test_flush_releases_gvl
    tracer = new_tracer
    receiver.fault(mode: "hang", path_prefix: nil, times: 0)
    tracer.trace("stuck") { 1 }
    ticks = 0
    ticker = Thread.new { loop { ticks += 1; sleep 0.01 } }
    tracer.flush(timeout: 0.5)
    ticker.kill
    assert_operator ticks, :>, 10, "other threads run while flush waits"
  ensure
    receiver.post("/__hh/clear_fault")
  end

  def test_tracer_open_block_closes
    t = nil
    value = HoneyHive::Tracer.open(api_key: "k", server_url: RECEIVER.url, project: "p") do |tr|
      t = tr
      tr.trace("in-open") { 42 }
    end
    assert_equal 42, value
    assert t.closed?
    assert_equal ["in-open"], receiver.wait_spans(1).map { |s| s["name"] }
  end

  def test_default_session_id
    tracer = new_tracer
    sid = tracer.session_id
    assert_match(/\A\h{8}-\h{4}-\h{4}-\h{4}-\h{12}\z/, sid)
    tracer.trace("root") { |s| assert_equal sid, s.session_id }
    assert tracer.flush
    start = receiver.requests_to("/session/start").first
    assert_equal sid, start["body_json"]["session"]["session_id"]
    span = receiver.spans.first
    assert_equal sid, span["attributes"]["honeyhive.session_id"]
  end

  def test_two_tracers_are_independent
    a = new_tracer(project: "proj-a")
    b = new_tracer(project: "proj-b")
    a.trace("a-root") do
      b.trace("b-root") { 1 }
    end
    assert a.flush && b.flush
    spans = by_name(receiver.wait_spans(2))
    assert_nil spans["b-root"]["parent_span_id"], "current span is per tracer"
    assert_equal "proj-a", spans["a-root"]["attributes"]["honeyhive.project"]
    assert_equal "proj-b", spans["b-root"]["attributes"]["honeyhive.project"]
    assert_equal a.session_id, spans["a-root"]["attributes"]["honeyhive.session_id"]
    assert_equal b.session_id, spans["b-root"]["attributes"]["honeyhive.session_id"]
  end

  def test_exit_without_close_flushes_ended_spans
    script = <<~RUBY
      require "honeyhive"
      t = HoneyHive::Tracer.new(api_key: "k", project: "p", server_url: ARGV[0], schedule_delay_ms: 60_000)
      t.trace("at-exit-span") { 1 }
      t.start_span("never-finished")   # ended by its finalizer at exit (or dropped): no crash
      $keep = t                        # still referenced at exit: flushed by the at_exit hook
    RUBY
    lib = File.expand_path("../lib", __dir__)
    out = IO.popen([RbConfig.ruby, "-I", lib, "-e", script, RECEIVER.url], err: %i[child out], &:read)
    assert $?.success?, out
    assert_includes receiver.wait_spans(1).map { |s| s["name"] }, "at-exit-span"
  end

  def test_panic_boundary_reports_status
    ENV["RUST_BACKTRACE"] = "0" # the library's panic hook prints one line instead of a trace
    err = HoneyHive::Native::HHError.new
    status, captured = quiet_stderr { HoneyHive::Native.hh_test_panic(err) }
    assert_equal :panic, HoneyHive::Native::STATUS[status], "stderr: #{captured}"
  end

  # The library's panic hook writes to fd 2: send it to a temp file, shown only on failure.
  def quiet_stderr
    saved = $stderr.dup
    Tempfile.create("stderr") do |tmp|
      $stderr.reopen(tmp)
      begin
        result = yield
      ensure
        $stderr.reopen(saved)
      end
      tmp.rewind
      [result, tmp.read]
    end
  end
end
