# frozen_string_literal: true

require "test_helper"
require "rbconfig"

# Fork after init (Puma/Unicorn preload): the scenario runs in its own process
# (test/scripts/fork_scenario.rb), whose children exit normally (at_exit hooks, finalizers).
class TestFork < Minitest::Test
  include HoneyHiveTestHelpers

  SCRIPT = File.expand_path("scripts/fork_scenario.rb", __dir__)

  # Runs a scenario once per test process; returns [report, spans, requests].
  def self.scenario(mode)
    @scenarios ||= {}
    @scenarios[mode] ||= begin
      RECEIVER.reset
      out = IO.popen([RbConfig.ruby, SCRIPT, RECEIVER.url, mode], &:read)
      raise "fork scenario #{mode} failed (exit #{$?.exitstatus}): #{out}" unless $?.success?

      report = JSON.parse(out.lines.last)
      RECEIVER.wait_spans(report["parent_stats"]["spans_exported"] + report["children"].size * 2)
      sleep 0.2 # late duplicates, if any, would arrive now
      [report, RECEIVER.spans, RECEIVER.requests]
    end
  end

  def setup
    @tracers = [] # the receiver is reset once per scenario, not per test
  end

  def pid_of(span)
    span["attributes"]["honeyhive_metadata.pid"]
  end

  def test_fork_queued_spans_are_sent_once_and_both_processes_work
    report, spans, requests = self.class.scenario("queued")
    parent = report["parent_pid"]
    child = report["children"].first
    assert_equal 3, report["queued_at_fork"], "spans were queued in the parent at fork time"
    assert_equal 0, child["status"], "child traced, flushed, closed and exited 0"
    assert report["parent_flush"]
    assert_equal [parent, child["pid"]].sort, spans.map { |s| pid_of(s) }.uniq.sort

    before = spans.select { |s| s["name"].start_with?("before-fork-") }
    assert_equal %w[before-fork-0 before-fork-1 before-fork-2], before.map { |s| s["name"] }.sort,
                 "the parent's queued spans arrive exactly once (the child dropped its copy)"
    before.each { |s| assert_equal parent, pid_of(s) }
    child_spans = spans.select { |s| s["name"].start_with?("in-child-") }
    assert_equal 2, child_spans.size
    child_spans.each { |s| assert_equal child["pid"], pid_of(s) }
    after = spans.select { |s| s["name"] == "after-fork-parent" }
    assert_equal 1, after.size
    assert_equal parent, pid_of(after.first)
    assert_equal 1, requests.count { |r| r["path"].end_with?("/session/start") },
                 "the default session is started once, not again by the child"
    trace_requests = requests.select { |r| r["path"].end_with?("/v1/traces") }
    assert(trace_requests.all? { |r| r["response_status"] == 200 })
  end

  def test_fork_under_load_children_work
    report, spans, = self.class.scenario("load")
    assert_nil report["hung_children"], "no child deadlocked after fork"
    assert report["parent_flush"]
    assert_equal 5, report["children"].size
    report["children"].each_with_index do |c, k|
      assert_equal 0, c["status"], "child #{k}"
      mine = spans.select { |s| pid_of(s) == c["pid"] }
      assert_equal ["in-child-#{k}", "in-child-#{k}-nested"], mine.map { |s| s["name"] }.sort
      root = mine.find { |s| s["name"] == "in-child-#{k}" }
      nested = mine.find { |s| s["name"] == "in-child-#{k}-nested" }
      assert_equal root["span_id"], nested["parent_span_id"]
    end
    names = spans.map { |s| [s["name"], pid_of(s)] }
    assert_equal names.size, names.uniq.size, "no span delivered twice"
  end

  # Every span must have its own span id, and the child's new root spans must not share
  # a trace with the parent's. An id generator whose per-thread RNG is not reseeded in the
  # child (as OTel's default one) makes the forking thread of every child replay the
  # parent's id sequence.
  def test_fork_ids_are_unique_across_processes
    %w[queued load].each do |mode|
      _, spans, = self.class.scenario(mode)
      dups = spans.group_by { |s| s["span_id"] }.select { |_, v| v.size > 1 }
      detail = dups.map { |id, v| "#{id}: #{v.map { |s| "#{s['name']}@#{pid_of(s)}" }.join(', ')}" }
      assert_empty detail, "#{mode}: span ids repeated across forked processes " \
                           "(library bug: id generator not reseeded after fork)"
      shared = spans.group_by { |s| s["trace_id"] }.select { |_, v| v.map { |s| pid_of(s) }.uniq.size > 1 }
      assert_empty shared.keys, "#{mode}: trace ids shared by spans of different processes"
    end
  end
end
