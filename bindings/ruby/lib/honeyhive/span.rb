# frozen_string_literal: true

require "json"

module HoneyHive
  # One span (or a remote parent from Tracer#extract). Create spans with Tracer#trace (block,
  # ended for you) or Tracer#start_span (call #finish). Methods are thread-safe.
  class Span
    ENRICH_FIELDS = %i[metadata metrics inputs outputs feedback config user_properties error
                       event_type].freeze

    attr_reader :handle, :name, :tracer

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

    # Ends the span and hands it to the exporter (never waits for the network, except with
    # disable_batch). Idempotent. Returns true, or false when the tracer was already closed
    # (the span is then dropped and counted in Tracer#stats). Raises HoneyHive::Error for an
    # unknown handle.
    def finish
      return true if @finished

      @finished = true
      if @finalizer
        ObjectSpace.undefine_finalizer(self)
        @finalizer = false
      end
      status = @remote || !@tracer.immediate? ? Native.hh_span_end_batched(@handle) : Native.hh_span_end(@handle)
      return true if status == Native::OK
      return false if status == Native::ERR_TRACER_CLOSED

      raise Error.from_status(status, nil, "span end")
    end

    # Enriches the span as the Python SDK's enrich_span does: metadata/metrics/inputs/outputs/
    # feedback/config/user_properties are Hashes flattened to honeyhive_<ns>.<dotted.path>
    # (numbers and booleans keep their type), error is a String (honeyhive_error), event_type
    # one of :model/:tool/:chain. Any other keyword goes to metadata. All or nothing. Returns self.
    def enrich(**fields)
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
    end

    # Sets one attribute under +namespace+ (:metadata by default; :none uses +key+ as given;
    # also :inputs, :outputs, :metrics, :feedback, :config, :user_properties). The type comes
    # from the Ruby class: String/Symbol -> string, Integer -> int64, Float -> double,
    # true/false -> bool; a Hash or Array is flattened like #enrich (or sent as one JSON string
    # with namespace :none); anything else becomes its to_s. nil is ignored. Returns self.
    def set_attribute(key, value, namespace: :metadata)
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
          if namespace.nil? || namespace.to_sym == :none
            Native.hh_span_set_str(@handle, ns, k, HoneyHive.to_json(value))
          else
            return enrich(namespace.to_sym => { k => value })
          end
        else Native.hh_span_set_str(@handle, ns, k, HoneyHive.c_string(value.to_s))
        end
      raise Error.from_status(status, nil, "set_attribute #{k}") unless status == Native::OK

      self
    end
    alias_method :[]=, :set_attribute

    # Sets several attributes (see #set_attribute). Returns self.
    def set_attributes(hash, namespace: :metadata)
      hash.each { |k, v| set_attribute(k, v, namespace: namespace) }
      self
    end

    # Records an exception: an "exception" event (exception.type = class name,
    # exception.message), status ERROR "<Type>: <message>", and the attributes honeyhive_error
    # and honeyhive_error_type. Returns self.
    def record_exception(exception)
      type = exception.class.name || exception.class.to_s
      record_error(exception.message.to_s, type: type)
    end

    # Records an error given as text (+type+ defaults to "Error" in the library). Returns self.
    def record_error(message, type: nil)
      status = Native.hh_span_record_error(@handle, type && HoneyHive.c_string(type),
                                           HoneyHive.c_string(message))
      raise Error.from_status(status, nil, "record_error") unless status == Native::OK

      self
    end

    # The session id this span belongs to, or nil when it has none.
    def session_id
      Native.read_session_id("span session_id") { |buf, size, len| Native.hh_span_session_id(@handle, buf, size, len) }
    end

    # The W3C context of this span: {"traceparent" => "00-...", "baggage" => "session_id=..."}
    # (works on live, recently ended and remote spans).
    def context_headers
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

    # 32 lowercase hex characters.
    def trace_id
      traceparent.split("-")[1]
    end

    # 16 lowercase hex characters.
    def span_id
      traceparent.split("-")[2]
    end

    def inspect
      "#<HoneyHive::Span #{@name.inspect}#{' remote' if @remote}#{' finished' if @finished}>"
    end
  end
end
