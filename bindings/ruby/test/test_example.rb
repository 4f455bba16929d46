# frozen_string_literal: true

require "test_helper"
require "rbconfig"

# Runs examples/ruby/main.rb against the receiver, configured only by HH_* variables.
class TestExample < Minitest::Test
  include HoneyHiveTestHelpers

  EXAMPLE = File.expand_path("../../../examples/ruby/main.rb", __dir__)

  def test_example_sends_three_sessions
    env = { "HH_API_URL" => RECEIVER.url, "HH_API_KEY" => "test", "HH_PROJECT" => "ruby-example",
            "HH_EXPORTER" => nil, "HH_TEST_MODE" => nil }
    out = IO.popen(env, [RbConfig.ruby, EXAMPLE], err: %i[child out], &:read)
    assert $?.success?, "example failed: #{out}"
    assert_equal 3, out.scan(/^request \d: 200 /).size, out
    assert_includes out, "delivered=true"

    spans = receiver.spans
    assert_equal 14, spans.size
    session_ids = spans.map { |s| s["attributes"]["honeyhive.session_id"] }.uniq
    assert_equal 3, session_ids.size, "one session per request (the third continues the caller's)"

    starts = receiver.requests_to("/session/start").map { |r| r["body_json"]["session"] }
    session_ids.each do |sid|
      assert(starts.any? { |s| s["session_id"] == sid }, "session #{sid} was started")
    end
    assert_equal 2, starts.count { |s| s["session_name"] == "chat-request" }
    assert(starts.all? { |s| s["project"] == "ruby-example" })

    by = spans.group_by { |s| s["name"] }
    assert_equal 3, by["chat.handle"].size
    by["chat.handle"].each { |s| assert_equal "SPAN_KIND_SERVER", s["kind"] }
    assert_equal 3, by["llm.chat"].size
    by["llm.chat"].each { |s| assert_equal "model", s["attributes"]["honeyhive_event_type"] }
    assert_equal 1, by["tool.get_weather"].size
    # Request 3 continued the caller's trace and session.
    client = by["client.ask"].first
    continued = by["chat.handle"].find { |s| s["parent_span_id"] == client["span_id"] }
    refute_nil continued
    assert_equal client["trace_id"], continued["trace_id"]
    assert_equal client["attributes"]["honeyhive.session_id"], continued["attributes"]["honeyhive.session_id"]
    # Every step hangs off its request's chat.handle span.
    by["chat.handle"].each do |root|
      children = spans.select { |s| s["parent_span_id"] == root["span_id"] }.map { |s| s["name"] }
      assert_equal %w[build_prompt llm.chat retrieve], (children - ["tool.get_weather"]).sort
    end

    enrich = receiver.requests_to("/events", method: "PUT").map { |r| r["body_json"] }
    assert_equal 3, enrich.size
    assert_equal session_ids.sort, enrich.map { |b| b["event_id"] }.sort
    receiver.requests.each { |r| assert_equal "ruby", r["headers"]["hh-client-language"] }
  end

  def test_example_runs_offline_with_console_exporter
    env = { "HH_EXPORTER" => "console", "HH_API_KEY" => nil, "HH_API_URL" => nil }
    out = IO.popen(env, [RbConfig.ruby, EXAMPLE], err: %i[child out], &:read)
    assert $?.success?, out
    assert_includes out, "[honeyhive] span \"llm.chat\""
    assert_includes out, "delivered=true"
  end
end
