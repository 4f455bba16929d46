# frozen_string_literal: true

require "test_helper"

# create_event / enrich_event and update_event_id, asserted on the REST calls the receiver got.
class TestEventsById < Minitest::Test
  include HoneyHiveTestHelpers

  UUID = /\A\h{8}-\h{4}-\h{4}-\h{4}-\h{12}\z/.freeze

  # The event body of a POST /events (the SDK wraps it as {"event": {...}}).
  def posted_events
    receiver.requests_to("/events", method: "POST").map { |r| r["body_json"]["event"] || r["body_json"] }
  end

  def test_create_event_in_the_current_session_and_enrich_it_later
    tracer = new_tracer
    sid = tracer.create_session("feedback-flow")
    id = tracer.use_session(sid) do
      tracer.create_event("retrieval", event_type: :tool, inputs: { q: "hi" }, outputs: { docs: 2 },
                                       metadata: { index: "v2" }, metrics: { recall: 0.5 },
                                       feedback: { ok: true }, config: { k: 3 }, duration: 12.5,
                                       error: "partial")
    end
    assert_match UUID, id
    tracer.enrich_event(id, feedback: { rating: 5, comment: "great" }, metadata: { late: true })
    assert tracer.flush
    receiver.wait_requests(3)

    event = posted_events.find { |e| e["event_name"] == "retrieval" }
    refute_nil event, receiver.requests_to("/events").inspect
    assert_equal "tool", event["event_type"]
    assert_equal sid, event["session_id"]
    assert_equal({ "q" => "hi" }, event["inputs"])
    assert_equal({ "docs" => 2 }, event["outputs"])
    assert_equal({ "index" => "v2" }, event["metadata"])
    assert_equal({ "recall" => 0.5 }, event["metrics"])
    assert_equal({ "ok" => true }, event["feedback"])
    assert_equal({ "k" => 3 }, event["config"])
    assert_equal 12.5, event["duration"]
    assert_equal "partial", event["error"]
    assert_equal "p", event["project"]
    assert_equal id, event["event_id"], "the id returned is the one sent"

    put = receiver.requests_to("/events", method: "PUT").map { |r| r["body_json"] }.find { |b| b["event_id"] == id }
    refute_nil put, "PUT /events for #{id}"
    assert_equal({ "rating" => 5, "comment" => "great" }, put["feedback"])
    assert_equal({ "late" => true }, put["metadata"])
  end

  def test_create_event_defaults_to_the_default_session
    tracer = new_tracer
    id = tracer.create_event("standalone", outputs: { text: "x" })
    assert_match UUID, id
    assert tracer.flush
    receiver.wait_requests(2)
    event = posted_events.find { |e| e["event_name"] == "standalone" }
    refute_nil event
    assert_equal tracer.session_id, event["session_id"]
    assert_equal "tool", event["event_type"], "the SDK's default type"
    starts = receiver.requests_to("/session/start").map { |r| r["body_json"]["session"]["session_id"] }
    assert_includes starts, tracer.session_id, "the default session is started before its event"
  end

  def test_bad_input_raises_and_sends_nothing
    tracer = new_tracer
    e = assert_raises(HoneyHive::Error) { tracer.enrich_event("not-a-uuid", feedback: { x: 1 }) }
    assert_includes %i[invalid_argument invalid_json], e.status
    e = assert_raises(HoneyHive::Error) { tracer.create_event("bad", event_type: :sideways) }
    assert_includes %i[invalid_argument invalid_json], e.status
    e = assert_raises(HoneyHive::Error) { tracer.create_event("bad", metadata: { b: "\xff".b.force_encoding("UTF-8") }) }
    assert_equal :invalid_json, e.status
    assert tracer.flush
    assert_empty receiver.requests_to("/events")
  end

  def test_update_event_id_in_span_enrichment
    tracer = new_tracer
    id = tracer.create_event("placeholder")
    tracer.trace("the-real-work") { |span| span.enrich(update_event_id: id, metadata: { m: 1 }) }
    assert tracer.flush
    attrs = receiver.wait_spans(1).first["attributes"]
    assert_equal id, attrs["honeyhive_event_id"]
    assert_equal 1, attrs["honeyhive_metadata.m"]
  end
end
