# frozen_string_literal: true

require "json"

# A Rack-style app (anything responding to call(env) -> [status, headers, body]) that answers
# questions with a simulated retrieval-augmented LLM call and traces every step to HoneyHive:
#
#   POST /chat  {"question": "..."}
#     session per request (or the caller's session, when traceparent + baggage arrive)
#     └─ chat.handle (chain)
#        ├─ retrieve (tool)
#        ├─ build_prompt (tool)
#        ├─ llm.chat (model)
#        └─ tool.get_weather (tool)   when the "model" asks for it
class ChatApp
  KNOWLEDGE = [
    "HoneyHive records sessions, spans and their enrichments.",
    "A session groups the steps of one request or conversation.",
    "Traces continue across services through traceparent and baggage headers.",
    "The weather tool reports the current weather of a city.",
  ].freeze

  def initialize(tracer)
    @tracer = tracer
  end

  def call(env)
    request = JSON.parse(env["rack.input"]&.read.to_s.then { |b| b.empty? ? "{}" : b })
    question = request.fetch("question", "").to_s

    # Continue the caller's trace when it sent traceparent (and its session in baggage);
    # otherwise, or without a caller session, this request gets its own session.
    answer = @tracer.extract(env) do |remote|
      if remote && caller_session?(env)
        handle(question, env)
      else
        @tracer.with_session("chat-request", inputs: { question: question },
                                             metadata: { path: env["PATH_INFO"] }) do
          handle(question, env)
        end
      end
    end
    [200, { "content-type" => "application/json" }, [JSON.generate(answer: answer)]]
  rescue JSON::ParserError => e
    [400, { "content-type" => "application/json" }, [JSON.generate(error: e.message)]]
  end

  private

  def caller_session?(env)
    baggage = env["HTTP_BAGGAGE"].to_s
    baggage.split(",").any? { |entry| entry.strip.start_with?("session_id=") }
  end

  def handle(question, env)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    @tracer.trace("chat.handle", event_type: :chain, kind: :server) do |span|
      span.enrich(inputs: { question: question }, metadata: { method: env["REQUEST_METHOD"] })

      docs = @tracer.trace("retrieve", event_type: :tool) do |s|
        words = question.downcase.scan(/\w+/)
        found = KNOWLEDGE.select { |d| words.any? { |w| w.size > 3 && d.downcase.include?(w) } }
        s.enrich(inputs: { query: question }, outputs: { documents: found },
                 metadata: { retriever: "keyword", corpus_size: KNOWLEDGE.size },
                 metrics: { hits: found.size })
        found
      end

      messages = @tracer.trace("build_prompt", event_type: :tool) do |s|
        msgs = [
          { role: "system", content: "Answer from the context:\n#{docs.join("\n")}" },
          { role: "user", content: question },
        ]
        s.enrich(inputs: { documents: docs.size }, outputs: { messages: msgs })
        msgs
      end

      reply = @tracer.trace("llm.chat", event_type: :model) do |s|
        result = fake_model(messages)
        s.enrich(config: { provider: "simulated", model: "sim-gpt-mini", temperature: 0.2 },
                 inputs: { messages: messages },
                 outputs: { content: result[:content], tool_call: result[:tool_call] },
                 metrics: result[:usage])
        result
      end

      answer = reply[:content]
      if (call = reply[:tool_call])
        answer = @tracer.trace("tool.get_weather", event_type: :tool) do |s|
          weather = { city: call[:city], forecast: "sunny", celsius: 21 }
          s.enrich(inputs: call, outputs: weather, metadata: { tool: "get_weather" })
          "#{reply[:content]} It is #{weather[:forecast]} in #{weather[:city]}, #{weather[:celsius]} °C."
        end
      end

      span.enrich(outputs: { answer: answer })
      elapsed = ((Process.clock_gettime(Process::CLOCK_MONOTONIC) - started) * 1000).round(2)
      @tracer.enrich_session(outputs: { answer: answer }, metrics: { latency_ms: elapsed })
      answer
    end
  end

  # Stands in for an LLM API call.
  def fake_model(messages)
    question = messages.last[:content]
    prompt_tokens = messages.sum { |m| m[:content].split.size }
    tool_call = (city = question[/weather in (\w+)/i, 1]) ? { city: city } : nil
    content = tool_call ? "Let me check the weather." : "Based on the docs: #{messages.first[:content].lines[1]&.strip}"
    { content: content, tool_call: tool_call,
      usage: { prompt_tokens: prompt_tokens, completion_tokens: content.split.size } }
  end
end
