# frozen_string_literal: true

# The Ruby half of the distributed demo (examples/distributed): a tiny HTTP/1.1 server on the
# standard library's TCPServer (no Rack or WEBrick needed) that answers GET /answer?q=...
#
# It continues the caller's trace: tracer.extract reads the W3C traceparent and baggage
# headers sent by the Go front service, so "back.answer" becomes a child of the front's
# "front.call_back" span and joins its session. Inside, a retrieval tool that fails once and
# succeeds on retry (the error shows in the trace) and a simulated model call.
#
#   ruby -I bindings/ruby/lib examples/distributed/back/server.rb [PORT]   # 0 = any free port
#
# Prints "BACK_URL=http://127.0.0.1:PORT" once listening. POST /quit closes the tracer
# (flushing its spans) and exits. Configuration: HH_* environment variables.
require "honeyhive"
require "json"
require "socket"
require "uri"

TRACER = HoneyHive::Tracer.new(service_name: "distributed-back",
                               skip_backend_session_creation: true, # sessions come from the caller
                               schedule_delay_ms: 200)

DOCS = {
  "tracing" => "A trace is a tree of spans; W3C traceparent carries its id across services.",
  "session" => "A HoneyHive session groups the spans of one request, across services.",
  "baggage" => "W3C baggage carries key=value pairs such as the session id.",
}.freeze

class Retryable < StandardError; end

def retrieve(question, attempt)
  TRACER.trace("back.search", event_type: :tool) do |span|
    span.enrich(inputs: { query: question }, metadata: { attempt: attempt })
    sleep 0.004
    raise Retryable, "search index warming up" if attempt == 1

    hits = DOCS.select { |k, _| question.downcase.include?(k) }.values
    hits = [DOCS["tracing"]] if hits.empty?
    span.enrich(outputs: { documents: hits }, metrics: { hits: hits.size })
    hits
  end
end

def answer(question)
  TRACER.trace("back.answer", event_type: :chain) do |span|
    span.enrich(inputs: { question: question }, metadata: { language: "ruby", pid: Process.pid })
    docs = begin
      retrieve(question, 1)
    rescue Retryable
      retrieve(question, 2) # the failed attempt stays in the trace, with its error
    end
    text = TRACER.trace("back.llm", event_type: :model) do |llm|
      sleep 0.008
      reply = "#{docs.first} (answered in Ruby)"
      llm.enrich(config: { model: "demo-llm", temperature: 0.2 },
                 inputs: { prompt: "Context: #{docs.join(' ')}\nQ: #{question}" },
                 outputs: { text: reply }, metrics: { prompt_tokens: 24, completion_tokens: 16 })
      reply
    end
    span.enrich(outputs: { answer: text })
    text
  end
end

# Reads one request: [method, path, query hash, headers hash (lower-case names)].
def read_request(client)
  line = client.gets("\r\n", 8192) or return nil
  method, target, = line.split(" ", 3)
  headers = {}
  while (h = client.gets("\r\n", 8192)) && h != "\r\n"
    name, value = h.split(":", 2)
    headers[name.strip.downcase] = value.to_s.strip if value
  end
  len = headers["content-length"].to_i
  client.read(len) if len.positive?
  uri = URI.parse(target.to_s)
  [method, uri.path, URI.decode_www_form(uri.query.to_s).to_h, headers]
end

def respond(client, status, body, type = "application/json")
  reason = { 200 => "OK", 404 => "Not Found", 500 => "Internal Server Error" }.fetch(status, "OK")
  client.write("HTTP/1.1 #{status} #{reason}\r\nContent-Type: #{type}\r\n" \
               "Content-Length: #{body.bytesize}\r\nConnection: close\r\n\r\n#{body}")
end

server = TCPServer.new("127.0.0.1", (ARGV[0] || 0).to_i)
puts "BACK_URL=http://127.0.0.1:#{server.addr[1]}"
$stdout.flush

loop do
  client = server.accept
  method, path, query, headers = read_request(client)
  begin
    case [method, path]
    when %w[GET /answer]
      # The remote parent (front.call_back) and the session (baggage) for this request.
      text = TRACER.extract(headers) { answer(query.fetch("q", "What is tracing?")) }
      respond(client, 200, JSON.generate(answer: text, language: "ruby"))
    when %w[POST /quit]
      respond(client, 200, "bye\n", "text/plain")
      client.close
      break
    else
      respond(client, 404, "{}")
    end
  rescue StandardError => e
    respond(client, 500, JSON.generate(error: e.message))
  ensure
    client.close unless client.closed?
  end
end
server.close
exit(TRACER.close(timeout: 10) ? 0 : 2)
