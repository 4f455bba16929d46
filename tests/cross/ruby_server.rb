# The Ruby side of the cross-language test: continues the trace carried by the headers given
# as arguments (traceparent, baggage) and traces a handler span under it.
require "honeyhive"

traceparent, baggage = ARGV
tracer = HoneyHive::Tracer.new # HH_* env vars
tracer.extract({ "traceparent" => traceparent, "baggage" => baggage }) do |remote|
  abort "no remote context extracted" unless remote
  tracer.trace("ruby.handle_request", event_type: :chain) do |span|
    tracer.trace("ruby.llm_call", event_type: :model) { |llm| llm.enrich(outputs: { text: "hi from ruby" }) }
    span.enrich(metadata: { language: "ruby" })
  end
end
exit(tracer.close(timeout: 5) ? 0 : 2)
