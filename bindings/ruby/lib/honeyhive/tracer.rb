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

    attr_reader :handle

    # Creates a tracer; starts its default session in the background (never waits for the
    # network). Keyword arguments become the config JSON (nil values are omitted, so HH_*
    # environment variables apply); see the keys in the README. "client_language" is always
    # "ruby". Raises HoneyHive::Error (status :invalid_config, message naming the field).
    def initialize(api_key: nil, project: nil, server_url: nil, source: nil, test_mode: nil,
                   disable_batch: nil, verbose: nil, **other_config)
      config = { api_key: api_key, project: project, server_url: server_url, source: source,
                 test_mode: test_mode, disable_batch: disable_batch, verbose: verbose }
      config.merge!(other_config)
      json = {}
      config.each { |k, v| json[k.to_s] = v unless v.nil? }
      json["client_language"] = "ruby"

      err = Native::HHError.new
      out = FFI::MemoryPointer.new(:uint64)
      status = Native.hh_tracer_new(HoneyHive.to_json(json), out, err)
      raise Error.from_status(status, err, "tracer") unless status == Native::OK

      @handle = out.read_uint64
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

    # Finalizer for a tracer dropped without #close; never captures the Tracer itself.
    def self.finalizer(handle)
      proc do
        HoneyHive.unregister_tracer(handle)
        Native.hh_tracer_close(handle, HoneyHive.exiting? ? 0 : FINALIZER_CLOSE_MS)
      end
    end

    def closed?
      @closed
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
    # on the span (exception event, status ERROR, honeyhive_error) and re-raised.
    #
    #   tracer.trace("llm.call", event_type: :model, attributes: { "model" => "gpt-4o" }) do |span|
    #     span.enrich(metrics: { tokens: 12 })
    #   end
    def trace(name, event_type: nil, attributes: nil, session_id: nil)
      raise ArgumentError, "Tracer#trace needs a block (use start_span without one)" unless block_given?

      frame = Context.frame(@handle)
      sid = session_id || frame&.session_id
      span = start(name, event_type, attributes, frame&.span, sid, false)
      begin
        Context.with(@handle, Context::Frame.new(span, sid)) { yield span }
      rescue Exception => e # rubocop:disable Lint/RescueException -- recorded, then re-raised
        begin
          span.record_exception(e)
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
    # finish is ended by its finalizer). +parent+: :current (default), a Span, or nil for a
    # root span. +session_id+: nil inherits (parent's session, current session, default).
    def start_span(name, event_type: nil, attributes: nil, parent: :current, session_id: nil)
      if parent == :current
        frame = Context.frame(@handle)
        parent_span = frame&.span
        session_id ||= frame&.session_id
      else
        parent_span = parent
      end
      start(name, event_type, attributes, parent_span, session_id, true)
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

    # The tracer's default session id (created with the tracer), or nil without one.
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

    # ---- propagation ------------------------------------------------------------------

    # Writes "traceparent" and "baggage" (session_id, project, source, ...) of the current
    # span into +headers+ (any object with []=) and returns it. Without a current span nothing
    # is written.
    def inject(headers = {})
      span = current_span
      return headers unless span

      span.context_headers.each { |k, v| headers[k] = v }
      headers
    end

    # Continues a remote trace: with a valid "traceparent" in +headers+ (a Hash of HTTP
    # headers, any case, or a Rack env with HTTP_TRACEPARENT / HTTP_BAGGAGE), the block runs
    # with the remote span as current parent and the session from baggage "session_id" (else
    # the tracer's default). The remote parent is released after the block. A missing or
    # malformed traceparent is ignored, like OpenTelemetry propagators do: the block runs
    # with the context unchanged and gets nil. Returns the block's value.
    #
    # Without a block, returns the remote parent Span (or nil): make it current with
    # with_span and release it with finish.
    def extract(headers)
      remote = extract_remote(headers)
      return remote unless block_given?
      return yield(nil) unless remote

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
      @close_result = lifecycle_result(status, "close")
    end

    # Counters: spans_started, spans_ended, spans_exported, spans_dropped, export_requests,
    # export_failures, export_retries, rest_calls, rest_failures, queue_len, spans_rejected, spans_no_session.
    # Works after close.
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
