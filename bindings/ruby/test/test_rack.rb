# frozen_string_literal: true

require "test_helper"

# HoneyHive::Rack::Middleware with plain Rack env hashes and a lambda app (no rack gem), and
# inside a real Rack::Builder stack when the rack gem is installed.
class TestRack < Minitest::Test
  include HoneyHiveTestHelpers

  TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
  CALLER_SESSION = "0b9d5c3e-7a41-4f0e-9c51-2f4a6d8e1b70"

  def env_for(method, path, headers = {})
    { "REQUEST_METHOD" => method, "SCRIPT_NAME" => "", "PATH_INFO" => path, "QUERY_STRING" => "",
      "rack.url_scheme" => "http", "HTTP_HOST" => "app.test:9292", "SERVER_NAME" => "app.test" }.merge(headers)
  end

  def sessions_started
    receiver.requests_to("/session/start").map { |r| r["body_json"]["session"] }
  end

  def test_one_session_and_a_server_span_per_request
    tracer = new_tracer
    seen = []
    app = lambda do |env|
      seen << [tracer.current_session_id, tracer.current_span&.span_id]
      tracer.trace("handler-work") { 1 }
      [200, { "content-type" => "text/plain" }, ["hi #{env['PATH_INFO']}"]]
    end
    mw = HoneyHive::Rack::Middleware.new(app, tracer: tracer)
    status, headers, body = mw.call(env_for("GET", "/chat/42", "HTTP_USER_AGENT" => "curl/8"))
    assert_equal [200, { "content-type" => "text/plain" }, ["hi /chat/42"]], [status, headers, body]
    assert_equal 200, mw.call(env_for("POST", "/orders")).first
    assert tracer.flush
    spans = receiver.wait_spans(4)
    servers = spans.select { |s| s["kind"] == "SPAN_KIND_SERVER" }
    assert_equal ["GET /chat/42", "POST /orders"], servers.map { |s| s["name"] }.sort
    get = servers.find { |s| s["name"] == "GET /chat/42" }
    assert_equal 200, get["attributes"]["http.response.status_code"]
    assert_equal "GET", get["attributes"]["http.request.method"]
    assert_equal "/chat/42", get["attributes"]["url.path"]
    assert_equal "app.test", get["attributes"]["server.address"]
    assert_equal "curl/8", get["attributes"]["user_agent.original"]
    refute_equal "STATUS_CODE_ERROR", get["status_code"]
    assert_nil get["parent_span_id"]
    # Each request got its own session, current during the call.
    started = sessions_started.select { |s| s["session_name"].start_with?("GET ", "POST ") }
    assert_equal ["GET /chat/42", "POST /orders"], started.map { |s| s["session_name"] }.sort
    ids = servers.map { |s| s["attributes"]["honeyhive.session_id"] }
    assert_equal started.map { |s| s["session_id"] }.sort, ids.sort
    assert_equal ids.sort, seen.map(&:first).sort
    assert_includes seen.map(&:last), get["span_id"]
    work = spans.select { |s| s["name"] == "handler-work" }
    assert_equal servers.map { |s| s["span_id"] }.sort, work.map { |s| s["parent_span_id"] }.sort
    assert_nil tracer.current_span, "nothing stays current after the request"
  end

  def test_continues_incoming_traceparent_and_baggage_session
    tracer = new_tracer
    app = ->(_env) { [204, {}, []] }
    env = env_for("GET", "/continued", "HTTP_TRACEPARENT" => TRACEPARENT,
                                       "HTTP_BAGGAGE" => "session_id=#{CALLER_SESSION}")
    HoneyHive::Rack::Middleware.new(app, tracer: tracer).call(env)
    assert tracer.flush
    span = receiver.wait_spans(1).first
    assert_equal "4bf92f3577b34da6a3ce929d0e0e4736", span["trace_id"]
    assert_equal "00f067aa0ba902b7", span["parent_span_id"]
    assert_equal CALLER_SESSION, span["attributes"]["honeyhive.session_id"]
    assert_empty(sessions_started.reject { |s| s["session_id"] == tracer.session_id }, "no new session for a continued one")
  end

  def test_5xx_and_exceptions_are_errors
    tracer = new_tracer
    failing = HoneyHive::Rack::Middleware.new(->(_env) { [503, {}, ["down"]] }, tracer: tracer)
    assert_equal 503, failing.call(env_for("GET", "/down")).first
    raising = HoneyHive::Rack::Middleware.new(->(_env) { raise KeyError, "no such order" }, tracer: tracer)
    err = assert_raises(KeyError) { raising.call(env_for("GET", "/boom")) }
    assert_equal "no such order", err.message
    assert tracer.flush
    spans = by_name(receiver.wait_spans(2))
    assert_equal "STATUS_CODE_ERROR", spans["GET /down"]["status_code"]
    assert_equal "HTTP 503", spans["GET /down"]["status_message"]
    assert_equal 503, spans["GET /down"]["attributes"]["http.response.status_code"]
    boom = spans["GET /boom"]
    assert_equal "STATUS_CODE_ERROR", boom["status_code"]
    assert_equal ["exception"], boom["events"].map { |e| e["name"] }
  end

  def test_named_after_the_framework_route
    tracer = new_tracer
    sinatra = lambda do |env|
      env["sinatra.route"] = "GET /orders/:id"
      [200, {}, []]
    end
    rails = lambda do |env|
      env["action_dispatch.route_uri_pattern"] = "/users/:id(.:format)"
      [200, {}, []]
    end
    HoneyHive::Rack::Middleware.new(sinatra, tracer: tracer).call(env_for("GET", "/orders/7"))
    HoneyHive::Rack::Middleware.new(rails, tracer: tracer).call(env_for("PATCH", "/users/3"))
    assert tracer.flush
    spans = by_name(receiver.wait_spans(2))
    assert_equal "/orders/:id", spans["GET /orders/:id"]["attributes"]["http.route"]
    assert_equal "/orders/7", spans["GET /orders/:id"]["attributes"]["url.path"]
    assert_equal "/users/:id", spans["PATCH /users/:id"]["attributes"]["http.route"]
  end

  def test_a_closed_tracer_still_serves_the_request
    tracer = new_tracer
    tracer.close(timeout: 2)
    mw = HoneyHive::Rack::Middleware.new(->(_env) { [200, {}, ["ok"]] }, tracer: tracer)
    response = assert_telemetry_error(tracer, :tracer_closed, count: 2) { mw.call(env_for("GET", "/")) }
    assert_equal [200, {}, ["ok"]], response
    # Continuing an incoming trace on a closed tracer: still served, reported, never raised.
    continued = assert_telemetry_error(tracer, :tracer_closed, count: 3) do
      mw.call(env_for("GET", "/", "HTTP_TRACEPARENT" => TRACEPARENT))
    end
    assert_equal [200, {}, ["ok"]], continued
  end

  def test_inside_a_rack_builder_stack
    begin
      require "rack"
      require "rack/mock"
    rescue LoadError
      skip "the rack gem is not installed (apt-get install ruby-rack)"
    end
    tracer = new_tracer
    app = ::Rack::Builder.new do
      use HoneyHive::Rack::Middleware, tracer: tracer
      map "/api" do
        run ->(env) { [418, { "content-type" => "text/plain" }, ["teapot #{env['PATH_INFO']}"]] }
      end
    end.to_app
    response = ::Rack::MockRequest.new(app).get("/api/tea", "HTTP_TRACEPARENT" => TRACEPARENT)
    assert_equal 418, response.status
    assert_equal "teapot /tea", response.body
    assert tracer.flush
    span = receiver.wait_spans(1).first
    assert_equal "GET /api/tea", span["name"]
    assert_equal 418, span["attributes"]["http.response.status_code"]
    assert_equal "4bf92f3577b34da6a3ce929d0e0e4736", span["trace_id"]
  end
end
