# frozen_string_literal: true

require "ffi"

module HoneyHive
  # Raw bindings to include/honeyhive.h. Internal: use HoneyHive::Tracer and HoneyHive::Span.
  #
  # The shared library is looked up, first match wins:
  #   1. ENV["HONEYHIVE_LIB"]: full path to libhoneyhive.so (an error if it does not exist);
  #   2. lib/honeyhive/native/libhoneyhive.so bundled inside the gem;
  #   3. ../../target/release/libhoneyhive.so relative to bindings/ruby (a repository checkout);
  #   4. "honeyhive" through the system loader (LD_LIBRARY_PATH, ldconfig paths).
  module Native
    extend FFI::Library

    LIB_FILE = "libhoneyhive.#{FFI::Platform::LIBSUFFIX}"

    # Candidate library paths, in lookup order (for error messages and HoneyHive.library_path).
    def self.library_candidates
      env = ENV["HONEYHIVE_LIB"]
      return [env] if env && !env.empty?

      [
        File.expand_path("native/#{LIB_FILE}", __dir__),
        File.expand_path("../../../../target/release/#{LIB_FILE}", __dir__),
      ].select { |p| File.file?(p) } + ["honeyhive"]
    end

    env = ENV["HONEYHIVE_LIB"]
    if env && !env.empty? && !File.file?(env)
      raise LoadError, "HONEYHIVE_LIB=#{env} does not exist"
    end
    begin
      LIBRARY_PATH = library_candidates.first
      ffi_lib LIBRARY_PATH
    rescue LoadError => e
      raise LoadError, "libhoneyhive could not be loaded (#{e.message}). Set HONEYHIVE_LIB to the " \
                       "full path of #{LIB_FILE}, bundle it as lib/honeyhive/native/#{LIB_FILE}, or " \
                       "build it with `cargo build --release -p honeyhive`"
    end

    ERROR_MESSAGE_LEN = 256
    SESSION_ID_BUF_LEN = 37
    TRACEPARENT_BUF_LEN = 56

    # hh_error: caller-owned, one per call (no global or thread-local "last error").
    class HHError < FFI::Struct
      layout :status, :int32,
             :message, [:char, ERROR_MESSAGE_LEN]

      def message
        self[:message].to_ptr.read_string.force_encoding(Encoding::UTF_8).scrub
      end
    end

    class HHStats < FFI::Struct
      FIELDS = %i[spans_started spans_ended spans_exported spans_dropped export_requests
                  export_failures export_retries rest_calls rest_failures queue_len
                  spans_rejected].freeze
      layout(*FIELDS.flat_map { |f| [f, :uint64] })

      def to_h
        FIELDS.each_with_object({}) { |f, h| h[f] = self[f] }
      end
    end

    # Status codes (stable numeric values, hh_status).
    STATUS = {
      0 => :ok, 1 => :null_argument, 2 => :invalid_utf8, 3 => :invalid_json,
      4 => :invalid_config, 5 => :invalid_argument, 6 => :invalid_handle, 7 => :span_ended,
      8 => :tracer_closed, 9 => :limit_exceeded, 10 => :buffer_too_small, 11 => :timeout,
      12 => :export_failed, 13 => :panic, 14 => :internal
    }.freeze
    STATUS_CODE = STATUS.invert.freeze

    OK = 0
    ERR_INVALID_ARGUMENT = 5
    ERR_TRACER_CLOSED = 8
    ERR_BUFFER_TOO_SMALL = 10
    ERR_TIMEOUT = 11
    ERR_EXPORT_FAILED = 12

    EVENT_TYPES = { default: 0, model: 1, tool: 2, chain: 3 }.freeze
    NAMESPACES = {
      none: 0, inputs: 1, outputs: 2, metadata: 3, metrics: 4, feedback: 5, config: 6,
      user_properties: 7
    }.freeze

    typedef :uint64, :hh_tracer
    typedef :uint64, :hh_span
    typedef :int32, :hh_status

    attach_function :hh_version, [], :string
    attach_function :hh_status_name, [:int32], :string
    attach_function :hh_test_panic, [:pointer], :hh_status

    # Never wait for the network: called with the GVL held.
    attach_function :hh_tracer_new, %i[string pointer pointer], :hh_status
    attach_function :hh_tracer_session_id, %i[hh_tracer pointer size_t pointer], :hh_status
    attach_function :hh_tracer_stats, %i[hh_tracer pointer], :hh_status
    attach_function :hh_tracer_extract, %i[hh_tracer string string pointer pointer], :hh_status
    attach_function :hh_session_create, %i[hh_tracer string pointer size_t pointer], :hh_status
    attach_function :hh_session_enrich, %i[hh_tracer string string pointer], :hh_status
    attach_function :hh_span_start,
                    %i[hh_tracer string uint32 hh_span string string pointer pointer], :hh_status
    attach_function :hh_span_enrich, %i[hh_span string pointer], :hh_status
    attach_function :hh_span_set_str, %i[hh_span uint32 string string], :hh_status
    attach_function :hh_span_set_i64, %i[hh_span uint32 string int64], :hh_status
    attach_function :hh_span_set_f64, %i[hh_span uint32 string double], :hh_status
    attach_function :hh_span_set_bool, %i[hh_span uint32 string bool], :hh_status
    attach_function :hh_span_record_error, %i[hh_span string string], :hh_status
    attach_function :hh_span_inject, %i[hh_span pointer size_t pointer size_t pointer], :hh_status
    attach_function :hh_span_session_id, %i[hh_span pointer size_t pointer], :hh_status

    # May wait (flush/close up to their timeout; span end exports inline in disable_batch
    # mode): the GVL is released so other Ruby threads keep running.
    attach_function :hh_span_end, [:hh_span], :hh_status, blocking: true
    # hh_span_end with the GVL held, for tracers in batch mode: there ending a span never
    # waits, and releasing and taking back the GVL would cost more than the call.
    attach_function :hh_span_end_batched, :hh_span_end, [:hh_span], :hh_status
    attach_function :hh_tracer_flush, %i[hh_tracer uint32], :hh_status, blocking: true
    attach_function :hh_tracer_close, %i[hh_tracer uint32], :hh_status, blocking: true

    # Reads a session id through `hh_tracer_session_id` / `hh_span_session_id` (the block makes
    # the call for a buffer), growing the buffer once if needed; nil when there is no session.
    def self.read_session_id(op)
      buf = FFI::MemoryPointer.new(:char, SESSION_ID_BUF_LEN)
      len = FFI::MemoryPointer.new(:size_t)
      status = yield(buf, buf.size, len)
      if status == ERR_BUFFER_TOO_SMALL
        buf = FFI::MemoryPointer.new(:char, len.read(:size_t) + 1)
        status = yield(buf, buf.size, len)
      end
      return nil if status == ERR_INVALID_ARGUMENT
      raise Error.from_status(status, nil, op) unless status == OK

      buf.read_string
    end
  end
end
