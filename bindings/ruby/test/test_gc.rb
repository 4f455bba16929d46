# frozen_string_literal: true

require "test_helper"

# Finalizer paths: tracers and spans dropped without close/finish, under GC.stress.
class TestGC < Minitest::Test
  include HoneyHiveTestHelpers

  def config
    { api_key: "test-key", project: "p", server_url: RECEIVER.url, schedule_delay_ms: 50 }
  end

  def test_gc_stress_create_close_cycles
    GC.stress = true
    3.times do |i|
      tracer = HoneyHive::Tracer.new(**config)
      tracer.with_session("gc-#{i}") do
        tracer.trace("gc-span-#{i}") { |s| s.enrich(metadata: { i: i }) }
      end
      tracer.start_span("gc-dropped-#{i}") # dropped: its finalizer ends it (or close drops it)
      tracer.close(timeout: 2)
    end
    GC.stress = false
    names = receiver.wait_spans(3).map { |s| s["name"] }
    %w[gc-span-0 gc-span-1 gc-span-2].each { |n| assert_includes names, n }
  ensure
    GC.stress = false
  end

  # The C arrays handed to the library (attributes, links, options) point into Ruby-owned
  # memory: under GC.stress every string and array must still be intact when the call reads it.
  def test_gc_stress_typed_arrays_events_and_links
    tracer = new_tracer
    other = HoneyHive::SpanContext.new(trace_id: "0af7651916cd43dd8448eb211c80319c", span_id: "b7ad6b7169203331")
    GC.stress = true
    tracer.trace("gc-model", kind: :client, links: [HoneyHive::Link.new(other, "l" => "v" * 3)],
                             start_timestamp: Time.at(1_700_000_000)) do |span|
      span.add_attributes("tags" => %w[alpha beta gamma].map { |w| w * 2 }, "n" => [1, 2], "s" => "x" * 5)
      span.add_event("ev", attributes: { "words" => %w[one two], "k" => "val" })
      span.add_link(other, attributes: { "late" => %w[p q] })
    end
    GC.stress = false
    assert tracer.flush
    span = receiver.wait_spans(1).first
    assert_equal %w[alphaalpha betabeta gammagamma], span["attributes"]["tags"]
    assert_equal [1, 2], span["attributes"]["n"]
    assert_equal "xxxxx", span["attributes"]["s"]
    assert_equal({ "words" => %w[one two], "k" => "val" }, span["events"].first["attributes"])
    assert_equal 1_700_000_000_000_000_000, span["start_time_unix_nano"]
    assert_equal [{ "l" => "vvv" }, { "late" => %w[p q] }], span["links"].map { |l| l["attributes"] }
  ensure
    GC.stress = false
  end

  def test_gc_stress_tracers_dropped_without_close
    GC.stress = true
    2.times { |i| HoneyHive::Tracer.new(**config).trace("unclosed-#{i}") { 1 } }
    GC.stress = false
    # Their finalizers close them (which flushes), or the exit hook flushes them.
    5.times { GC.start(full_mark: true, immediate_sweep: true) }
    HoneyHive.flush_open_tracers(2000)
    names = receiver.wait_spans(2).map { |s| s["name"] }
    assert_equal %w[unclosed-0 unclosed-1], names.sort
  ensure
    GC.stress = false
  end

  def start_dropped_spans(tracer, count)
    count.times { |i| tracer.start_span("dropped-#{i}").set_attribute("i", i) }
    nil
  end

  def test_spans_dropped_without_finish_are_ended_by_finalizers
    tracer = new_tracer
    start_dropped_spans(tracer, 50)
    # Conservative stack scanning may keep a few alive; most must be collected.
    5.times do
      GC.start(full_mark: true, immediate_sweep: true)
      break if tracer.stats[:spans_ended] >= 40
      sleep 0.05
    end
    ended = tracer.stats[:spans_ended]
    assert_operator ended, :>=, 40, "spans ended by finalizers"
    assert tracer.flush
    names = receiver.wait_spans(ended).map { |s| s["name"] }
    assert_operator names.count { |n| n.start_with?("dropped-") }, :>=, 40
  end

  def test_finalizer_after_close_is_harmless
    tracer = new_tracer
    start_dropped_spans(tracer, 20)
    tracer.close(timeout: 2)
    GC.start(full_mark: true, immediate_sweep: true)
    stats = tracer.stats
    assert_equal 20, stats[:spans_started]
    assert_equal 0, stats[:spans_exported]
  end
end
