# frozen_string_literal: true

# Ends a Ruby program without closing its tracer: the binding's at_exit hook flushes it.
#   ruby -I bindings/ruby/lib exit_no_close.rb <server_url> <prefix> [n]
require "honeyhive"

url, prefix, n = ARGV[0], ARGV[1], Integer(ARGV[2] || 20)
tracer = HoneyHive::Tracer.new(api_key: "ruby-exit-key", project: "ruby-exit", server_url: url,
                               schedule_delay_ms: 600_000)
tracer.with_session("ruby-exit") do
  n.times { |i| tracer.trace("#{prefix}#{i}") { |span| span.enrich(metadata: { i: i }) } }
end
puts "ENDED #{n}"
puts format("RETURNING %.3f", Process.clock_gettime(Process::CLOCK_MONOTONIC) * 1000.0)
$stdout.flush
# no tracer.close: at_exit does it
