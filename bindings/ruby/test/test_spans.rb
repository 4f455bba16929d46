# frozen_string_literal: true

require "test_helper"

class TestSpans < Minitest::Test
  include HoneyHiveTestHelpers

  def test_nesting_parents_same_trace_and_return_value
    tracer = new_tracer
    value = tracer.trace("root", event_type: :chain) do |root|
      assert_same root, tracer.current_span
      tracer.trace("child", event_type: :tool) do
        tracer.trace("grandchild", event_type: :model) { :deep }
      end
      tracer.trace("sibling") { 7 }
    end
    assert_equal 7, value
    assert_nil tracer.current_span
    assert tracer.flush

    spans = by_name(receiver.wait_spans(4))
    root, child, grand, sib = spans.values_at("root", "child", "grandchild", "sibling")
    assert_nil root["parent_span_id"]
    assert_equal root["span_id"], child["parent_span_id"]
    assert_equal child["span_id"], grand["parent_span_id"]
    assert_equal root["span_id"], sib["parent_span_id"]
    assert_equal 1, spans.values.map { |s| s["trace_id"] }.uniq.size
    sid = tracer.session_id
    spans.each_value { |s| assert_equal sid, s["attributes"]["honeyhive.session_id"], s["name"] }
    assert_equal "chain", root["attributes"]["honeyhive_event_type"]
    assert_equal "tool", child["attributes"]["honeyhive_event_type"]
    assert_equal "model", grand["attributes"]["honeyhive_event_type"]
  end

  def test_enrichment_flattening_and_typed_attributes
    tracer = new_tracer
    tracer.trace("enriched", attributes: { "initial.key" => "v0" }) do |span|
      span.enrich(metadata: { a: { b: 1 }, list: [1, "two"] },
                  metrics: { score: 0.5, tokens: 12 },
                  inputs: { q: "hi" }, outputs: { answer: "yo" },
                  feedback: { ok: true }, config: { temperature: 0.2 },
                  user_properties: { user: "u1" }, custom_kw: "extra")
      span.set_attribute("s", "str")
      span.set_attribute("i", 42)
      span.set_attribute("f", 1.5)
      span.set_attribute("b", false)
      span.set_attribute("sym", :sym)
      span.set_attribute("big", 2**70)
      span.set_attribute("nested", { x: { y: 3 } })
      span.set_attribute("raw.key", "raw", namespace: :none)
      span.set_attribute("m", 9, namespace: :metrics)
      span["via_brackets"] = 1
      span.set_attributes({ k1: 1, k2: "2" }, namespace: :inputs)
    end
    assert tracer.flush
    attrs = receiver.wait_spans(1).first["attributes"]
    assert_equal 1, attrs["honeyhive_metadata.a.b"]
    assert_equal 1, attrs["honeyhive_metadata.list.0"]
    assert_equal "two", attrs["honeyhive_metadata.list.1"]
    assert_equal 0.5, attrs["honeyhive_metrics.score"]
    assert_equal 12, attrs["honeyhive_metrics.tokens"]
    assert_equal "hi", attrs["honeyhive_inputs.q"]
    assert_equal "yo", attrs["honeyhive_outputs.answer"]
    assert_equal true, attrs["honeyhive_feedback.ok"]
    assert_equal 0.2, attrs["honeyhive_config.temperature"]
    assert_equal "u1", attrs["honeyhive_user_properties.user"]
    assert_equal "extra", attrs["honeyhive_metadata.custom_kw"]
    assert_equal "str", attrs["honeyhive_metadata.s"]
    assert_equal 42, attrs["honeyhive_metadata.i"]
    assert_equal 1.5, attrs["honeyhive_metadata.f"]
    assert_equal false, attrs["honeyhive_metadata.b"]
    assert_equal "sym", attrs["honeyhive_metadata.sym"]
    assert_equal (2**70).to_s, attrs["honeyhive_metadata.big"]
    assert_equal 3, attrs["honeyhive_metadata.nested.x.y"]
    assert_equal "raw", attrs["raw.key"]
    assert_equal 9, attrs["honeyhive_metrics.m"]
    assert_equal 1, attrs["honeyhive_metadata.via_brackets"]
    assert_equal 1, attrs["honeyhive_inputs.k1"]
    assert_equal "2", attrs["honeyhive_inputs.k2"]
    assert_equal "v0", attrs["initial.key"]
  end

  def test_enrich_event_type_and_error_field
    tracer = new_tracer
    tracer.trace("plain-step") { |s| s.enrich(event_type: :model, error: "bad thing") }
    assert tracer.flush
    attrs = receiver.wait_spans(1).first["attributes"]
    assert_equal "model", attrs["honeyhive_event_type"]
    assert_equal "bad thing", attrs["honeyhive_error"]
  end

  class CustomFailure < StandardError; end

  def test_exception_recorded_and_reraised
    tracer = new_tracer
    err = assert_raises(CustomFailure) do
      tracer.trace("outer") do
        tracer.trace("failing") { raise CustomFailure, "it broke" }
      end
    end
    assert_equal "it broke", err.message
    assert_nil tracer.current_span, "context restored after the exception"
    assert tracer.flush
    spans = by_name(receiver.wait_spans(2))
    failing = spans["failing"]
    assert_equal "STATUS_CODE_ERROR", failing["status_code"]
    assert_includes failing["status_message"], "it broke"
    assert_equal "it broke", failing["attributes"]["honeyhive_error"]
    assert_equal "TestSpans::CustomFailure", failing["attributes"]["honeyhive_error_type"]
    event = failing["events"].find { |e| e["name"] == "exception" }
    refute_nil event
    assert_equal "TestSpans::CustomFailure", event["attributes"]["exception.type"]
    assert_equal "it broke", event["attributes"]["exception.message"]
    # The exception crossed "outer" too: it is recorded there as well (re-raised through it).
    assert_equal "STATUS_CODE_ERROR", spans["outer"]["status_code"]
  end

  def test_start_span_and_finish
    tracer = new_tracer
    parent = tracer.start_span("manual-parent", event_type: :chain)
    assert_nil tracer.current_span, "start_span does not make the span current"
    child = tracer.start_span("manual-child", parent: parent)
    orphan = tracer.with_span(parent) { tracer.start_span("via-with-span") }
    root = tracer.start_span("explicit-root", parent: nil)
    [child, orphan, root].each { |s| assert s.finish }
    assert parent.finish
    assert parent.finish, "finish is idempotent"
    assert parent.finished?
    assert_same parent, assert_telemetry_error(tracer, :span_ended) { parent.enrich(metadata: { late: 1 }) }
    assert tracer.flush
    spans = by_name(receiver.wait_spans(4))
    assert_equal spans["manual-parent"]["span_id"], spans["manual-child"]["parent_span_id"]
    assert_equal spans["manual-parent"]["span_id"], spans["via-with-span"]["parent_span_id"]
    assert_nil spans["explicit-root"]["parent_span_id"]
    refute_equal spans["manual-parent"]["trace_id"], spans["explicit-root"]["trace_id"]
  end

  def test_finish_after_close_returns_false
    tracer = new_tracer
    span = tracer.start_span("never-sent")
    assert tracer.close(timeout: 2)
    assert_equal false, span.finish
    assert_equal 1, tracer.stats[:spans_dropped]
  end

  def test_bad_input_is_logged_not_raised
    tracer = new_tracer
    tracer.trace("checks") do |span|
      assert_telemetry_error(tracer, :invalid_argument) { tracer.trace("x", event_type: :bogus) { 1 } }
      assert_telemetry_error(tracer, :invalid_argument) { span.set_attribute("k", "a\0b") }
      assert_telemetry_error(tracer, :invalid_json) { span.enrich(metadata: { bad: "\xff".b.force_encoding("UTF-8") }) }
      assert_telemetry_error(tracer, :invalid_argument) { span.set_attribute("k", 1, namespace: :nope) }
      assert_telemetry_error(tracer, :invalid_argument) { tracer.trace("") { 1 } }
      deep = 100.times.reduce(1) { |acc, _| { "d" => acc } }
      assert_telemetry_error(tracer, :invalid_json) { span.enrich(metadata: deep) }
      span.enrich(metadata: { still: "fine" })
    end
    assert tracer.flush
    attrs = receiver.wait_spans(1).first["attributes"]
    assert_equal "fine", attrs["honeyhive_metadata.still"]
    refute attrs.key?("honeyhive_metadata.bad")
  end

  def test_span_operations_on_a_closed_tracer_are_logged_not_raised
    tracer = new_tracer
    span = tracer.start_span("open-at-close")
    assert tracer.close(timeout: 2)
    value = assert_telemetry_error(tracer, :tracer_closed) do
      tracer.trace("after-close") do |s|
        assert s.noop?
        s.set_attribute("k", 1).enrich(metadata: { a: 1 }).record_error("x")
        42
      end
    end
    assert_equal 42, value, "the block still runs and returns its value"
    assert_telemetry_error(tracer, :tracer_closed) { span.set_attribute("late", 1) }
    assert_equal false, span.finish
    assert_raises(HoneyHive::Error) { tracer.create_session("explicit calls still raise") }
  end

  def test_trace_requires_block
    tracer = new_tracer
    assert_raises(ArgumentError) { tracer.trace("no-block") }
  end

  def test_fibers_have_their_own_current_span
    tracer = new_tracer
    tracer.trace("fiber-parent") do
      inner = Fiber.new { tracer.current_span&.name }
      seen = inner.resume
      if Fiber.respond_to?(:[])
        assert_equal "fiber-parent", seen, "Ruby >= 3.2: fiber storage is inherited"
      else
        assert_nil seen, "Ruby < 3.2: Thread#[] is fiber-local and not inherited"
      end
      f = Fiber.new do
        tracer.trace("in-fiber") { Fiber.yield tracer.current_span.name }
      end
      assert_equal "in-fiber", f.resume
      assert_equal "fiber-parent", tracer.current_span.name, "the fiber's span stays in the fiber"
      f.resume
    end
  end
end
