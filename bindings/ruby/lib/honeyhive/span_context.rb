# frozen_string_literal: true

module HoneyHive
  # The ids of a span: Span#context returns one; one made by hand (for example from another
  # tracing system's ids) is a remote parent for Tracer#start_span(parent:) or a link target.
  #
  #   ctx = HoneyHive::SpanContext.new(trace_id: "0af7651916cd43dd8448eb211c80319c",
  #                                    span_id: "b7ad6b7169203331")
  class SpanContext
    # trace_id: 32 lowercase hex characters; span_id: 16; trace_flags: Integer (bit 0: sampled).
    attr_reader :trace_id, :span_id, :trace_flags

    def initialize(trace_id:, span_id:, trace_flags: 1, remote: true)
      @trace_id = self.class.hex_id(trace_id, 16, "trace_id")
      @span_id = self.class.hex_id(span_id, 8, "span_id")
      @trace_flags = Integer(trace_flags) & 0xFF
      @remote = remote ? true : false
      freeze
    end

    # @api private: from a filled hh_span_context.
    def self.from_native(ctx)
      new(trace_id: ctx[:trace_id].to_a.pack("C*").unpack1("H*"),
          span_id: ctx[:span_id].to_a.pack("C*").unpack1("H*"),
          trace_flags: ctx[:trace_flags], remote: ctx[:is_remote])
    end

    # @api private
    def self.hex_id(value, bytes, what)
      s = value.to_s.downcase
      unless s.match?(/\A\h{#{bytes * 2}}\z/) && s.match?(/[^0]/)
        raise HoneyHive.invalid_argument("#{what} must be #{bytes * 2} hex characters, not all zero (got #{value.inspect})")
      end

      s
    end

    def remote?
      @remote
    end

    def sampled?
      @trace_flags.allbits?(1)
    end

    # The W3C traceparent of these ids.
    def traceparent
      format("00-%<t>s-%<s>s-%<f>02x", t: @trace_id, s: @span_id, f: @trace_flags)
    end

    # @api private: writes these ids into an hh_span_context.
    def fill(ctx)
      ctx[:trace_id].to_ptr.put_bytes(0, [@trace_id].pack("H*"))
      ctx[:span_id].to_ptr.put_bytes(0, [@span_id].pack("H*"))
      ctx[:trace_flags] = @trace_flags
      ctx[:is_remote] = @remote
      ctx
    end

    def ==(other)
      other.is_a?(SpanContext) && other.trace_id == @trace_id && other.span_id == @span_id &&
        other.trace_flags == @trace_flags && other.remote? == @remote
    end
    alias eql? ==

    def hash
      [@trace_id, @span_id, @trace_flags, @remote].hash
    end

    def inspect
      "#<HoneyHive::SpanContext #{traceparent}#{' remote' if @remote}>"
    end
  end

  # A link from a span to another span: its context (a SpanContext, or a Span whose context is
  # read) and the link's attributes (any keys, typed like Span#add_event's).
  #
  #   tracer.trace("batch", links: [HoneyHive::Link.new(producer_span, "messaging.batch" => 3)]) { }
  class Link
    attr_reader :context, :attributes

    def initialize(context, attributes = nil)
      @context = context
      @attributes = attributes
      freeze
    end

    # @api private: an Array of links (Link, Span or SpanContext) as a C array of hh_link, with
    # everything it points to kept alive in +keep+. Returns [pointer or nil, count].
    def self.native_array(links, keep)
      links = Array(links)
      return [nil, 0] if links.empty?

      ptr = FFI::MemoryPointer.new(Native::HHLink, links.size)
      keep << ptr
      links.each_with_index do |link, i|
        native = Native::HHLink.new(ptr + i * Native::HHLink.size)
        link.is_a?(Link) ? link.fill(native, keep) : Link.new(link).fill(native, keep)
      end
      [ptr, links.size]
    end

    # @api private
    def fill(native, keep)
      ctx = HoneyHive.span_context_of(@context)
      ctx.fill(native[:context])
      attrs = AttrList.new(@attributes)
      keep << attrs
      native[:attrs] = attrs.pointer
      native[:attrs_len] = attrs.size
      native
    end

    def inspect
      "#<HoneyHive::Link #{@context.inspect} #{@attributes.inspect}>"
    end
  end
end
