# frozen_string_literal: true

module HoneyHive
  # Method-level tracing, in the spirit of the Python SDK's @trace decorator:
  #
  #   class Assistant
  #     extend HoneyHive::Traced
  #     traced_with TRACER                     # else HoneyHive.tracer
  #
  #     traced :answer, event_type: :chain     # before or after the def
  #     def answer(question, temperature: 0.2) = "..."
  #   end
  #
  # Each call runs in a span named "Assistant#answer" (option name:) whose inputs are the
  # arguments by parameter name (honeyhive_inputs.question, honeyhive_inputs.temperature), its
  # output the return value (honeyhive_outputs.result), and its duration the call's. An
  # exception is recorded on the span (status ERROR) and re-raised unchanged. inputs: false /
  # outputs: false leave those out (secrets, large payloads). traced_all_public traces every
  # public instance method of the class, also those defined after it (except: names to skip).
  # Without a tracer the method runs untraced.
  module Traced
    # Values deeper than this are sent as their inspect text.
    MAX_DEPTH = 6
    # Strings longer than this are cut (inputs and outputs are for reading, not storage).
    MAX_STRING = 8192

    TRACED_OPTIONS = %i[tracer name event_type inputs outputs].freeze

    # The tracer for this class's traced methods (a Tracer, or a callable returning one).
    def traced_with(tracer)
      @honeyhive_tracer = tracer
    end

    # Traces the named instance methods (defined already or later). Options: tracer:, name:
    # (span name; one method only), event_type: (:model, :tool, :chain), inputs: (default
    # true), outputs: (default true).
    def traced(*method_names, **options)
      unknown = options.keys - TRACED_OPTIONS
      raise ArgumentError, "unknown option(s) #{unknown.join(', ')} for traced" unless unknown.empty?

      method_names.each do |m|
        m = m.to_sym
        if method_defined?(m) || private_method_defined?(m)
          Traced.wrap(self, m, options)
        else
          honeyhive_pending[m] = options
        end
      end
      method_names.size == 1 ? method_names.first : method_names
    end

    # Traces every public instance method this class defines, now and later (see #traced for
    # the options). +except+: method names left untraced.
    def traced_all_public(except: [], **options)
      @honeyhive_all_public = [options, except.map(&:to_sym)]
      public_instance_methods(false).each do |m|
        Traced.wrap(self, m, options) unless except.map(&:to_sym).include?(m)
      end
      nil
    end

    # @api private
    def method_added(method_name)
      super
      if (options = honeyhive_pending.delete(method_name))
        Traced.wrap(self, method_name, options)
      elsif @honeyhive_all_public && public_method_defined?(method_name)
        options, except = @honeyhive_all_public
        Traced.wrap(self, method_name, options) unless except.include?(method_name)
      end
    end

    # @api private
    def honeyhive_pending
      @honeyhive_pending ||= {}
    end

    # @api private
    def honeyhive_tracer
      @honeyhive_tracer
    end

    class << self
      # @api private: wraps +klass+#+method_name+ (once) in a module prepended to the class.
      def wrap(klass, method_name, options)
        wrapper = klass.instance_variable_get(:@honeyhive_wrapper)
        unless wrapper
          wrapper = Module.new
          klass.instance_variable_set(:@honeyhive_wrapper, wrapper)
          klass.prepend(wrapper)
        end
        return if wrapper.method_defined?(method_name) || wrapper.private_method_defined?(method_name)

        params = klass.instance_method(method_name).parameters
        span_name = options[:name] || "#{klass.name || klass.inspect}##{method_name}"
        visibility = if klass.private_method_defined?(method_name) then :private
                     elsif klass.protected_method_defined?(method_name) then :protected
                     else :public
                     end
        wrapper.define_method(method_name) do |*args, **kwargs, &block|
          Traced.call(self.class, span_name, params, options, args, kwargs) { super(*args, **kwargs, &block) }
        end
        wrapper.send(visibility, method_name)
      end

      # @api private: runs one traced call (the block calls the original method).
      def call(klass, span_name, params, options, args, kwargs)
        tracer = resolve_tracer(options[:tracer] || klass_tracer(klass) || HoneyHive.tracer)
        return yield unless tracer

        tracer.trace(span_name, event_type: options[:event_type]) do |span|
          if options.fetch(:inputs, true)
            inputs = inputs(params, args, kwargs)
            span.enrich(inputs: inputs) unless inputs.empty?
          end
          result = yield
          span.enrich(outputs: { "result" => plain(result) }) if options.fetch(:outputs, true)
          result
        end
      end

      # @api private: the call's arguments by parameter name (a rest parameter gets an Array,
      # a keyword rest its Hash); a block is left out.
      def inputs(params, args, kwargs)
        out = {}
        positional = params.select { |type, _| %i[req opt rest].include?(type) }
        required_left = positional.count { |type, _| type == :req }
        optional_room = args.size - required_left
        i = 0
        positional.each do |type, name|
          case type
          when :req
            required_left -= 1
            out[name.to_s] = plain(args[i]) if i < args.size
            i += 1
          when :opt
            next unless optional_room.positive?

            out[name.to_s] = plain(args[i])
            optional_room -= 1
            i += 1
          when :rest
            take = [args.size - i - required_left, 0].max
            out[(name || :args).to_s] = plain(args[i, take])
            i += take
          end
        end
        named = params.select { |type, _| %i[key keyreq].include?(type) }.map { |_, n| n }
        rest = params.find { |type, _| type == :keyrest }
        extra = {}
        kwargs.each do |k, v|
          if named.include?(k) then out[k.to_s] = plain(v)
          else extra[k.to_s] = plain(v)
          end
        end
        out[(rest && rest[1] || :kwargs).to_s] = extra unless extra.empty?
        out
      end

      # @api private: a value as JSON-friendly data (deep, bounded): other objects become
      # their inspect text.
      def plain(value, depth = 0)
        case value
        when nil, true, false, Integer, Float then value
        when String then value.length > MAX_STRING ? "#{value[0, MAX_STRING]}..." : value
        when Symbol then value.to_s
        when Array
          return value.inspect[0, MAX_STRING] if depth >= MAX_DEPTH

          value.map { |v| plain(v, depth + 1) }
        when Hash
          return value.inspect[0, MAX_STRING] if depth >= MAX_DEPTH

          value.each_with_object({}) { |(k, v), h| h[k.to_s] = plain(v, depth + 1) }
        else
          text = value.inspect
          text.length > MAX_STRING ? "#{text[0, MAX_STRING]}..." : text
        end
      end

      private

      def klass_tracer(klass)
        klass.ancestors.each do |a|
          next unless a.respond_to?(:honeyhive_tracer)

          t = a.honeyhive_tracer
          return t if t
        end
        nil
      end

      def resolve_tracer(tracer)
        tracer.respond_to?(:call) && !tracer.is_a?(Tracer) ? tracer.call : tracer
      end
    end
  end
end
