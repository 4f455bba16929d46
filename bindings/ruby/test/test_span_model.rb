# frozen_string_literal: true

require "test_helper"

# The OpenTelemetry span model through the Ruby API: kind, links, events, explicit times,
# status, renaming, typed attributes under any key, ids, parents given by ids, exceptions
# with their backtrace. Every assertion is on what the receiver decoded.
class TestSpanModel < Minitest::Test
  include HoneyHiveTestHelpers

  START_NS = 1_700_000_000_123_456_789
  END_NS = START_NS + 250_000_000

  def test_kind_and_explicit_times
    tracer = new_tracer
    tracer.trace("server-span", kind: :server) do
      tracer.trace("client-span", kind: "CLIENT") { 1 }
    end
    span = tracer.start_span("measured", kind: :consumer,
                                         start_timestamp: Time.at(START_NS / 1_000_000_000, START_NS % 1_000_000_000, :nsec))
    assert span.finish(end_timestamp: END_NS)
    tracer.trace("producer-late", kind: :producer, start_timestamp: START_NS) { 1 }
    tracer.trace("plain") { 1 }
    assert tracer.flush

    spans = by_name(receiver.wait_spans(5))
    assert_equal "SPAN_KIND_SERVER", spans["server-span"]["kind"]
    assert_equal "SPAN_KIND_CLIENT", spans["client-span"]["kind"]
    assert_equal spans["server-span"]["span_id"], spans["client-span"]["parent_span_id"]
    assert_equal "SPAN_KIND_INTERNAL", spans["plain"]["kind"]
    measured = spans["measured"]
    assert_equal "SPAN_KIND_CONSUMER", measured["kind"]
    assert_equal START_NS, measured["start_time_unix_nano"]
    assert_equal END_NS, measured["end_time_unix_nano"]
    late = spans["producer-late"]
    assert_equal "SPAN_KIND_PRODUCER", late["kind"]
    assert_equal START_NS, late["start_time_unix_nano"]
    assert_operator late["end_time_unix_nano"], :>, END_NS, "ended now, started in the past"
    assert_operator spans["plain"]["start_time_unix_nano"], :>, END_NS
  end

  def test_bad_kind_and_timestamp_are_logged_and_nothing_starts
    tracer = new_tracer
    assert_telemetry_error(tracer, :invalid_argument) { tracer.trace("x", kind: :sideways) { 1 } }
    assert_telemetry_error(tracer, :invalid_argument) { tracer.start_span("x", start_timestamp: -1) }
    assert_telemetry_error(tracer, :invalid_argument) { tracer.start_span("x", start_timestamp: "yesterday") }
    assert_equal 0, tracer.stats[:spans_started]
  end

  def test_events_with_typed_attributes_and_timestamps
    tracer = new_tracer
    tracer.trace("with-events") do |span|
      span.add_event("cache.miss", attributes: { "key" => "user:42", "tries" => 2, "ratio" => 0.5,
                                                 "hit" => false, "tags" => %w[a b], "ids" => [1, 2, 3],
                                                 "weights" => [0.25, 1], "flags" => [true, false],
                                                 "nested" => { "x" => 1 }, "skipped" => nil },
                                   timestamp: Time.at(START_NS / 1_000_000_000, START_NS % 1_000_000_000, :nsec))
      span.add_event("at-ns", timestamp: END_NS)
      span.add_event("now")
    end
    assert tracer.flush
    events = receiver.wait_spans(1).first["events"]
    assert_equal %w[cache.miss at-ns now], events.map { |e| e["name"] }
    miss, at_ns, now = events
    assert_equal START_NS, miss["time_unix_nano"]
    assert_equal END_NS, at_ns["time_unix_nano"]
    assert_operator now["time_unix_nano"], :>, END_NS
    a = miss["attributes"]
    assert_equal "user:42", a["key"]
    assert_equal 2, a["tries"]
    assert_equal 0.5, a["ratio"]
    assert_equal false, a["hit"]
    assert_equal %w[a b], a["tags"]
    assert_equal [1, 2, 3], a["ids"]
    assert_equal [0.25, 1.0], a["weights"]
    assert_equal [true, false], a["flags"]
    assert_equal '{"x":1}', a["nested"]
    refute a.key?("skipped")
    assert_empty at_ns["attributes"]
  end

  def test_links_at_start_and_added_later
    tracer = new_tracer
    producer = tracer.start_span("producer", kind: :producer)
    producer_ctx = producer.context
    assert producer.finish
    other = HoneyHive::SpanContext.new(trace_id: "0af7651916cd43dd8448eb211c80319c",
                                       span_id: "b7ad6b7169203331", trace_flags: 0)
    tracer.trace("consumer", kind: :consumer,
                             links: [producer, HoneyHive::Link.new(other, "link.kind" => "batch", "n" => 3)]) do |span|
      span.add_link(producer_ctx, attributes: { "late" => true, "list" => %w[x y] })
    end
    assert tracer.flush
    links = by_name(receiver.wait_spans(2))["consumer"]["links"]
    assert_equal 3, links.size
    first, second, third = links
    assert_equal producer_ctx.trace_id, first["trace_id"]
    assert_equal producer_ctx.span_id, first["span_id"]
    assert_empty first["attributes"]
    assert_equal "0af7651916cd43dd8448eb211c80319c", second["trace_id"]
    assert_equal "b7ad6b7169203331", second["span_id"]
    assert_equal({ "link.kind" => "batch", "n" => 3 }, second["attributes"])
    assert_equal producer_ctx.trace_id, third["trace_id"]
    assert_equal producer_ctx.span_id, third["span_id"]
    assert_equal({ "late" => true, "list" => %w[x y] }, third["attributes"])
  end

  def test_status_ok_error_and_rename
    tracer = new_tracer
    tracer.trace("ok-span") { |s| s.set_status(:ok) }
    tracer.trace("error-span") { |s| s.set_status(:error, "upstream timed out") }
    tracer.trace("ok-is-final") do |s|
      s.set_status(:ok)
      s.set_status(:error, "too late")
    end
    tracer.trace("old-name") do |s|
      s.name = "new-name"
      assert_equal "new-name", s.name
    end
    tracer.trace("bad-status") do |s|
      assert_telemetry_error(tracer, :invalid_argument) { s.set_status(:maybe) }
    end
    assert tracer.flush
    spans = by_name(receiver.wait_spans(5))
    assert_equal "STATUS_CODE_OK", spans["ok-span"]["status_code"]
    assert_equal "STATUS_CODE_ERROR", spans["error-span"]["status_code"]
    assert_equal "upstream timed out", spans["error-span"]["status_message"]
    assert_equal "STATUS_CODE_OK", spans["ok-is-final"]["status_code"]
    assert spans.key?("new-name")
    refute spans.key?("old-name")
    assert_equal "STATUS_CODE_UNSET", spans["bad-status"]["status_code"]
    refute spans["error-span"]["events"].any? { |e| e["name"] == "exception" }, "status alone records no exception"
  end

  def test_typed_attributes_under_any_key_arrays_included
    tracer = new_tracer
    tracer.trace("typed", attributes: { "initial.tags" => %w[x y] }, kind: :client) do |span|
      span.add_attributes("http.route" => "/chat", "retry.delays_ms" => [10, 20], "cached" => false,
                          "score" => 0.75, "labels" => [:a, "b"], "ratios" => [1, 2.5],
                          "oks" => [true], "empty" => [], "mixed" => [1, "two"], "big" => 2**70,
                          "huge.list" => [2**70], "none" => nil)
      span.set_attribute("gen_ai.request.stop", %w[END STOP], namespace: :none)
      span.set_attribute("still.flattened", [1, 2], namespace: :metadata)
    end
    assert tracer.flush
    a = receiver.wait_spans(1).first["attributes"]
    assert_equal %w[x y], a["initial.tags"], "initial attributes (JSON) keep arrays too"
    assert_equal "/chat", a["http.route"]
    assert_equal [10, 20], a["retry.delays_ms"]
    assert_equal false, a["cached"]
    assert_equal 0.75, a["score"]
    assert_equal %w[a b], a["labels"]
    assert_equal [1.0, 2.5], a["ratios"]
    assert_equal [true], a["oks"]
    assert_equal [], a["empty"]
    assert_equal '[1,"two"]', a["mixed"]
    assert_equal (2**70).to_s, a["big"]
    assert_equal "[#{2**70}]", a["huge.list"]
    refute a.key?("none")
    assert_equal %w[END STOP], a["gen_ai.request.stop"]
    assert_equal 1, a["honeyhive_metadata.still.flattened.0"]
    assert_equal 2, a["honeyhive_metadata.still.flattened.1"]
  end

  def test_batch_is_all_or_nothing
    tracer = new_tracer
    tracer.trace("batch") do |span|
      assert_telemetry_error(tracer, :invalid_argument) { span.add_attributes("good" => 1, "bad\0key" => 2) }
      assert_telemetry_error(tracer, :invalid_argument) { span.add_attributes("ok" => 1, "" => 2) }
    end
    assert tracer.flush
    a = receiver.wait_spans(1).first["attributes"]
    refute a.key?("good")
    refute a.key?("ok")
  end

  def test_ids_without_inject_match_the_wire
    tracer = new_tracer
    ctx = nil
    remote_ctx = nil
    tracer.trace("ids") do |span|
      ctx = span.context
      assert_equal span.traceparent, ctx.traceparent
      assert_equal ctx.trace_id, span.trace_id
      assert_equal ctx.span_id, span.span_id
    end
    tracer.extract("traceparent" => "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") do |remote|
      remote_ctx = remote.context
    end
    assert tracer.flush
    wire = receiver.wait_spans(1).first
    assert_equal wire["trace_id"], ctx.trace_id
    assert_equal wire["span_id"], ctx.span_id
    assert ctx.sampled?
    refute ctx.remote?
    assert_equal HoneyHive::SpanContext.new(trace_id: "0af7651916cd43dd8448eb211c80319c",
                                            span_id: "b7ad6b7169203331", remote: true), remote_ctx
  end

  def test_parent_given_by_ids
    tracer = new_tracer
    parent = HoneyHive::SpanContext.new(trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span_id: "00f067aa0ba902b7")
    child = tracer.start_span("child-of-ids", parent: parent, kind: :server)
    assert child.finish
    e = assert_raises(HoneyHive::Error) { HoneyHive::SpanContext.new(trace_id: "0" * 32, span_id: "00f067aa0ba902b7") }
    assert_equal :invalid_argument, e.status
    assert_telemetry_error(tracer, :invalid_argument) { tracer.start_span("bad-parent", parent: "00-abc") }
    assert tracer.flush
    span = receiver.wait_spans(1).first
    assert_equal "4bf92f3577b34da6a3ce929d0e0e4736", span["trace_id"]
    assert_equal "00f067aa0ba902b7", span["parent_span_id"]
    assert_equal tracer.session_id, span["attributes"]["honeyhive.session_id"]
  end

  class Boom < StandardError; end

  BOOM_LINE = __LINE__ + 2
  def raise_boom
    raise Boom, "deep failure"
  end

  def test_exception_event_carries_backtrace_and_escaped
    tracer = new_tracer
    line = BOOM_LINE
    assert_raises(Boom) { tracer.trace("escaping") { raise_boom } }
    tracer.trace("handled") do |span|
      raise_boom
    rescue Boom => e
      span.record_exception(e)
    end
    tracer.trace("text-error") { |s| s.record_error("plain text", type: "Custom", stacktrace: %w[frame1 frame2]) }
    assert tracer.flush
    spans = by_name(receiver.wait_spans(3))

    escaping = spans["escaping"]["events"].find { |e| e["name"] == "exception" }["attributes"]
    assert_equal "TestSpanModel::Boom", escaping["exception.type"]
    assert_equal "deep failure", escaping["exception.message"]
    frames = escaping["exception.stacktrace"].split("\n")
    assert_match(/#{Regexp.escape(File.basename(__FILE__))}:#{line}:in .*raise_boom'/, frames.first)
    assert(frames.any? { |f| f.include?("test_exception_event_carries_backtrace_and_escaped") })
    assert_equal "True", escaping["exception.escaped"], "as the Python SDK sends it: text"

    handled = spans["handled"]["events"].find { |e| e["name"] == "exception" }["attributes"]
    assert_match(/:#{line}:in .*raise_boom'/, handled["exception.stacktrace"])
    assert_equal "False", handled["exception.escaped"]
    assert_equal "STATUS_CODE_ERROR", spans["handled"]["status_code"]

    text = spans["text-error"]["events"].find { |e| e["name"] == "exception" }["attributes"]
    assert_equal "Custom", text["exception.type"]
    assert_equal "frame1\nframe2", text["exception.stacktrace"]
  end
end
