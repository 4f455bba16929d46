# frozen_string_literal: true

# Runs ChatApp on three simulated HTTP requests, in-process (no web server needed), then
# closes the tracer. Configuration comes from HH_* environment variables:
#
#   HH_API_KEY=... HH_PROJECT=... ruby examples/ruby/main.rb        # to HoneyHive
#   HH_EXPORTER=console ruby examples/ruby/main.rb                  # spans on stderr, no account
#   HH_EXPORTER=file HH_EXPORT_FILE=/tmp/spans.jsonl ruby examples/ruby/main.rb
#   HH_API_URL=http://127.0.0.1:PORT HH_API_KEY=test ruby ...       # a local receiver
#
# Inside the repository the binding is loaded from bindings/ruby/lib; with the gem installed,
# `require "honeyhive"` finds it.

repo_lib = File.expand_path("../../bindings/ruby/lib", __dir__)
$LOAD_PATH.unshift(repo_lib) if File.directory?(repo_lib)
require "honeyhive"
require "stringio"
require_relative "chat_app"

config = {}
if %w[HH_API_KEY HH_EXPORTER HH_TEST_MODE].none? { |v| ENV[v] && !ENV[v].empty? }
  warn "no HH_API_KEY or HH_EXPORTER set: printing spans to stderr (HH_EXPORTER=console)"
  config[:exporter] = "console"
end

begin
  tracer = HoneyHive::Tracer.new(**config)
rescue HoneyHive::Error => e
  warn "cannot start the tracer (#{e.status}): #{e.message}"
  exit 1
end

app = ChatApp.new(tracer)

def rack_env(body, headers = {})
  env = { "REQUEST_METHOD" => "POST", "PATH_INFO" => "/chat",
          "CONTENT_TYPE" => "application/json", "rack.input" => StringIO.new(JSON.generate(body)) }
  headers.each { |k, v| env["HTTP_#{k.upcase.tr('-', '_')}"] = v }
  env
end

def show(label, response)
  status, _headers, body = response
  puts "#{label}: #{status} #{body.join}"
  raise "#{label} failed" unless status == 200
end

# 1 and 2: plain requests, a new session each.
show("request 1", app.call(rack_env({ question: "What does a session group?" })))
show("request 2", app.call(rack_env({ question: "What is the weather in Paris?" })))

# 3: a caller (simulated here with the same tracer) that already has a session and a span;
# its traceparent + baggage make the app continue the caller's trace and session.
tracer.with_session("upstream-client", metadata: { client: "cli" }) do
  tracer.trace("client.ask", event_type: :chain) do
    headers = tracer.inject({})
    show("request 3", app.call(rack_env({ question: "How do traces continue across services?" }, headers)))
  end
end

delivered = tracer.close(timeout: 10)
stats = tracer.stats
puts "closed: delivered=#{delivered} spans_exported=#{stats[:spans_exported]} dropped=#{stats[:spans_dropped]}"
exit(delivered ? 0 : 1)
