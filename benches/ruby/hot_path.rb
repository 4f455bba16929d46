# frozen_string_literal: true

# BENCHMARKS.md, item 4 (Ruby): the span hot path through the block API, exporting (OTLP/JSON,
# batch mode) to the loopback receiver at HH_BENCH_URL (benches/run.py starts it):
#
#   tracer.trace("llm.call", event_type: :model, session_id: sid) do |span|   # parent: the
#     span.set_attribute("model", "gpt-4o")                                   # current span
#     span.set_attribute("tokens", 42)
#     span.set_attribute("temperature", 0.7)
#   end
#
# inside a session and a root span, as the C program does it. Bursts of N spans are timed,
# each followed by an untimed flush (and a receiver reset); the figure is the median over
# bursts of microseconds per span. Prints "@@ {json}" result lines for benches/run.py.
#
#   HH_BENCH_URL=http://127.0.0.1:PORT ruby -I bindings/ruby/lib benches/ruby/hot_path.rb [rounds] [n]

require "json"
require "net/http"
require "honeyhive"

url = ENV.fetch("HH_BENCH_URL") { abort "HH_BENCH_URL is not set (run through benches/run.py)" }
rounds = Integer(ARGV[0] || 15)
n = Integer(ARGV[1] || 2000)

def report(id, value, unit, note)
  printf("  %-44s %14.3f %-10s %s\n", id, value, unit, note)
  puts "@@ #{JSON.generate(id: id, value: value, unit: unit, note: note)}"
end

def clock_ns
  Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
end

tracer = HoneyHive::Tracer.new(api_key: "bench-key", project: "bench", source: "bench",
                               server_url: url, max_queue_size: 16_384,
                               max_export_batch_size: 8192, schedule_delay_ms: 600_000)
reset = URI("#{url}/__hh/reset")
per_span = []
tracer.with_session("bench") do |sid|
  tracer.trace("request", event_type: :chain) do
    burst = lambda do
      start = clock_ns
      n.times do
        tracer.trace("llm.call", event_type: :model, session_id: sid) do |span|
          span.set_attribute("model", "gpt-4o")
          span.set_attribute("tokens", 42)
          span.set_attribute("temperature", 0.7)
        end
      end
      elapsed = clock_ns - start
      raise "flush failed: #{tracer.stats}" unless tracer.flush(timeout: 60)

      Net::HTTP.post(reset, "")
      elapsed.to_f / n
    end
    burst.call # warm-up
    rounds.times { per_span << burst.call }
  end
end
stats = tracer.stats
tracer.close
raise "spans were dropped: #{stats}" unless stats[:spans_dropped].zero?

median = per_span.sort[per_span.size / 2] / 1000.0
report("ruby.hot_us", median, "us/span",
       "Ruby block API: trace + 3 set_attribute, median of #{rounds} bursts of #{n}")
