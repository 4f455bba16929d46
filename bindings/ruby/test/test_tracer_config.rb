# frozen_string_literal: true

require "test_helper"
require "rbconfig"
require "tmpdir"

# Tracer configuration: the default session's name, service and resource attributes (with the
# Ruby runtime set by the binding), link_carrier.
class TestTracerConfig < Minitest::Test
  include HoneyHiveTestHelpers

  def start_bodies
    receiver.requests_to("/session/start").map { |r| r["body_json"]["session"] }
  end

  def with_env(vars)
    saved = vars.keys.to_h { |k| [k, ENV[k]] }
    vars.each { |k, v| ENV[k] = v }
    yield
  ensure
    saved.each { |k, v| ENV[k] = v }
  end

  def test_default_session_is_named_after_the_script
    tracer = new_tracer
    tracer.trace("uses-default") { 1 }
    assert tracer.flush
    start = start_bodies.find { |s| s["session_id"] == tracer.session_id }
    refute_nil start
    assert_equal File.basename($PROGRAM_NAME), start["session_name"]
    assert_equal "test_tracer_config.rb", start["session_name"]
  end

  def test_script_name_in_a_separate_program_and_overrides
    Dir.mktmpdir do |dir|
      script = File.join(dir, "nightly_job.rb")
      File.write(script, <<~RUBY)
        require "honeyhive"
        t = HoneyHive::Tracer.new(api_key: "k", project: "p", server_url: ARGV[0], **(ARGV[1] ? { session_name: ARGV[1] } : {}))
        t.trace("job") { 1 }
        exit(t.close(timeout: 5) ? 0 : 1)
      RUBY
      lib = File.expand_path("../lib", __dir__)
      run = lambda do |env, *args|
        out = IO.popen(env, [RbConfig.ruby, "-I", lib, script, RECEIVER.url, *args], err: %i[child out], &:read)
        assert $?.success?, out
      end
      run.call({ "HH_SESSION_NAME" => nil })
      run.call({ "HH_SESSION_NAME" => "from-env" })
      run.call({ "HH_SESSION_NAME" => "from-env" }, "given")
    end
    assert_equal %w[nightly_job.rb from-env given], start_bodies.map { |s| s["session_name"] }
  end

  def test_service_name_and_resource_attributes_with_the_ruby_runtime
    tracer = new_tracer(service_name: "svc-rb",
                        resource_attributes: { "deployment.environment" => "test", team_size: 3, "canary" => true })
    overriding = new_tracer(resource_attributes: { "process.runtime.name" => "custom-ruby" })
    tracer.trace("resource") { 1 }
    overriding.trace("overridden") { 1 }
    assert tracer.flush && overriding.flush
    spans = by_name(receiver.wait_spans(2))
    r = spans["resource"]["resource"]
    assert_equal "svc-rb", r["service.name"]
    assert_equal "test", r["deployment.environment"]
    assert_equal 3, r["team_size"]
    assert_equal true, r["canary"]
    assert_equal "ruby", r["process.runtime.name"]
    assert_equal RUBY_VERSION, r["process.runtime.version"]
    assert_equal RUBY_DESCRIPTION, r["process.runtime.description"]
    assert_equal "custom-ruby", spans["overridden"]["resource"]["process.runtime.name"]
    assert_equal RUBY_VERSION, spans["overridden"]["resource"]["process.runtime.version"]
  end

  def test_otel_resource_attributes_beat_the_binding_and_config_beats_them
    tracer = with_env("OTEL_RESOURCE_ATTRIBUTES" => "process.runtime.version=9.9.9,env.only=yes,both=env") do
      new_tracer(resource_attributes: { "both" => "config" })
    end
    tracer.trace("env-resource") { 1 }
    assert tracer.flush
    r = receiver.wait_spans(1).first["resource"]
    assert_equal "9.9.9", r["process.runtime.version"]
    assert_equal "ruby", r["process.runtime.name"]
    assert_equal "yes", r["env.only"]
    assert_equal "config", r["both"]
  end

  def test_link_carrier_continues_a_remote_trace_and_session
    remote_sid = "6f0c1f3e-2b6a-4c0e-9a53-3f1a2b4c5d6e"
    tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    tracer = new_tracer(link_carrier: { "Traceparent" => tp, "Baggage" => "session_id=#{remote_sid},project=p" })
    rack = new_tracer(link_carrier: { "HTTP_TRACEPARENT" => tp })
    assert_equal remote_sid, tracer.session_id
    tracer.trace("continues") { tracer.trace("inner") { 1 } }
    rack.trace("rack-continues") { 1 }
    assert tracer.flush && rack.flush
    spans = by_name(receiver.wait_spans(3))
    root = spans["continues"]
    assert_equal "4bf92f3577b34da6a3ce929d0e0e4736", root["trace_id"]
    assert_equal "00f067aa0ba902b7", root["parent_span_id"]
    assert_equal remote_sid, root["attributes"]["honeyhive.session_id"]
    assert_equal root["span_id"], spans["inner"]["parent_span_id"]
    assert_equal remote_sid, spans["inner"]["attributes"]["honeyhive.session_id"]
    assert_equal "4bf92f3577b34da6a3ce929d0e0e4736", spans["rack-continues"]["trace_id"]
    assert_equal rack.session_id, spans["rack-continues"]["attributes"]["honeyhive.session_id"]
  end

  def test_link_carrier_without_headers_is_no_carrier
    tracer = new_tracer(link_carrier: { "accept" => "*/*" })
    tracer.trace("fresh") { 1 }
    assert tracer.flush
    assert_nil receiver.wait_spans(1).first["parent_span_id"]
  end
end
