# frozen_string_literal: true

require "json"
require "net/http"
require "uri"

# Drives the shared loopback receiver (tests/receiver): `hh-receiver --exit-on-stdin-eof`.
class Receiver
  REPO_ROOT = File.expand_path("../../..", __dir__)

  attr_reader :url

  def self.binary
    ENV.fetch("HH_RECEIVER_BIN") { File.join(REPO_ROOT, "target/release/hh-receiver") }
  end

  def initialize
    bin = self.class.binary
    raise "hh-receiver not found at #{bin} (cargo build --release -p hh-test-receiver --bins)" unless File.executable?(bin)

    # The pipe to its stdin stays open while we live; closing it (or dying) stops it.
    @io = IO.popen([bin, "--exit-on-stdin-eof"], "r+")
    line = @io.gets
    @url = line && line[/HH_RECEIVER_URL=(\S+)/, 1]
    raise "hh-receiver did not print its URL (got #{line.inspect})" unless @url

    @uri = URI(@url)
  end

  def stop
    return unless @io

    @io.close_write
    @io.close
    @io = nil
  end

  def get(path)
    http { |h| JSON.parse(h.get(path).body) }
  end

  def post(path, body = nil)
    http do |h|
      res = h.post(path, body ? JSON.generate(body) : "", "content-type" => "application/json")
      res.body.to_s.empty? ? nil : JSON.parse(res.body)
    end
  end

  def reset
    post("/__hh/reset")
    post("/__hh/clear_fault")
  end

  def spans
    get("/__hh/spans")
  end

  def requests
    get("/__hh/requests")
  end

  def wait_spans(count, timeout_ms: 10_000)
    get("/__hh/wait?spans=#{count}&timeout_ms=#{timeout_ms}")
  end

  def wait_requests(count, timeout_ms: 10_000)
    get("/__hh/wait?requests=#{count}&timeout_ms=#{timeout_ms}")
  end

  def fault(spec)
    post("/__hh/fault", spec)
  end

  # Recorded requests whose path ends with +suffix+ (and, optionally, of +method+).
  def requests_to(suffix, method: nil)
    requests.select { |r| r["path"].end_with?(suffix) && (method.nil? || r["method"] == method) }
  end

  private

  def http
    Net::HTTP.start(@uri.host, @uri.port, open_timeout: 5, read_timeout: 30) { |h| yield h }
  end
end
