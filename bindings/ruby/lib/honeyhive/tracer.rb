# frozen_string_literal: true

require "json"

module HoneyHive
  # One configured tracer (api key, project, source, server URL, export mode). Any number may
  # exist; they share no state. All methods are thread-safe. The current span and session are
  # fiber-local and kept per tracer (see HoneyHive::Context).
  class Tracer
    # Time a tracer dropped without #close gets to flush when the garbage collector (or Ruby's
    # exit) finalizes it.
    FINALIZER_CLOSE_MS = 1000

    # Resource attributes naming the Ruby runtime, below anything the user sets (config
    # resource_attributes or OTEL_RESOURCE_ATTRIBUTES).
    RUNTIME_RESOURCE = {
      "process.runtime.name" => RUBY_ENGINE,
      "process.runtime.version" => RUBY_VERSION,
      "process.runtime.description" => RUBY_DESCRIPTION,
    }.freeze

    attr_reader :handle

    # Creates a tracer (never waits for the network). Keyword arguments become the config JSON
    # (nil values are omitted, so HH_* environment variables apply); see the keys in the
    # README. "client_language" is always "ruby". +session_name+ (the default session's name)
    # defaults to HH_SESSION_NAME, else the script's file name (File.basename($PROGRAM_NAME)).
    # +resource_attributes+: a Hash merged into the OTLP resource (over
    # OTEL_RESOURCE_ATTRIBUTES), with process.runtime.* naming Ruby unless set there.
    # +link_carrier+: headers (a Hash in any case, or a Rack env) with a traceparent and/or
    # baggage: the tracer's root spans continue that trace, and the baggage's session is the
    # default session. Raises HoneyHive::Error (status :invalid_config, message naming the
    # field).
    def initialize(api_key: nil, project: nil, server_url: nil, source: nil, test_mode: nil,
                   disable_batch: nil, verbose: nil, session_name: nil, service_name: nil,
                   resource_attributes: nil, link_carrier: nil, logger: nil, **other_config)
      config = { api_key: api_key, project: project, server_url: server_url, source: source,
                 test_mode: test_mode, disable_batch: disable_batch, verbose: verbose,
                 session_name: session_name || self.class.default_session_name,
                 service_name: service_name,
                 resource_attributes: self.class.resource_attributes(resource_attributes),
                 link_carrier: link_carrier && self.class.carrier(link_carrier) }
      config.merge!(other_config)
      json = {}
      config.each { |k, v| json[k.to_s] = v unless v.nil? }
      json["client_language"] = "ruby"

      err = Native::HHError.new
      out = FFI::MemoryPointer.new(:uint64)
      status = Native.hh_tracer_new(HoneyHive.to_json(json), out, err)
      raise Error.from_status(status, err, "tracer") unless status == Native::OK

      @handle = out.read_uint64
      @logger = logger
      @telemetry_errors = 0
      Diagnostics.route(@handle, logger) if logger
      @closed = false
      @close_result = nil # the first close's result, for later closes
      # Ending a span may wait for the network only in immediate mode (disable_batch, from
      # here or HH_DISABLE_BATCH): then it releases the GVL.
      batch = disable_batch.nil? ? other_config.fetch(:disable_batch, nil) : disable_batch
      batch = ENV.fetch("HH_DISABLE_BATCH", "") if batch.nil?
      @immediate = !(batch == false || %w[false 0 no].include?(batch.to_s.strip.downcase) ||
                     batch.to_s.strip.empty?)
      HoneyHive.register_tracer(@handle)
      ObjectSpace.define_finalizer(self, self.class.finalizer(@handle))
    end

    # Tracer.open(**config) { |tracer| ... }: closes the tracer when the block returns.
    def self.open(**config)
      tracer = new(**config)
      return tracer unless block_given?

      begin
        yield tracer
      ensure
        tracer.close
      end
    end

    # The default session's name when none is given: nil when HH_SESSION_NAME is set (the
    # library reads it), else the script's file name ("app.rb", "rails", "puma"), not the
    # interpreter's.
    def self.default_session_name
      env = ENV.fetch("HH_SESSION_NAME", "")
      return nil unless env.empty?

      name = File.basename($PROGRAM_NAME.to_s)
      name.empty? ? nil : name
    end

    # The resource_attributes config: RUNTIME_RESOURCE below +user+'s (a Hash), leaving out
    # the keys OTEL_RESOURCE_ATTRIBUTES sets (the library merges those, and the user's values
    # win over the binding's).
    def self.resource_attributes(user)
      from_env = ENV.fetch("OTEL_RESOURCE_ATTRIBUTES", "").split(",").map { |kv| kv.split("=", 2).first.strip }
      merged = RUNTIME_RESOURCE.reject { |k, _| from_env.include?(k) }
      user&.each { |k, v| merged[k.to_s] = v }
      merged
    end

    # The link_carrier config: traceparent and baggage from a Hash of headers (any case) or a
    # Rack env; nil when it has neither.
    def self.carrier(headers)
      carrier = {}
      %w[traceparent baggage].each do |name|
        value = HoneyHive.header(headers, name)
        carrier[name] = value unless value.nil? || value.empty?
      end
      carrier.empty? ? nil : carrier
    end

    # Finalizer for a tracer dropped without #close; never captures the Tracer itself.
    def self.finalizer(handle)
      proc do
        HoneyHive.unregister_tracer(handle)
        # At exit the finalizers may run in any order: stderr again before closing, so that
        # no line of the close waits for a dispatcher thread Ruby already stopped.
        Diagnostics.uninstall_all if HoneyHive.exiting? && Diagnostics.dispatcher_gone?
        Native.hh_tracer_close(handle, HoneyHive.exiting? ? 0 : FINALIZER_CLOSE_MS)
        Diagnostics.forget(handle)
      end
    end

    def closed?
      @closed
    end

    # This tracer's Logger (nil: it uses HoneyHive.logger).
    attr_reader :logger

    # Sets this tracer's own Logger for its diagnostics (nil: HoneyHive.logger again).
    def logger=(logger)
      @logger = logger
      if logger
        Diagnostics.route(@handle, logger)
      else
        Diagnostics::LOGGERS.delete(@handle)
      end
    end

    # Telemetry errors of span operations that were logged instead of raised (ended span,
    # closed tracer, limits, bad input).
    attr_reader :telemetry_errors

    # @api private
    def count_telemetry_error
      @telemetry_errors += 1
    end

    # @api private: whether ending a span may export inline (disable_batch).
    def immediate?
      @immediate
    end

    # ---- spans ------------------------------------------------------------------------

    # Runs the block inside a new span and returns the block's value. The span's parent is the
    # current span of this tracer (fiber-local); a root span joins the current session
    # (with_session/use_session/extract), else the tracer's default session. The span is the
    # current span inside the block and is ended when the block exits. An exception is recorded
    # on the span (exception event with the backtrace and escaped = true, status ERROR,
    # honeyhive_error) and re-raised.
    #
    # +kind+: :internal (default), :server, :client, :producer or :consumer. +links+: an Array
    # of Link, Span or SpanContext. +start_timestamp+: when the work started (a Time or Integer
    # Unix-epoch nanoseconds; nil: now).
    #
    #   tracer.trace("llm.call", event_type: :model, attributes: { "model" => "gpt-4o" }) do |span|
    #     span.enrich(metrics: { tokens: 12 })
    #   end
    def trace(name, event_type: nil, attributes: nil, session_id: nil, kind: nil, links: nil,
              start_timestamp: nil)
      raise ArgumentError, "Tracer#trace needs a block (use start_span without one)" unless block_given?

      frame = Context.frame(@handle)
      sid = session_id || frame&.session_id
      span =
        begin
          if kind || links || start_timestamp
            start_ex(name, event_type, attributes, frame&.span, sid, false, kind, links, start_timestamp)
          else
            start(name, event_type, attributes, frame&.span, sid, false)
          end
        rescue Error => e
          no_span(name, e)
        end
      begin
        Context.with(@handle, Context::Frame.new(span, sid)) { yield span }
      rescue Exception => e # rubocop:disable Lint/RescueException -- recorded, then re-raised
        begin
          span.record_exception(e, escaped: true)
        rescue Error
          nil # the span was finished inside the block: nothing to record on
        end
        raise
      ensure
        begin
          span.finish
        rescue Error
          nil # never replace the block's outcome with a telemetry error
        end
      end
    end

    # Starts a span without making it current; call Span#finish (a span dropped without
    # finish is ended by its finalizer). +parent+: :current (default), a Span, a SpanContext
    # (a remote parent given by its ids, e.g. from another tracing system; the span joins
    # +session_id+ or the tracer's default session), or nil for a root span. +session_id+: nil
    # inherits (parent's session, current session, default). +kind+, +links+,
    # +start_timestamp+: as #trace.
    def start_span(name, event_type: nil, attributes: nil, parent: :current, session_id: nil,
                   kind: nil, links: nil, start_timestamp: nil)
      if parent == :current
        frame = Context.frame(@handle)
        parent_span = frame&.span
        session_id ||= frame&.session_id
      else
        parent_span = parent
      end
      if kind || links || start_timestamp || !(parent_span.nil? || parent_span.is_a?(Span))
        start_ex(name, event_type, attributes, parent_span, session_id, true, kind, links, start_timestamp)
      else
        start(name, event_type, attributes, parent_span, session_id, true)
      end
    rescue Error => e
      no_span(name, e)
    end

    # Makes +span+ (from start_span or extract) the current span for the block.
    def with_span(span)
      Context.with(@handle, Context::Frame.new(span, nil)) { yield span }
    end

    # The current span of this tracer in this fiber, or nil.
    def current_span
      Context.frame(@handle)&.span
    end

    # ---- sessions ---------------------------------------------------------------------

    # Creates a session (POST /session/start runs in the background) and returns its id.
    def create_session(name = nil, inputs: nil, metadata: nil, user_properties: nil,
                       session_id: nil, source: nil, skip_api_call: nil)
      options = { session_name: name, inputs: inputs, metadata: metadata,
                  user_properties: user_properties, session_id: session_id, source: source,
                  skip_api_call: skip_api_call }.reject { |_, v| v.nil? }
      err = Native::HHError.new
      buf = FFI::MemoryPointer.new(:char, Native::SESSION_ID_BUF_LEN)
      json = options.empty? ? nil : HoneyHive.to_json(options)
      status = Native.hh_session_create(@handle, json, buf, buf.size, err)
      raise Error.from_status(status, err, "session") unless status == Native::OK

      buf.read_string
    end

    # Creates a session and makes it current (fiber-local) for the block: spans started inside
    # belong to it (root spans join it; a current span, if any, stays their parent). Yields
    # and returns the block's value; the previous session is current again afterwards.
    #
    #   tracer.with_session("chat", inputs: { q: "hi" }) { |session_id| ... }
    def with_session(name = nil, **options, &block)
      raise ArgumentError, "Tracer#with_session needs a block (use create_session)" unless block

      use_session(create_session(name, **options), &block)
    end

    # Makes an existing session id current for the block (no REST call).
    def use_session(session_id)
      frame = Context.frame(@handle)
      sid = HoneyHive.c_string(session_id)
      Context.with(@handle, Context::Frame.new(frame&.span, sid)) { yield sid }
    end

    # The session spans started here would join: the current session, else the current
    # span's session, else the tracer's default session (nil if there is none).
    def current_session_id
      frame = Context.frame(@handle)
      (frame && (frame.session_id || frame.span&.session_id)) || session_id
    end

    # The tracer's default session id, or nil without one.
    def session_id
      Native.read_session_id("session_id") { |buf, size, len| Native.hh_tracer_session_id(@handle, buf, size, len) }
    end

    # Enriches a session (PUT /events in the background): metadata, inputs, outputs, metrics,
    # feedback, config, user_properties, duration; other keys join metadata. +session_id+ nil
    # means the current session (see current_session_id). Returns nil.
    def enrich_session(session_id = nil, **fields)
      body = fields.reject { |_, v| v.nil? }
      sid = session_id || current_frame_session_id
      err = Native::HHError.new
      status = Native.hh_session_enrich(@handle, sid && HoneyHive.c_string(sid),
                                        HoneyHive.to_json(body), err)
      raise Error.from_status(status, err, "enrich_session") unless status == Native::OK

      nil
    end

    # ---- events by id -----------------------------------------------------------------

    # Records a standalone event (POST /events, in the background) and returns its id (made
    # locally: nothing waits). +event_type+: :model, :tool or :chain (the library's default
    # when nil: :tool, as the Python SDK's); +duration+ in milliseconds; other keywords
    # (start_time, end_time, user_properties, ...) are sent as given. The event joins
    # +session_id+, else the current session (with_session/use_session), else the tracer's
    # default session.
    #
    #   id = tracer.create_event("retrieval", event_type: :tool, inputs: { q: "hi" },
    #                            outputs: { docs: 2 }, duration: 12.5)
    def create_event(name, event_type: nil, inputs: nil, outputs: nil, error: nil, duration: nil,
                     metadata: nil, config: nil, feedback: nil, metrics: nil, session_id: nil,
                     **other)
      event = { event_name: name, event_type: event_type&.to_s, inputs: inputs, outputs: outputs,
                error: error, duration: duration, metadata: metadata, config: config,
                feedback: feedback, metrics: metrics,
                session_id: session_id || Context.frame(@handle)&.session_id }
      event.merge!(other)
      body = event.reject { |_, v| v.nil? }
      err = Native::HHError.new
      buf = FFI::MemoryPointer.new(:char, Native::EVENT_ID_BUF_LEN)
      status = Native.hh_event_create(@handle, HoneyHive.to_json(body), buf, buf.size, err)
      raise Error.from_status(status, err, "create_event") unless status == Native::OK

      buf.read_string
    end

    # Enriches any event by id (PUT /events, in the background), for example feedback that
    # arrives after the request ended: the keywords of #enrich_session (metadata, inputs,
    # outputs, metrics, feedback, config, user_properties, duration; others join metadata).
    # Returns nil.
    #
    #   tracer.enrich_event(id, feedback: { rating: 5, comment: "great" })
    def enrich_event(event_id, **fields)
      body = fields.reject { |_, v| v.nil? }
      err = Native::HHError.new
      status = Native.hh_event_enrich(@handle, HoneyHive.c_string(event_id), HoneyHive.to_json(body), err)
      raise Error.from_status(status, err, "enrich_event") unless status == Native::OK

      nil
    end

    # ---- propagation ------------------------------------------------------------------

    # Writes the W3C context into +headers+ (any object with []=) and returns it: with a
    # current span (and no +session_id+), its "traceparent" and "baggage" (session_id,
    # project, source, ...); without one, the "baggage" that continues a session in another
    # service: +session_id+'s, else the current session's (with_session/use_session), else the
    # tracer's default session's (nothing when there is none: auto-create mode).
    def inject(headers = {}, session_id: nil)
      span = session_id.nil? && current_span
      if span
        span.context_headers.each { |k, v| headers[k] = v }
      else
        baggage = HoneyHive.session_baggage(@handle, session_id || Context.frame(@handle)&.session_id)
        headers["baggage"] = baggage if baggage
      end
      headers
    end

    # Continues a remote trace: with a valid "traceparent" in +headers+ (a Hash of HTTP
    # headers, any case, or a Rack env with HTTP_TRACEPARENT / HTTP_BAGGAGE), the block runs
    # with the remote span as current parent and the session from baggage "session_id" (else
    # the tracer's default). The remote parent is released after the block. A missing or
    # malformed traceparent is ignored, like OpenTelemetry propagators do: the block runs
    # with the context unchanged and gets nil (but with a baggage "session_id", as #inject
    # writes without a span, that session is current for the block). Returns the block's
    # value.
    #
    # Without a block, returns the remote parent Span (or nil): make it current with
    # with_span and release it with finish.
    def extract(headers)
      remote = extract_remote(headers)
      return remote unless block_given?

      unless remote
        sid = HoneyHive.baggage_session_id(HoneyHive.header(headers, "baggage"))
        return sid ? use_session(sid) { yield nil } : yield(nil)
      end

      begin
        Context.with(@handle, Context::Frame.new(remote, nil)) { yield remote }
      ensure
        begin
          remote.finish
        rescue Error
          nil
        end
      end
    end

    # ---- lifecycle --------------------------------------------------------------------

    # Waits at most +timeout+ seconds until everything ended or sent before the call was
    # delivered. Returns true when all was delivered and nothing was lost since the previous
    # flush, false on timeout or lost/failed exports (details in #stats). Raises
    # HoneyHive::Error only for misuse (a closed tracer). Releases the GVL while waiting.
    def flush(timeout: 5.0)
      status = Native.hh_tracer_flush(@handle, HoneyHive.timeout_ms(timeout))
      lifecycle_result(status, "flush")
    end

    # Flushes (as #flush), stops export and invalidates the tracer. Returns true or false like
    # #flush; returns within +timeout+ seconds even if the server hangs. Closing again (or from
    # two threads at once) waits for the first close and returns its result.
    def close(timeout: 5.0)
      return @close_result unless @close_result.nil?

      unless @closed
        @closed = true
        ObjectSpace.undefine_finalizer(self)
        HoneyHive.unregister_tracer(@handle)
      end
      status = Native.hh_tracer_close(@handle, HoneyHive.timeout_ms(timeout))
      # Closing removed the tracer's log handler (its late lines go to the process-wide one).
      Diagnostics.forget(@handle)
      @close_result = lifecycle_result(status, "close")
    end

    # Counters: spans_started, spans_ended, spans_exported, spans_dropped, export_requests,
    # export_failures, export_retries, rest_calls, rest_failures, queue_len, spans_rejected,
    # spans_no_session (spans not exported because they had no session). Works after close.
    def stats
      stats = Native::HHStats.new
      status = Native.hh_tracer_stats(@handle, stats)
      raise Error.from_status(status, nil, "stats") unless status == Native::OK

      stats.to_h
    end

    def inspect
      "#<HoneyHive::Tracer handle=0x#{@handle.to_s(16)}#{' closed' if @closed}>"
    end

    private

    # A span that could not start (closed tracer, limits, bad input): the failure is counted
    # and logged, and the application gets a span whose operations do nothing.
    def no_span(name, error)
      HoneyHive.telemetry_error(self, error)
      Span.noop(self, name.to_s)
    end

    # The plain path (hh_span_start): no options struct is made.
    def start(name, event_type, attributes, parent, session_id, finalize)
      attrs = attributes && !attributes.empty? ? HoneyHive.to_json(attributes) : nil
      err, out = HoneyHive.scratch
      name = HoneyHive.c_string(name)
      status = Native.hh_span_start(@handle, name, HoneyHive.event_type_code(event_type),
                                    parent ? parent.handle : 0,
                                    session_id && HoneyHive.c_string(session_id), attrs, out, err)
      raise Error.from_status(status, err, "span #{name.inspect}") unless status == Native::OK

      Span.new(self, out.read_uint64, name, finalize: finalize)
    end

    # #start with kind, links, start time or a parent given by ids: hh_span_start_ex.
    def start_ex(name, event_type, attributes, parent, session_id, finalize, kind, links, start_timestamp)
      keep = []
      options = Native::HHSpanOptions.new
      options[:kind] = kind_code(kind)
      options[:start_time_unix_nano] = HoneyHive.time_ns(start_timestamp)
      options[:links], options[:links_len] = Link.native_array(links, keep)
      parent_handle = 0
      case parent
      when nil then nil
      when Span then parent_handle = parent.handle
      when SpanContext
        ctx = parent.fill(Native::HHSpanContext.new)
        keep << ctx
        options[:parent_context] = ctx.pointer
      else raise Error.new("parent must be a HoneyHive::Span, a HoneyHive::SpanContext, :current or nil " \
                           "(got #{parent.class})", status: :invalid_argument)
      end
      attrs = attributes && !attributes.empty? ? HoneyHive.to_json(attributes) : nil
      err, out = HoneyHive.scratch
      name = HoneyHive.c_string(name)
      status = Native.hh_span_start_ex(@handle, name, HoneyHive.event_type_code(event_type), parent_handle,
                                       session_id && HoneyHive.c_string(session_id), attrs, options, out, err)
      raise Error.from_status(status, err, "span #{name.inspect}") unless status == Native::OK

      Span.new(self, out.read_uint64, name, finalize: finalize)
    end

    def kind_code(kind)
      return 0 if kind.nil?

      Native::SPAN_KINDS.fetch(kind) do
        Native::SPAN_KINDS.fetch(kind.to_s.downcase.to_sym) do
          raise Error.new("unknown span kind #{kind.inspect} (use one of #{Native::SPAN_KINDS.keys.join(', ')})",
                          status: :invalid_argument)
        end
      end
    end

    def current_frame_session_id
      frame = Context.frame(@handle)
      frame && (frame.session_id || frame.span&.session_id)
    end

    def extract_remote(headers)
      traceparent = HoneyHive.header(headers, "traceparent")
      return nil if traceparent.nil? || traceparent.empty?

      baggage = HoneyHive.header(headers, "baggage")
      err = Native::HHError.new
      out = FFI::MemoryPointer.new(:uint64)
      begin
        tp = HoneyHive.c_string(traceparent)
        bag = baggage && HoneyHive.c_string(baggage)
      rescue Error
        return nil
      end
      status = Native.hh_tracer_extract(@handle, tp, bag, out, err)
      return Span.new(self, out.read_uint64, "remote", remote: true, finalize: true) if status == Native::OK
      return nil if [Native::ERR_INVALID_ARGUMENT, Native::STATUS_CODE[:invalid_utf8]].include?(status)

      if status == Native::ERR_TRACER_CLOSED
        # A request arriving while the app shuts down is still served: no remote parent.
        HoneyHive.telemetry_error(self, Error.from_status(status, err, "extract"))
        return nil
      end
      raise Error.from_status(status, err, "extract")
    end

    def lifecycle_result(status, what)
      case status
      when Native::OK then true
      when Native::ERR_TIMEOUT, Native::ERR_EXPORT_FAILED then false
      else raise Error.from_status(status, nil, what)
      end
    end
  end
end
