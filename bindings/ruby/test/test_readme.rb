# frozen_string_literal: true

require "test_helper"
require "rbconfig"
require "tmpdir"

# Every ```ruby block of the README runs as written (a complete program), configured only by
# HH_* variables pointing at the receiver, and sends what it shows.
class TestReadme < Minitest::Test
  include HoneyHiveTestHelpers

  README = File.expand_path("../README.md", __dir__)

  def snippets
    File.read(README).scan(/^```ruby\n(.*?)^```$/m).map(&:first)
  end

  def test_there_are_snippets
    assert_operator snippets.size, :>=, 3
  end

  def test_each_snippet_runs_and_reaches_the_receiver
    lib = File.expand_path("../lib", __dir__)
    env = { "HH_API_URL" => RECEIVER.url, "HH_API_KEY" => "readme-key" }
    Dir.mktmpdir do |dir|
      snippets.each_with_index do |code, i|
        receiver.reset
        path = File.join(dir, "snippet#{i}.rb")
        File.write(path, code)
        out = IO.popen(env, [RbConfig.ruby, "-w", "-I", lib, path], err: %i[child out], &:read)
        assert $?.success?, "README snippet #{i} failed:\n#{code}\n#{out}"
        refute_match(/warning:/, out, "README snippet #{i} warns")
        reqs = receiver.requests
        refute_empty reqs, "README snippet #{i} sent nothing"
        assert(reqs.all? { |r| r["response_status"] == 200 }, "snippet #{i}: #{reqs.map { |r| [r['path'], r['response_status']] }}")
      end
    end
  end

  def test_span_model_snippet_sends_what_it_shows
    code = snippets.find { |c| c.include?("batch.process") }
    refute_nil code
    env = { "HH_API_URL" => RECEIVER.url, "HH_API_KEY" => "readme-key" }
    out = IO.popen(env, [RbConfig.ruby, "-I", File.expand_path("../lib", __dir__), "-e", code], err: %i[child out], &:read)
    assert $?.success?, out
    spans = by_name(receiver.wait_spans(2))
    job = spans["batch.process"]
    assert_equal "SPAN_KIND_CONSUMER", job["kind"]
    assert_equal "STATUS_CODE_OK", job["status_code"]
    assert_equal [10, 20], job["attributes"]["retry.delays_ms"]
    assert_equal ["checkpoint"], job["events"].map { |e| e["name"] }
    assert_includes out, "trace #{job['trace_id']}, span #{job['span_id']}"
    assert_equal "upstream answered 503", spans["http.get"]["status_message"]
  end
  def test_events_snippet_sends_what_it_shows
    code = snippets.find { |c| c.include?("create_event") }
    refute_nil code
    env = { "HH_API_URL" => RECEIVER.url, "HH_API_KEY" => "readme-key" }
    out = IO.popen(env, [RbConfig.ruby, "-I", File.expand_path("../lib", __dir__), "-e", code], err: %i[child out], &:read)
    assert $?.success?, out
    session = receiver.requests_to("/session/start").map { |r| r["body_json"]["session"] }.find { |s| s["session_name"] == "support-chat" }
    refute_nil session
    event = receiver.requests_to("/events", method: "POST").first["body_json"]["event"]
    assert_equal ["answer", "model", session["session_id"]], event.values_at("event_name", "event_type", "session_id")
    put = receiver.requests_to("/events", method: "PUT").map { |r| r["body_json"] }.find { |b| b["event_id"] == event["event_id"] }
    assert_equal({ "rating" => 5, "comment" => "helpful" }, put["feedback"])
    assert_includes out, "session_id=#{session['session_id']}"
  end

  def run_snippet(marker)
    code = snippets.find { |c| c.include?(marker) }
    refute_nil code, marker
    env = { "HH_API_URL" => RECEIVER.url, "HH_API_KEY" => "readme-key" }
    out = IO.popen(env, [RbConfig.ruby, "-I", File.expand_path("../lib", __dir__), "-e", code], err: %i[child out], &:read)
    assert $?.success?, out
    out
  end

  def test_logger_snippet_logs_the_telemetry_error
    out = run_snippet("HoneyHive.logger =")
    assert_match(/WARN -- honeyhive: telemetry error \(ignored\): enrich: .*\(HH_ERR_SPAN_ENDED\)/, out)
    assert_includes out, "telemetry errors: 1"
    assert_equal ["answer"], receiver.wait_spans(1).map { |s| s["name"] }
  end

  def test_rack_snippet_sends_a_server_span_in_a_new_session
    out = run_snippet("Rack::Middleware.new")
    assert_includes out, "200 hello"
    spans = by_name(receiver.wait_spans(2))
    server = spans["GET /hello"]
    assert_equal "SPAN_KIND_SERVER", server["kind"]
    assert_equal "4bf92f3577b34da6a3ce929d0e0e4736", server["trace_id"]
    assert_equal server["span_id"], spans["lookup"]["parent_span_id"]
    session = receiver.requests_to("/session/start").map { |r| r["body_json"]["session"] }.find { |x| x["session_name"] == "GET /hello" }
    assert_equal session["session_id"], server["attributes"]["honeyhive.session_id"]
  end

  def test_traced_snippet_sends_inputs_and_outputs
    out = run_snippet("extend HoneyHive::Traced")
    assert_includes out, "WHAT IS TRACED (0.2)"
    spans = by_name(receiver.wait_spans(2))
    answer = spans["Assistant#answer"]["attributes"]
    assert_equal "what is traced", answer["honeyhive_inputs.question"]
    assert_equal "WHAT IS TRACED (0.2)", answer["honeyhive_outputs.result"]
    retrieve = spans["Assistant#retrieve"]["attributes"]
    assert_equal "what is traced", retrieve["honeyhive_inputs.query"]
    refute(retrieve.keys.any? { |k| k.start_with?("honeyhive_outputs") })
  end
end
