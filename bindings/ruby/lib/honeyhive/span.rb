# frozen_string_literal: true

require "json"

module HoneyHive
  # One span (or a remote parent from Tracer#extract). Create spans with Tracer#trace (block,
  # ended for you) or Tracer#start_span (call #finish). Methods are thread-safe.
  class Span
    ENRICH_FIELDS = %i[metadata metrics inputs outputs feedback config user_properties error
                       event_type update_event_id].freeze

    attr_reader :handle, :name, :tracer

    # A span whose start failed (the failure was logged): its operations do nothing.
    def self.noop(tracer, name)
      new(tracer, 0, name)
    end

    def initialize(tracer, handle, name, remote: false, finalize: false)
      @tracer = tracer
      @handle = handle
      @name = name
      @remote = remote
      @finished = false
      @finalizer = finalize
      ObjectSpace.define_finalizer(self, self.class.finalizer(handle)) if finalize
    end

    # The finalizer of a span dropped without #finish: ends it (it is exported with the end
    # time of the garbage collection). Built here so the proc never captures the Span.
    def self.finalizer(handle)
      proc { Native.hh_span_end(handle) }
    end

    # true for a remote parent made by Tracer#extract.
    def remote?
      @remote
    end

    def finished?
      @finished
    end

    # true for a span whose start failed (see Tracer#trace): recording on it does nothing.
    def noop?
      @handle.zero?
    end

    # Ends the span and hands it to the exporter (never waits for the network, except with
    # disable_batch). Idempotent. +end_timestamp+: when the work ended (a Time or Integer
    # Unix-epoch nanoseconds; nil: now), for work measured elsewhere. Returns true, or false
    # when the span could not be ended (closed tracer: the span is dropped and counted in
    # Tracer#stats; a bad timestamp or handle: logged as a telemetry error). Never raises.
    def finish(end_timestamp: nil)
      return true if @finished
      return false if noop?

      if end_timestamp
        ns = guard("span end") { HoneyHive.time_ns(end_timestamp) }
        return ns.nil? ? false : finish_at(ns)
      end

      @finished = true
      if @finalizer
        ObjectSpace.undefine_finalizer(self)
        @finalizer = false
      end
      status = @remote || !@tracer.immediate? ? Native.hh_span_end_batched(@handle) : Native.hh_span_end(@handle)
      ended(status)
    end

    # Enriches the span as the Python SDK's enrich_span does: metadata/metrics/inputs/outputs/
    # feedback/config/user_properties are Hashes flattened to honeyhive_<ns>.<dotted.path>
    # (numbers and booleans keep their type), error is a String (honeyhive_error), event_type
    # one of :model/:tool/:chain, update_event_id an event id (the span is recorded as that
    # event: honeyhive_event_id). Any other keyword goes to metadata. All or nothing. Returns
    # self.
    def enrich(**fields)
      guard("enrich") do
        body = {}
        fields.each do |k, v|
          next if v.nil?

          body[k.to_s] = k == :event_type ? v.to_s : v
        end
        return self if body.empty?

        err = Native::HHError.new
        status = Native.hh_span_enrich(@handle, HoneyHive.to_json(body), err)
        raise Error.from_status(status, err, "enrich") unless status == Native::OK

        self
      end || self
    end

    # Sets one attribute under +namespace+ (:metadata by default; :none uses +key+ as given;
    # also :inputs, :outputs, :metrics, :feedback, :config, :user_properties). The type comes
    # from the Ruby class: String/Symbol -> string, Integer -> int64, Float -> double,
    # true/false -> bool; a Hash or Array is flattened like #enrich. With namespace :none (the
    # key as given, as OpenTelemetry attributes are) an Array of strings, integers, floats or
    # booleans is sent as an OTLP array, a Hash or mixed Array as one JSON string. Anything else
    # becomes its to_s. nil is ignored. Returns self.
    def set_attribute(key, value, namespace: :metadata)
      guard("set_attribute") do
        ns = HoneyHive.namespace_code(namespace)
        k = HoneyHive.c_string(key)
        status =
          case value
          when nil then return self
          when String, Symbol then Native.hh_span_set_str(@handle, ns, k, HoneyHive.c_string(value))
          when true, false then Native.hh_span_set_bool(@handle, ns, k, value)
          when Integer
            if value.bit_length < 64
              Native.hh_span_set_i64(@handle, ns, k, value)
            else
              Native.hh_span_set_str(@handle, ns, k, value.to_s)
            end
          when Float then Native.hh_span_set_f64(@handle, ns, k, value)
          when Hash, Array
            return enrich(namespace.to_sym => { k => value }) unless ns.zero?
            return set_typed({ k => value }, ns, "set_attribute #{k}") if value.is_a?(Array)

            Native.hh_span_set_str(@handle, ns, k, HoneyHive.to_json(value))
          else Native.hh_span_set_str(@handle, ns, k, HoneyHive.c_string(value.to_s))
          end
        raise Error.from_status(status, nil, "set_attribute #{k}") unless status == Native::OK

        self
      end || self
    end
    alias_method :[]=, :set_attribute

    # Sets several attributes (see #set_attribute). Returns self.
    def set_attributes(hash, namespace: :metadata)
      hash.each { |k, v| set_attribute(k, v, namespace: namespace) }
      self
    end

    # Sets several attributes under their keys as given (no namespace), in one call, typed as
    # #set_attribute with namespace :none does (arrays included). All or nothing. Returns self.
    #
    #   span.add_attributes("http.route" => "/chat", "retry.delays_ms" => [10, 20], "cached" => false)
    def add_attributes(attributes)
      guard("add_attributes") do
        set_typed(attributes, 0, "add_attributes")
      end || self
    end

    # Adds an event (OpenTelemetry's span event) with attributes of any key and type (as
    # #add_attributes) at +timestamp+ (a Time or Integer Unix-epoch nanoseconds; nil: now).
    # Returns self.
    #
    #   span.add_event("cache.miss", attributes: { "key" => "user:42", "tries" => 2 })
    def add_event(name, attributes: nil, timestamp: nil)
      guard("add_event") do
        list = AttrList.new(attributes)
        err = Native::HHError.new
        status = Native.hh_span_add_event(@handle, HoneyHive.c_string(name), list.pointer, list.size,
                                          HoneyHive.time_ns(timestamp), err)
        check(status, err, "add_event")
      end || self
    end

    # Links this span to another one (a Span, SpanContext or Link), with the link's
    # attributes. Links given at start (Tracer#trace(links:)) are preferable: samplers see
    # those. Returns self.
    def add_link(target, attributes: nil)
      guard("add_link") do
        keep = []
        link = target.is_a?(Link) ? Link.new(target.context, attributes || target.attributes) : Link.new(target, attributes)
        native = link.fill(Native::HHLink.new, keep)
        err = Native::HHError.new
        check(Native.hh_span_add_link(@handle, native, err), err, "add_link")
      end || self
    end

    # Sets the span's status: :ok (final), :error (with a description; beats :unset) or
    # :unset, as OpenTelemetry's. Separate from #record_error, which also sets :error. Returns
    # self.
    #
    #   span.set_status(:error, "upstream timed out")
    def set_status(code, description = nil)
      guard("set_status") do
        num = Native::SPAN_STATUS.fetch(code) do
          Native::SPAN_STATUS.fetch(code.to_s.downcase.to_sym) do
            raise HoneyHive.invalid_argument("unknown status #{code.inspect} (use :ok, :error or :unset)")
          end
        end
        desc = description && HoneyHive.c_string(description)
        check(Native.hh_span_set_status(@handle, num, desc), nil, "set_status")
      end || self
    end

    # Renames the span (OpenTelemetry's update_name). Returns the name.
    def name=(name)
      guard("set_name") do
        name = HoneyHive.c_string(name)
        check(Native.hh_span_set_name(@handle, name), nil, "set_name")
        @name = name
      end
    end

    # Records an exception: an "exception" event (exception.type = class name,
    # exception.message, exception.stacktrace = its backtrace, exception.escaped), status
    # ERROR "<Type>: <message>", and the attributes honeyhive_error and honeyhive_error_type.
    # +escaped+: the exception is leaving the span's scope (Tracer#trace passes true).
    # Returns self.
    def record_exception(exception, escaped: false, timestamp: nil)
      type = exception.class.name || exception.class.to_s
      backtrace = exception.backtrace
      record_error(exception.message.to_s, type: type, stacktrace: backtrace && backtrace.join("\n"),
                                           escaped: escaped, timestamp: timestamp)
    end

    # Records an error given as text (+type+ defaults to "Error" in the library; +stacktrace+
    # a String, or an Array of frames joined by newlines). Returns self.
    def record_error(message, type: nil, stacktrace: nil, escaped: false, timestamp: nil)
      guard("record_error") do
        stacktrace = stacktrace.join("\n") if stacktrace.is_a?(Array)
        status = Native.hh_span_record_error_ex(@handle, type && HoneyHive.c_string(type),
                                                HoneyHive.c_string(message),
                                                stacktrace && HoneyHive.c_string(stacktrace),
                                                escaped ? Native::ERROR_ESCAPED : 0,
                                                HoneyHive.time_ns(timestamp))
        check(status, nil, "record_error")
      end || self
    end

    # The ids of this span (read without injecting a header): a SpanContext with trace_id,
    # span_id, trace_flags and remote?. Works on live, ended and remote spans.
    def context
      return nil if noop?

      ctx = Native::HHSpanContext.new
      status = Native.hh_span_get_context(@handle, ctx)
      raise Error.from_status(status, nil, "context") unless status == Native::OK

      SpanContext.from_native(ctx)
    end

    # The session id this span belongs to, or nil when it has none.
    def session_id
      return nil if noop?

      Native.read_session_id("span session_id") { |buf, size, len| Native.hh_span_session_id(@handle, buf, size, len) }
    end

    # The W3C context of this span: {"traceparent" => "00-...", "baggage" => "session_id=..."}
    # (works on live, recently ended and remote spans).
    def context_headers
      return {} if noop?

      tp = FFI::MemoryPointer.new(:char, Native::TRACEPARENT_BUF_LEN)
      bag_len = FFI::MemoryPointer.new(:size_t)
      bag = FFI::MemoryPointer.new(:char, 512)
      status = Native.hh_span_inject(@handle, tp, tp.size, bag, bag.size, bag_len)
      if status == Native::ERR_BUFFER_TOO_SMALL
        bag = FFI::MemoryPointer.new(:char, bag_len.read(:size_t) + 1)
        status = Native.hh_span_inject(@handle, tp, tp.size, bag, bag.size, bag_len)
      end
      raise Error.from_status(status, nil, "inject") unless status == Native::OK

      headers = { "traceparent" => tp.read_string }
      baggage = bag.read_string
      headers["baggage"] = baggage unless baggage.empty?
      headers
    end

    def traceparent
      context_headers["traceparent"]
    end

    # 32 lowercase hex characters (nil for a no-op span).
    def trace_id
      context&.trace_id
    end

    # 16 lowercase hex characters (nil for a no-op span).
    def span_id
      context&.span_id
    end

    def inspect
      "#<HoneyHive::Span #{@name.inspect}#{' remote' if @remote}#{' finished' if @finished}#{' no-op' if noop?}>"
    end

    private

    # #finish with an explicit end time (Unix-epoch nanoseconds).
    def finish_at(end_ns)
      @finished = true
      if @finalizer
        ObjectSpace.undefine_finalizer(self)
        @finalizer = false
      end
      status =
        if @remote || !@tracer.immediate?
          Native.hh_span_end_at_batched(@handle, end_ns, 0)
        else
          Native.hh_span_end_at(@handle, end_ns, 0)
        end
      ended(status)
    end

    # The typed batch call for +attributes+ under namespace code +ns+.
    def set_typed(attributes, ns, what)
      list = AttrList.new(attributes, ns)
      return self if list.size.zero?

      err = Native::HHError.new
      check(Native.hh_span_set_attrs(@handle, list.pointer, list.size, err), err, what)
    end

    # Every span operation's failure goes through here (a telemetry error: ended span, closed
    # tracer, limits). Returns self.
    def check(status, err, what)
      raise Error.from_status(status, err, what) unless status == Native::OK

      self
    end

    # Runs a span operation: a HoneyHive::Error (ended span, closed tracer, limits, bad input)
    # is counted on the tracer and logged as a warning, never raised into the application;
    # then nil is returned. A no-op span (its start failed, already logged) does nothing.
    def guard(what)
      return nil if noop?

      yield
    rescue Error => e
      HoneyHive.telemetry_error(@tracer, e.message.start_with?(what) ? e : Error.new("#{what}: #{e.message}", status: e.status, code: e.code))
      nil
    end

    def ended(status)
      return true if status == Native::OK
      return false if status == Native::ERR_TRACER_CLOSED

      HoneyHive.telemetry_error(@tracer, Error.from_status(status, nil, "span end"))
      false
    end
  end
end
