# frozen_string_literal: true

require "test_helper"
require "stringio"
require "logger"
require "rbconfig"

# The library's diagnostics reach a Ruby Logger (process-wide or per tracer), also from the
# library's own threads and in a forked child, with the API key redacted.
class TestDiagnostics < Minitest::Test
  include HoneyHiveTestHelpers

  KEY = "hh-ruby-log-key-Zq8v7Lw2Nf5Rt1Yx"

  def keyed_tracer(**extra)
    tracer = HoneyHive::Tracer.new(api_key: KEY, project: "p", server_url: RECEIVER.url,
                                   schedule_delay_ms: 50, **extra)
    @tracers << tracer
    tracer
  end

  # One span exported into a 400 answer that echoes the key (the warning is logged by the
  # library's export thread, not a Ruby thread).
  def fail_one_export(tracer, name)
    assert tracer.flush(timeout: 10)
    receiver.fault(mode: "status", status: 400, times: 1, path_prefix: "/opentelemetry",
                   body: "{\"error\":\"bad key #{KEY}\"}")
    tracer.trace(name) { 1 }
    refute tracer.flush(timeout: 10)
    receiver.post("/__hh/clear_fault")
  end

  # The line is written by a Ruby thread that ffi starts for the library's call: it arrives
  # soon after the flush that saw the failure, not necessarily before it returns.
  def wait_for(io, text, count = 1)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 20
    sleep 0.01 until io.string.scan(text).size >= count || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
    io.string
  end

  def test_failing_receiver_warning_reaches_the_tracer_logger_with_the_key_redacted
    io = StringIO.new
    tracer = keyed_tracer(logger: Logger.new(io))
    fail_one_export(tracer, "refused")
    wait_for(io, "export of 1 spans failed")
    line = io.string.lines.find { |l| l.include?("export of 1 spans failed") }
    refute_nil line, "no export warning in:\n#{io.string}"
    assert_match(/\AW, .* WARN -- honeyhive: \[honeyhive tracer \d+\] warning: export of 1 spans failed: HTTP 400/, line)
    assert_includes line, "bad key"
    refute_includes io.string, "Zq8v7Lw2Nf5Rt1Yx"
  end

  def test_process_wide_logger_and_per_tracer_logger
    global = StringIO.new
    own = StringIO.new
    previous = HoneyHive.logger
    HoneyHive.logger = Logger.new(global)
    begin
      mine = keyed_tracer(logger: Logger.new(own))
      other = keyed_tracer
      fail_one_export(mine, "mine")
      fail_one_export(other, "other")
      wait_for(own, "export of 1 spans failed")
      wait_for(global, "export of 1 spans failed")
      assert_equal 1, own.string.scan("export of 1 spans failed").size, own.string
      assert_equal 1, global.string.scan("export of 1 spans failed").size, global.string
      # Back to the process-wide logger once the tracer's own is removed.
      mine.logger = nil
      fail_one_export(mine, "mine-again")
      wait_for(global, "export of 1 spans failed", 2)
      assert_equal 2, global.string.scan("export of 1 spans failed").size, global.string
      refute_includes global.string + own.string, "Zq8v7Lw2Nf5Rt1Yx"
    ensure
      HoneyHive.logger = previous
    end
  end

  # ffi >= 1.16 starts a new callback dispatcher in the child: the lines reach the Logger
  # there. Older ffi cannot take calls from the library's threads after a fork: the child's
  # lines go to stderr instead, and nothing hangs.
  def test_lines_of_a_forked_child_reach_its_logger_or_stderr
    skip "no fork" unless Process.respond_to?(:fork)
    tracer = keyed_tracer
    tracer.trace("before-fork") { 1 }
    assert tracer.flush(timeout: 10)
    reader, writer = IO.pipe
    err_reader, err_writer = IO.pipe
    pid = fork do
      reader.close
      err_reader.close
      $stderr.reopen(err_writer)
      io = StringIO.new
      tracer.logger = Logger.new(io)
      fail_one_export(tracer, "in-child")
      wait_for(io, "export of 1 spans failed") if HoneyHive::Diagnostics::FORK_SAFE
      writer.write(io.string)
      writer.close
      exit!(0)
    rescue Exception => e # rubocop:disable Lint/RescueException
      writer.write("child failed: #{e.class}: #{e.message}")
      exit!(1)
    end
    writer.close
    err_writer.close
    out = reader.read
    err = err_reader.read
    _, status = Process.wait2(pid)
    assert status.success?, out
    where = HoneyHive::Diagnostics::FORK_SAFE ? out : err
    assert_includes where, "export of 1 spans failed"
    refute_includes out + err, "Zq8v7Lw2Nf5Rt1Yx"
    # The parent's lines still reach its Logger.
    io = StringIO.new
    tracer.logger = Logger.new(io)
    fail_one_export(tracer, "in-parent")
    assert_includes wait_for(io, "export of 1 spans failed"), "export of 1 spans failed"
  end

  # A process that exits with an unclosed tracer whose export fails: the exit flush's warning
  # is written (to the Logger while Ruby's threads run, else stderr), the key stays out, and
  # the process ends normally (no line waits for a Ruby thread that exit already stopped).
  def test_exit_with_an_open_tracer_and_a_failing_receiver
    receiver.fault(mode: "status", status: 400, times: 100, path_prefix: "/opentelemetry",
                   body: "{\"error\":\"bad key #{KEY}\"}")
    code = <<~RUBY
      require "honeyhive"
      HoneyHive.logger = Logger.new($stdout)
      dropped = HoneyHive::Tracer.new(api_key: "#{KEY}", project: "p", server_url: "#{RECEIVER.url}",
                                      schedule_delay_ms: 60_000, logger: Logger.new($stdout))
      dropped.trace("at-exit") { 1 }
      HoneyHive::Tracer.new(api_key: "#{KEY}", project: "p", server_url: "#{RECEIVER.url}").trace("gc") { 1 }
      puts "main done"
    RUBY
    out = IO.popen([RbConfig.ruby, "-I", File.expand_path("../lib", __dir__), "-e", code], err: %i[child out], &:read)
    assert $?.success?, out
    assert_includes out, "main done"
    assert_includes out, "export of 1 spans failed"
    refute_includes out, "Zq8v7Lw2Nf5Rt1Yx"
  end

  def test_a_raising_logger_does_not_break_export
    bad = Object.new
    def bad.add(*)
      raise "logger broke"
    end
    %i[warn info debug error].each { |m| bad.define_singleton_method(m) { |*| raise "logger broke" } }
    tracer = keyed_tracer(logger: bad)
    fail_one_export(tracer, "refused")
    tracer.trace("after") { 1 }
    assert tracer.flush(timeout: 10)
    assert_includes receiver.spans.map { |s| s["name"] }, "after"
  end
end
