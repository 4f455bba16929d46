# frozen_string_literal: true

require "json"
require_relative "honeyhive/version"
require_relative "honeyhive/native"
require_relative "honeyhive/error"
require_relative "honeyhive/diagnostics"
require_relative "honeyhive/context"
require_relative "honeyhive/attributes"
require_relative "honeyhive/span_context"
require_relative "honeyhive/span"
require_relative "honeyhive/tracer"
require_relative "honeyhive/rack"
require_relative "honeyhive/traced"

# Ruby binding of libhoneyhive: tracing for HoneyHive (LLM observability) and any OTLP backend.
#
#   tracer = HoneyHive::Tracer.new(api_key: ENV["HH_API_KEY"], project: "my-app")
#   tracer.with_session("request") do
#     tracer.trace("llm", event_type: :model) { |span| span.enrich(metrics: { tokens: 3 }) }
#   end
#   tracer.close
module HoneyHive
  # Exit flush budget, shared by every open tracer (same variable as the C library's own hook).
  DEFAULT_EXIT_FLUSH_MS = 2000

  # Handles of open tracers, flushed at exit. A plain Hash with Integer keys: every operation is
  # atomic under the GVL, and it is safe from finalizers (a Mutex is not: a finalizer may run
  # while its own thread holds it).
  @open_tracers = {}

  class << self
    # The Logger that gets the library's diagnostics (warnings such as failed exports, and
    # telemetry errors of span operations) for tracers without one of their own. Default:
    # Logger.new($stderr).
    def logger
      @logger ||= Logger.new($stderr)
    end

    # The tracer HoneyHive::Traced methods use when their class names none (traced_with).
    attr_accessor :tracer

    # Sets the process-wide Logger (nil: back to Logger.new($stderr)).
    def logger=(logger)
      @logger = logger
      Diagnostics.route(0, self.logger)
    end

    # @api private: a telemetry error of a span operation (ended span, closed tracer, limits,
    # bad input): counted and logged as a warning, never raised into the application.
    def telemetry_error(tracer, error)
      tracer&.count_telemetry_error
      (tracer&.logger || logger).warn("honeyhive") { "telemetry error (ignored): #{error.message} (#{error.status_name})" }
      nil
    rescue StandardError
      nil
    end

    # The version of the loaded libhoneyhive, e.g. "0.1.0".
    def library_version
      Native.hh_version
    end

    # The library file (or name) that was loaded.
    def library_path
      Native::LIBRARY_PATH
    end

    # @api private
    def register_tracer(handle)
      @open_tracers[handle] = true
    end

    # @api private
    def unregister_tracer(handle)
      @open_tracers.delete(handle)
    end

    # @api private: set once the at_exit flush has run.
    def exiting!
      @exiting = true
    end

    # @api private
    def exiting?
      @exiting == true
    end

    # Flushes every open tracer within one overall budget (used by the at_exit hook).
    def flush_open_tracers(budget_ms = exit_flush_budget_ms)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + budget_ms / 1000.0
      @open_tracers.keys.each do |handle|
        left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
        break if left <= 0

        Native.hh_tracer_flush(handle, (left * 1000).ceil)
      end
      nil
    end

    # @api private
    def exit_flush_budget_ms
      Integer(ENV.fetch("HH_EXIT_FLUSH_TIMEOUT_MS", DEFAULT_EXIT_FLUSH_MS))
    rescue ArgumentError
      DEFAULT_EXIT_FLUSH_MS
    end

    # @api private: JSON text for the library (raises HoneyHive::Error on unencodable data).
    def to_json(value)
      JSON.generate(value)
    rescue JSON::JSONError, EncodingError => e
      raise Error.new("cannot encode as JSON: #{e.message}", status: :invalid_json)
    end

    # @api private: a String the library accepts (UTF-8, no NUL byte).
    def c_string(value)
      s = value.is_a?(String) ? value : value.to_s
      if s.encoding != Encoding::UTF_8 && s.encoding != Encoding::BINARY && !s.ascii_only?
        begin
          s = s.encode(Encoding::UTF_8)
        rescue EncodingError => e
          raise Error.new("string is not convertible to UTF-8: #{e.message}", status: :invalid_utf8)
        end
      end
      raise Error.new("string contains a NUL byte", status: :invalid_argument) if s.include?("\0")

      s
    end

    # @api private
    def event_type_code(type)
      return 0 if type.nil?

      Native::EVENT_TYPES.fetch(type) do
        event_type_code_slow(type)
      end
    end

    # @api private: a scratch hh_error and uint64 out-parameter for calls made with the GVL
    # held. Per fiber (Thread.current[] is fiber-local), so such calls never share one; read
    # right after the call that wrote them. Saves two FFI allocations per span.
    def scratch
      Thread.current[:__honeyhive_scratch] ||= [Native::HHError.new, FFI::MemoryPointer.new(:uint64)]
    end

    # @api private
    def event_type_code_slow(type)
      Native::EVENT_TYPES.fetch(type.to_s.downcase.to_sym) do
        raise Error.new("unknown event type #{type.inspect} (use :model, :tool or :chain)",
                        status: :invalid_argument)
      end
    end

    # @api private
    def namespace_code(namespace)
      return 0 if namespace.nil?

      Native::NAMESPACES.fetch(namespace) { namespace_code_slow(namespace) }
    end

    # @api private
    def namespace_code_slow(namespace)
      Native::NAMESPACES.fetch(namespace.to_s.to_sym) do
        raise Error.new("unknown namespace #{namespace.inspect} " \
                        "(use one of #{Native::NAMESPACES.keys.join(', ')})", status: :invalid_argument)
      end
    end

    # @api private: seconds (Float) -> milliseconds for the C ABI (uint32).
    def timeout_ms(seconds)
      ms = (Float(seconds) * 1000).ceil
      ms.clamp(0, 0xFFFF_FFFF)
    end

    # @api private: a timestamp for the C ABI, Unix-epoch nanoseconds (0: now). Takes a Time
    # (or anything with #to_time), Integer nanoseconds, or nil.
    def time_ns(time)
      case time
      when nil then 0
      when Integer
        raise invalid_argument("timestamp must not be negative (got #{time})") if time.negative?

        time
      when Time then time.to_i * 1_000_000_000 + time.nsec
      else
        return time_ns(time.to_time) if time.respond_to?(:to_time)

        raise invalid_argument("timestamp must be a Time or Integer nanoseconds (got #{time.class})")
      end
    end

    # @api private: the error for an argument the library would refuse.
    def invalid_argument(message)
      Error.new(message, status: :invalid_argument)
    end

    # @api private: the SpanContext of a Span or SpanContext.
    def span_context_of(value)
      case value
      when SpanContext then value
      when Span then value.context
      else raise invalid_argument("expected a HoneyHive::Span or HoneyHive::SpanContext (got #{value.class})")
      end
    end

    # @api private: the session_id member of a W3C baggage header (a UUID, hyphenated and
    # lowercase), or nil when there is none or it is not a UUID.
    def baggage_session_id(baggage)
      return nil if baggage.nil?

      # Bytes, not text: the header comes from outside and may be any bytes.
      baggage.to_s.b.split(",").each do |member|
        key, value = member.split(";", 2).first.to_s.split("=", 2)
        next unless value && key.strip == "session_id"

        sid = value.strip.gsub(/%\h\h/n) { |m| m[1, 2].hex.chr }
        next unless sid.match?(/\A\h{8}-?\h{4}-?\h{4}-?\h{4}-?\h{12}\z/n)

        hex = sid.delete("-").downcase
        return [hex[0, 8], hex[8, 4], hex[12, 4], hex[16, 4], hex[20, 12]].join("-").force_encoding(Encoding::UTF_8)
      end
      nil
    end

    # @api private: the baggage header that continues +session_id+'s session without a span
    # (nil: the tracer's default session; then nil when the tracer has none, as in
    # auto-create mode).
    def session_baggage(tracer_handle, session_id)
      sid = session_id && c_string(session_id)
      buf = FFI::MemoryPointer.new(:char, 256)
      len = FFI::MemoryPointer.new(:size_t)
      status = Native.hh_session_inject(tracer_handle, sid, buf, buf.size, len)
      if status == Native::ERR_BUFFER_TOO_SMALL
        buf = FFI::MemoryPointer.new(:char, len.read(:size_t) + 1)
        status = Native.hh_session_inject(tracer_handle, sid, buf, buf.size, len)
      end
      return nil if status == Native::ERR_INVALID_ARGUMENT && sid.nil?
      raise Error.from_status(status, nil, "inject") unless status == Native::OK

      buf.read_string
    end

    # @api private: a header from a Hash of HTTP headers (any case) or a Rack env.
    def header(headers, name)
      return nil if headers.nil?

      value = headers[name]
      if value.nil? && headers.respond_to?(:each_pair)
        rack = "HTTP_#{name.upcase.tr('-', '_')}"
        headers.each_pair do |k, v|
          key = k.to_s
          if key.casecmp?(name) || key == rack
            value = v
            break
          end
        end
      end
      value = value.first if value.is_a?(Array)
      value&.to_s
    end
  end

  at_exit do
    HoneyHive.flush_open_tracers
    # Finalizers run after this hook: the budget is spent, so they close without waiting again.
    HoneyHive.exiting!
  end

  # A forked child (Puma, Unicorn workers) installs the log handlers again: ffi's callback
  # dispatcher thread did not survive the fork.
  if Process.respond_to?(:_fork)
    module ForkHook
      def _fork
        pid = super
        HoneyHive::Diagnostics.after_fork if pid.zero?
        pid
      end
    end
    Process.singleton_class.prepend(ForkHook)
  end

  Diagnostics.route(0, logger)
end
