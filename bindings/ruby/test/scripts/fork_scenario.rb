# frozen_string_literal: true

# Fork scenario, run as its own process by test_fork.rb (so the child can exit normally,
# through at_exit hooks and finalizers). Prints one JSON line with what happened.
#   ruby fork_scenario.rb RECEIVER_URL MODE   (MODE: queued | load)
$LOAD_PATH.unshift File.expand_path("../../lib", __dir__)
require "honeyhive"
require "json"

url, mode = ARGV
mode ||= "queued"
delay = mode == "queued" ? 60_000 : 5 # queued: pre-fork spans sit in the parent's queue
tracer = HoneyHive::Tracer.new(api_key: "test-key", project: "p", server_url: url,
                               schedule_delay_ms: delay)
report = { "parent_pid" => Process.pid, "children" => [] }

3.times do |i|
  tracer.trace("before-fork-#{i}") { |s| s.set_attribute("pid", Process.pid) }
end
report["queued_at_fork"] = tracer.stats[:queue_len]

# load: a thread keeps tracing (and the runtime keeps exporting) while we fork.
stop = false
busy = nil
if mode == "load"
  busy = Thread.new do
    n = 0
    until stop
      tracer.trace("busy-#{n}") { |s| s.set_attribute("pid", Process.pid) }
      n += 1
      sleep 0.001 # steady traffic, well under the export rate (no queue-full drops)
    end
  end
  sleep 0.05
end

forks = mode == "load" ? 5 : 1
forks.times do |k|
  child = fork do
    ok = tracer.trace("in-child-#{k}") do |s|
      s.set_attribute("pid", Process.pid)
      tracer.trace("in-child-#{k}-nested") { |c| c.set_attribute("pid", Process.pid) }
      :traced
    end
    flushed = tracer.flush(timeout: 5)
    stats = tracer.stats
    closed = tracer.close(timeout: 5)
    warn "child #{Process.pid}: flush=#{flushed} close=#{closed} stats=#{stats}" unless flushed && closed
    exit(flushed && closed && ok == :traced ? 0 : 1)
  end
  # Bound the wait: a deadlocked child must fail the test, not hang it.
  waited = nil
  100.times do
    waited = Process.waitpid2(child, Process::WNOHANG)
    break if waited

    sleep 0.1
  end
  unless waited
    Process.kill(:KILL, child)
    waited = Process.waitpid2(child)
    report["hung_children"] = (report["hung_children"] || 0) + 1
  end
  report["children"] << { "pid" => child, "status" => waited[1].exitstatus,
                          "signaled" => waited[1].signaled? }
end

stop = true
busy&.join
tracer.trace("after-fork-parent") { |s| s.set_attribute("pid", Process.pid) }
report["parent_flush"] = tracer.flush(timeout: 10)
report["parent_stats"] = tracer.stats
report["parent_close"] = tracer.close(timeout: 5)
puts JSON.generate(report)
