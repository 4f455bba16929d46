# frozen_string_literal: true

require "test_helper"

class TestPropagation < Minitest::Test
  include HoneyHiveTestHelpers

  def test_inject_extract_round_trip_across_tracers
    client = new_tracer(source: "client-svc")
    server = new_tracer(source: "server-svc")
    headers = nil
    client_sid = client.with_session("distributed") do |sid|
      client.trace("client.call") do |span|
        headers = client.inject({ "accept" => "*/*" })
        assert_equal "*/*", headers["accept"]
        assert_equal span.traceparent, headers["traceparent"]
        assert_includes headers["baggage"], "session_id=#{sid}"
      end
      sid
    end
    assert_match(/\A00-\h{32}-\h{16}-\h{2}\z/, headers["traceparent"])

    # Rack env spelling on the server side.
    env = { "HTTP_TRACEPARENT" => headers["traceparent"], "HTTP_BAGGAGE" => headers["baggage"] }
    result = server.extract(env) do |remote|
      assert remote.remote?
      assert_equal client_sid, remote.session_id
      server.trace("server.handle") { server.trace("server.db") { :done } }
    end
    assert_equal :done, result
    assert_nil server.current_span, "remote parent released after the block"
    assert client.flush && server.flush

    spans = by_name(receiver.wait_spans(3))
    call, handle, db = spans.values_at("client.call", "server.handle", "server.db")
    assert_equal call["trace_id"], handle["trace_id"]
    assert_equal call["trace_id"], db["trace_id"]
    assert_equal call["span_id"], handle["parent_span_id"]
    assert_equal handle["span_id"], db["parent_span_id"]
    assert_equal client_sid, handle["attributes"]["honeyhive.session_id"]
    assert_equal client_sid, db["attributes"]["honeyhive.session_id"]
  end

  def test_extract_header_case_and_without_baggage
    tracer = new_tracer
    tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    tracer.extract({ "Traceparent" => tp }) { tracer.trace("continued") { 1 } }
    assert tracer.flush
    span = receiver.wait_spans(1).first
    assert_equal "0af7651916cd43dd8448eb211c80319c", span["trace_id"]
    assert_equal "b7ad6b7169203331", span["parent_span_id"]
    assert_equal tracer.session_id, span["attributes"]["honeyhive.session_id"]
  end

  def test_missing_or_malformed_traceparent_is_ignored
    tracer = new_tracer
    assert_equal 1, tracer.extract({}) { |remote| assert_nil remote; 1 }
    assert_equal 2, tracer.extract({ "traceparent" => "garbage" }) { |remote| assert_nil remote; 2 }
    assert_nil tracer.extract(nil)
    tracer.extract({ "traceparent" => "nope" }) { tracer.trace("fresh-root") { 1 } }
    assert tracer.flush
    assert_nil receiver.wait_spans(1).first["parent_span_id"]
  end

  def test_inject_without_a_span_carries_the_session
    tracer = new_tracer
    headers = tracer.inject({})
    assert_equal ["baggage"], headers.keys, "no span: no traceparent"
    assert_equal tracer.session_id, HoneyHive.baggage_session_id(headers["baggage"])
    assert_includes headers["baggage"], "project=p"

    sid = tracer.create_session("handed-over")
    assert_equal sid, HoneyHive.baggage_session_id(tracer.use_session(sid) { tracer.inject["baggage"] })
    explicit = tracer.trace("ignored-span") { tracer.inject({}, session_id: sid) }
    assert_equal ["baggage"], explicit.keys
    assert_equal sid, HoneyHive.baggage_session_id(explicit["baggage"])
    e = assert_raises(HoneyHive::Error) { tracer.inject({}, session_id: "not a session") }
    assert_equal :invalid_argument, e.status
  end

  def test_session_carrier_continues_the_session_in_another_service
    client = new_tracer(source: "client-svc")
    server = new_tracer(source: "server-svc")
    sid = client.create_session("cross-service")
    headers = client.use_session(sid) { client.inject }
    env = { "HTTP_BAGGAGE" => headers["baggage"] }
    value = server.extract(env) do |remote|
      assert_nil remote, "no traceparent: no remote parent"
      assert_equal sid, server.current_session_id
      server.trace("server.handle") { :handled }
    end
    assert_equal :handled, value
    assert_equal server.session_id, server.current_session_id, "session released after the block"
    # A baggage session that is not a UUID (or is not text) is ignored, never raised.
    ["session_id=not-a-uuid", "session_id=%FF%00", "\xff\xfe;=,".b].each do |bad|
      seen = server.extract("baggage" => bad) { |remote| [remote, server.current_session_id] }
      assert_equal [nil, server.session_id], seen, bad.inspect
    end
    assert server.flush
    span = receiver.wait_spans(1).first
    assert_equal sid, span["attributes"]["honeyhive.session_id"]
    assert_nil span["parent_span_id"]
  end

  def test_extract_without_block
    tracer = new_tracer
    remote = tracer.extract("traceparent" => "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    tracer.with_span(remote) { tracer.trace("child-of-remote") { 1 } }
    assert remote.finish
    assert tracer.flush
    assert_equal "b7ad6b7169203331", receiver.wait_spans(1).first["parent_span_id"]
  end
end
