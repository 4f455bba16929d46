# frozen_string_literal: true

require "ffi"
require_relative "abi"

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

    # Status codes, event types, namespaces, buffer sizes and the hh_stats layout come from
    # abi.rb, generated from include/honeyhive.h.

    # hh_error: caller-owned, one per call (no global or thread-local "last error").
    class HHError < FFI::Struct
      layout :status, :int32,
             :message, [:char, ERROR_MESSAGE_LEN]

      def message
        self[:message].to_ptr.read_string.force_encoding(Encoding::UTF_8).scrub
      end
    end

    class HHStats < FFI::Struct
      FIELDS = STATS_LAYOUT.map(&:first).freeze
      layout(*STATS_LAYOUT.flatten)

      def to_h
        FIELDS.each_with_object({}) { |f, h| h[f] = self[f] }
      end
    end

    # Span kinds, status codes, array attribute types and record_error flags (HH_SPAN_KIND_*,
    # HH_SPAN_STATUS_*, HH_ATTR_*, HH_ERROR_*). Written by hand: test/test_abi_constants.rb
    # checks them against include/honeyhive.h.
    SPAN_KINDS = { internal: 0, server: 1, client: 2, producer: 3, consumer: 4 }.freeze
    SPAN_STATUS = { unset: 0, ok: 1, error: 2 }.freeze
    ATTR_STR = 1
    ATTR_I64 = 2
    ATTR_F64 = 3
    ATTR_BOOL = 4
    ATTR_STR_ARRAY = 5
    ATTR_I64_ARRAY = 6
    ATTR_F64_ARRAY = 7
    ATTR_BOOL_ARRAY = 8
    ERROR_ESCAPED = 1
    # Levels of a diagnostic line (HH_LOG_*).
    LOG_DEBUG = 0
    LOG_INFO = 1
    LOG_WARN = 2
    LOG_ERROR = 3

    # hh_attr: one typed attribute (scalars in str/i64/f64, arrays in items/len).
    class HHAttr < FFI::Struct
      layout :ns, :uint32,
             :type, :uint32,
             :key, :pointer,
             :str, :pointer,
             :i64, :int64,
             :f64, :double,
             :items, :pointer,
             :len, :size_t
    end

    # hh_span_context: the ids of a span (live, ended or remote).
    class HHSpanContext < FFI::Struct
      layout :trace_id, [:uint8, 16],
             :span_id, [:uint8, 8],
             :trace_flags, :uint8,
             :is_remote, :bool
    end

    # hh_link: a span context and the link's attributes.
    class HHLink < FFI::Struct
      layout :context, HHSpanContext,
             :attrs, :pointer,
             :attrs_len, :size_t
    end

    # hh_span_options: the optional arguments of hh_span_start_ex (zeroed = hh_span_start's).
    class HHSpanOptions < FFI::Struct
      layout :kind, :uint32,
             :start_time_unix_nano, :uint64,
             :links, :pointer,
             :links_len, :size_t,
             :attrs, :pointer,
             :attrs_len, :size_t,
             :parent_context, :pointer
    end

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
    attach_function :hh_span_set_attrs, %i[hh_span pointer size_t pointer], :hh_status
    attach_function :hh_span_start_ex,
                    %i[hh_tracer string uint32 hh_span string string pointer pointer pointer], :hh_status
    attach_function :hh_span_add_event, %i[hh_span string pointer size_t uint64 pointer], :hh_status
    attach_function :hh_span_add_link, %i[hh_span pointer pointer], :hh_status
    attach_function :hh_span_set_status, %i[hh_span uint32 string], :hh_status
    attach_function :hh_span_set_name, %i[hh_span string], :hh_status
    attach_function :hh_span_record_error_ex, %i[hh_span string string string uint32 uint64], :hh_status
    attach_function :hh_span_get_context, %i[hh_span pointer], :hh_status
    attach_function :hh_session_inject, %i[hh_tracer string pointer size_t pointer], :hh_status
    attach_function :hh_event_create, %i[hh_tracer string pointer size_t pointer], :hh_status
    attach_function :hh_event_enrich, %i[hh_tracer string string pointer], :hh_status

    # May wait (flush/close up to their timeout; span end exports inline in disable_batch
    # mode): the GVL is released so other Ruby threads keep running.
    attach_function :hh_span_end, [:hh_span], :hh_status, blocking: true
    # hh_span_end with the GVL held, for tracers in batch mode: there ending a span never
    # waits, and releasing and taking back the GVL would cost more than the call.
    attach_function :hh_span_end_batched, :hh_span_end, [:hh_span], :hh_status
    # hh_span_end_at: the same two forms (flags as hh_span_end_ex; 0 here).
    attach_function :hh_span_end_at, %i[hh_span uint64 uint32], :hh_status, blocking: true
    attach_function :hh_span_end_at_batched, :hh_span_end_at, %i[hh_span uint64 uint32], :hh_status
    attach_function :hh_tracer_flush, %i[hh_tracer uint32], :hh_status, blocking: true
    attach_function :hh_tracer_close, %i[hh_tracer uint32], :hh_status, blocking: true
    # Replacing a log handler waits for calls still running in the old one, which need the GVL.
    attach_function :hh_set_log_handler, %i[pointer pointer], :hh_status, blocking: true
    attach_function :hh_tracer_set_log_handler, %i[hh_tracer pointer pointer], :hh_status, blocking: true

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
