# frozen_string_literal: true

module HoneyHive
  # The implicit "current span / current session", kept per tracer in fiber-local storage:
  # Fiber[] on Ruby >= 3.2 (inherited by fibers and threads started from the current fiber),
  # Thread.current[] before (which is fiber-local too, and not inherited).
  #
  # The stored value is a frozen Hash {tracer key => Frame}; it is replaced, never mutated,
  # so storage inherited by a child fiber or thread never aliases the parent's.
  module Context
    KEY = :__honeyhive_context
    EMPTY = {}.freeze

    # span: the current Span (or remote parent), or nil; session_id: the session chosen by
    # with_session/use_session, or nil (inherit from the span, else the tracer's default).
    Frame = Struct.new(:span, :session_id)

    if Fiber.respond_to?(:[]) && Fiber.respond_to?(:[]=)
      def self.storage
        Fiber[KEY] || EMPTY
      end

      def self.storage=(value)
        Fiber[KEY] = value
      end
    else
      def self.storage
        Thread.current[KEY] || EMPTY
      end

      def self.storage=(value)
        Thread.current[KEY] = value
      end
    end

    def self.frame(key)
      storage[key]
    end

    # Runs the block with +frame+ as the current frame of tracer +key+, then restores the
    # previous frame (also on exceptions, throw and break).
    def self.with(key, frame)
      previous = storage
      self.storage = previous.merge(key => frame.freeze).freeze
      begin
        yield
      ensure
        self.storage = previous
      end
    end
  end
end
