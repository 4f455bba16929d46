# frozen_string_literal: true

require "test_helper"

class TestSessions < Minitest::Test
  include HoneyHiveTestHelpers

  def test_with_session_posts_start_and_spans_carry_the_id
    tracer = new_tracer
    default_sid = tracer.session_id
    sid = tracer.with_session("chat-1", inputs: { q: "hello" }, metadata: { tenant: "t1" },
                                        user_properties: { user: "u1" }) do |session_id|
      assert_equal session_id, tracer.current_session_id
      tracer.trace("root-in-session") { tracer.trace("child-in-session") { 1 } }
      session_id
    end
    refute_equal default_sid, sid
    assert_equal default_sid, tracer.current_session_id, "previous session restored"
    tracer.trace("after-session") { 1 }
    assert tracer.flush

    start = receiver.requests_to("/session/start").find do |r|
      r["body_json"]["session"]["session_name"] == "chat-1"
    end
    refute_nil start
    session = start["body_json"]["session"]
    assert_equal sid, session["session_id"]
    assert_equal({ "q" => "hello" }, session["inputs"])
    assert_equal({ "tenant" => "t1" }, session["metadata"])
    assert_equal({ "user" => "u1" }, session["user_properties"])
    assert_equal "p", session["project"]
    assert_equal "POST", start["method"]

    spans = by_name(receiver.wait_spans(3))
    assert_equal sid, spans["root-in-session"]["attributes"]["honeyhive.session_id"]
    assert_equal sid, spans["child-in-session"]["attributes"]["honeyhive.session_id"]
    assert_equal default_sid, spans["after-session"]["attributes"]["honeyhive.session_id"]
    assert_nil spans["root-in-session"]["parent_span_id"]
  end

  def test_session_start_reaches_server_before_its_spans
    tracer = new_tracer
    sid = tracer.with_session("ordered") { |s| tracer.trace("x") { 1 }; s }
    assert tracer.flush
    reqs = receiver.requests
    start_seq = reqs.find { |r| r["path"].end_with?("/session/start") && r["body_json"]["session"]["session_id"] == sid }["seq"]
    span_seq = reqs.find { |r| (r["spans"] || []).any? { |s| s["name"] == "x" } }["seq"]
    assert_operator start_seq, :<, span_seq
  end

  def test_enrich_session_put_events
    tracer = new_tracer
    sid = tracer.with_session("enrich-me") do |s|
      tracer.trace("inside") { tracer.enrich_session(metadata: { m: 1 }, outputs: { o: 3 }, metrics: { mm: 5 }) }
      s
    end
    tracer.enrich_session(feedback: { rating: 5 }) # default session
    tracer.enrich_session(sid, inputs: { i: 2 }, extra: "e") # explicit id
    assert tracer.flush
    puts_ = receiver.requests_to("/events", method: "PUT")
    assert_equal 3, puts_.size
    bodies = puts_.map { |r| r["body_json"] }
    in_session = bodies.find { |b| b["outputs"] }
    assert_equal sid, in_session["event_id"]
    assert_equal({ "m" => 1 }, in_session["metadata"])
    assert_equal({ "mm" => 5 }, in_session["metrics"])
    default = bodies.find { |b| b["feedback"] }
    assert_equal tracer.session_id, default["event_id"]
    explicit = bodies.find { |b| b.dig("metadata", "inputs") }
    assert_equal sid, explicit["event_id"]
    assert_equal({ "i" => 2 }, explicit["metadata"]["inputs"])
    assert_equal "e", explicit["metadata"]["extra"]
    puts_.each { |r| assert_equal "ruby", r["headers"]["hh-client-language"] }
  end

  def test_explicit_session_id_and_use_session
    tracer = new_tracer
    given = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    sid = tracer.create_session("given", session_id: given)
    assert_equal given, sid
    tracer.use_session(sid) { tracer.trace("joined") { 1 } }
    tracer.trace("explicit-arg", session_id: sid) { 1 }
    assert tracer.flush
    spans = by_name(receiver.wait_spans(2))
    assert_equal given, spans["joined"]["attributes"]["honeyhive.session_id"]
    assert_equal given, spans["explicit-arg"]["attributes"]["honeyhive.session_id"]
    err = assert_raises(HoneyHive::Error) { tracer.create_session("bad", session_id: "not-a-uuid") }
    assert_equal :invalid_argument, err.status
  end

  def test_with_session_inside_a_span_keeps_the_parent
    tracer = new_tracer
    sid = nil
    tracer.trace("outer") do
      sid = tracer.with_session("nested") { |s| tracer.trace("inner") { 1 }; s }
    end
    assert tracer.flush
    spans = by_name(receiver.wait_spans(2))
    assert_equal spans["outer"]["span_id"], spans["inner"]["parent_span_id"]
    assert_equal sid, spans["inner"]["attributes"]["honeyhive.session_id"]
    assert_equal tracer.session_id, spans["outer"]["attributes"]["honeyhive.session_id"]
  end
  def test_a_parent_from_another_tracer_gives_its_trace_not_its_session
    t1 = new_tracer(project: "proj-1")
    t2 = new_tracer(project: "proj-2")
    t1.trace("t1-root") do |root|
      assert t2.start_span("t2-child", parent: root).finish
    end
    assert t1.flush && t2.flush
    spans = by_name(receiver.wait_spans(2))
    root, child = spans.values_at("t1-root", "t2-child")
    assert_equal root["trace_id"], child["trace_id"]
    assert_equal root["span_id"], child["parent_span_id"]
    assert_equal t2.session_id, child["attributes"]["honeyhive.session_id"]
    assert_equal "proj-2", child["attributes"]["honeyhive.project"]
    refute_equal t1.session_id, t2.session_id
  end

  # Auto-create mode (skip_backend_session_creation, no session): a root SERVER span gets a
  # session of its own that its children take; a span with no session is not exported.
  def test_server_root_in_auto_create_mode_and_spans_without_a_session
    tracer = new_tracer(skip_backend_session_creation: true)
    assert_nil tracer.session_id
    assert_equal({}, tracer.inject({}), "no span and no session: nothing to continue")
    tracer.trace("no-session") { 1 }
    tracer.trace("request", kind: :server) { tracer.trace("step") { 1 } }
    tracer.trace("request-2", kind: :server) { 1 }
    assert tracer.flush
    spans = by_name(receiver.wait_spans(3))
    assert_equal %w[request request-2 step], spans.keys.sort
    sid = spans["request"]["attributes"]["honeyhive.session_id"]
    assert_match(/\A\h{8}-\h{4}-\h{4}-\h{4}-\h{12}\z/, sid)
    assert_equal sid, spans["step"]["attributes"]["honeyhive.session_id"]
    refute_equal sid, spans["request-2"]["attributes"]["honeyhive.session_id"], "a session per request"
    assert_equal true, spans["request"]["attributes"]["honeyhive.session_auto_create"]
    assert_empty receiver.requests_to("/session/start")
    stats = tracer.stats
    assert_equal 1, stats[:spans_no_session]
    assert_equal 3, stats[:spans_exported]
  end
end
