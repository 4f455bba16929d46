# frozen_string_literal: true

require "test_helper"

class TestThreads < Minitest::Test
  include HoneyHiveTestHelpers

  THREADS = 8
  SPANS_PER_THREAD = 25

  def test_threads_each_with_its_own_session
    tracer = new_tracer
    sessions = {}
    lock = Mutex.new
    threads = THREADS.times.map do |t|
      Thread.new do
        tracer.with_session("thread-#{t}", metadata: { thread: t }) do |sid|
          lock.synchronize { sessions[t] = sid }
          tracer.trace("t#{t}-root", attributes: { "thread" => t }) do
            (SPANS_PER_THREAD - 1).times do |i|
              tracer.trace("t#{t}-child-#{i}") do |span|
                span.set_attribute("thread", t)
                Thread.pass if i.even?
              end
            end
          end
        end
      end
    end
    threads.each(&:join)
    assert tracer.flush(timeout: 10)
    assert_equal THREADS, sessions.values.uniq.size

    total = THREADS * SPANS_PER_THREAD
    spans = receiver.wait_spans(total)
    assert_equal total, spans.size
    assert_equal total, spans.map { |s| s["span_id"] }.uniq.size, "no duplicates"
    by = by_name(spans)
    THREADS.times do |t|
      root = by.fetch("t#{t}-root")
      assert_nil root["parent_span_id"]
      assert_equal sessions[t], root["attributes"]["honeyhive.session_id"]
      (SPANS_PER_THREAD - 1).times do |i|
        child = by.fetch("t#{t}-child-#{i}")
        assert_equal root["span_id"], child["parent_span_id"], child["name"]
        assert_equal root["trace_id"], child["trace_id"]
        assert_equal sessions[t], child["attributes"]["honeyhive.session_id"]
        assert_equal t, child["attributes"]["honeyhive_metadata.thread"]
      end
    end
    starts = receiver.requests_to("/session/start").map { |r| r["body_json"]["session"]["session_id"] }
    sessions.each_value { |sid| assert_includes starts, sid }
    stats = tracer.stats
    assert_equal total, stats[:spans_exported]
    assert_equal 0, stats[:spans_dropped]
  end

  def test_threads_do_not_inherit_or_leak_context
    tracer = new_tracer
    tracer.trace("main-span") do
      seen = Thread.new { tracer.current_span&.name }.value
      if Fiber.respond_to?(:[])
        assert_equal "main-span", seen # Ruby >= 3.2: fiber storage is inherited by threads
      else
        assert_nil seen
      end
      Thread.new { tracer.trace("other-thread") { 1 } }.join
      assert_equal "main-span", tracer.current_span.name
    end
  end
end
