# frozen_string_literal: true

require "logger"

module HoneyHive
  # The library's diagnostic lines (warnings, notices) go to a Ruby Logger instead of stderr.
  #
  # How a line gets from a library thread to Ruby: the library calls one C function pointer,
  # an ffi callback that is never freed (HANDLERS). On a Ruby thread it runs
  # directly; on one of the library's own threads, ffi hands the call to its dispatcher, a Ruby
  # thread, and the library thread waits until the Ruby code has run. The user data given with
  # the handler is not memory but a number (0: the process-wide logger, else the tracer's
  # handle) looked up in LOGGERS, so nothing has to stay allocated for the library: replacing a
  # logger only changes the table, and the C handler is set once per tracer.
  #
  # Where the dispatcher does not exist the handler must not be installed:
  # - at exit, Ruby stops its threads (the dispatcher too) after the at_exit hooks (where test
  #   runners such as minitest still run code) and before finalizers and the library's own exit
  #   flush: the finalizer of EXIT_SENTINEL, a constant collected only at exit, sends every line
  #   back to stderr (a line logged by a library thread in between waits until the process
  #   ends: the library bounds its waits for such a call to 2 seconds);
  # - in a forked child, ffi's dispatcher thread did not survive the fork: the child sends its
  #   lines to stderr, and with ffi >= 1.16 (which starts a new dispatcher) installs a handler
  #   made in the child (Diagnostics.after_fork).
  # Setting and removing a handler releases the GVL: the library waits for calls in progress,
  # and those need the GVL to finish.
  module Diagnostics
    LEVELS = { Native::LOG_DEBUG => Logger::DEBUG, Native::LOG_INFO => Logger::INFO,
               Native::LOG_WARN => Logger::WARN, Native::LOG_ERROR => Logger::ERROR }.freeze
    PROGNAME = "honeyhive"

    # key (0 or a tracer handle) => Logger. A plain Hash: reads and writes are atomic under the
    # GVL, and the handler never takes a lock an application thread may hold.
    LOGGERS = {}

    # ffi 1.16 and later start a new dispatcher in a forked child for callbacks made after the
    # fork; older ones do not, so a child there leaves the lines on stderr.
    FORK_SAFE = Gem::Version.new(FFI::VERSION) >= Gem::Version.new("1.16")

    def self.new_handler
      FFI::Function.new(:void, %i[pointer uint32 string]) do |user_data, level, message|
        Diagnostics.deliver(user_data.address, level, message)
      end
    end

    # Every handler ever installed stays referenced (the library may still hold a pointer to an
    # old one after a fork): a few bytes per fork.
    HANDLERS = [new_handler]

    @installed = {} # keys whose C handler is HANDLER
    @pid = Process.pid

    class << self
      # @api private: one line from the library (never raises: it runs inside a C callback).
      def deliver(key, level, message)
        logger = LOGGERS[key] || LOGGERS[0] || HoneyHive.logger
        logger.add(LEVELS.fetch(level, Logger::WARN), message.to_s.dup.force_encoding(Encoding::UTF_8).scrub, PROGNAME)
      rescue Exception # rubocop:disable Lint/RescueException -- must not unwind into C
        nil
      end

      # @api private: routes the lines of +key+ (0: process-wide) to +logger+.
      def route(key, logger)
        LOGGERS[key] = logger
        install(key)
      end

      # @api private: forgets +key+ (its tracer was closed: the library removed its handler).
      def forget(key)
        LOGGERS.delete(key)
        @installed.delete(key)
      end

      # @api private
      def install(key)
        return true if @installed[key] || @exited || @pid != Process.pid

        status = key.zero? ? Native.hh_set_log_handler(HANDLERS.last, nil) : Native.hh_tracer_set_log_handler(key, HANDLERS.last, FFI::Pointer.new(key))
        @installed[key] = true if status == Native::OK
        status == Native::OK
      end

      # Sends every line back to stderr (at exit: no Ruby thread will take them any more).
      def uninstall_all
        @exited = true
        @installed.keys.each do |key|
          key.zero? ? Native.hh_set_log_handler(nil, nil) : Native.hh_tracer_set_log_handler(key, nil, nil)
        end
        @installed.clear
      end

      # @api private: true once Ruby has stopped ffi's dispatcher thread (at exit): then no
      # line from a library thread can reach Ruby any more.
      def dispatcher_gone?
        Thread.list.none? { |t| t.name == "FFI Callback Dispatcher" }
      end

      # @api private: the finalizer of EXIT_SENTINEL (never captures the sentinel).
      def exit_finalizer
        proc { uninstall_all }
      end

      # @api private: in a forked child the installed handler belongs to the parent's
      # dispatcher thread, which did not survive the fork: lines go to stderr, then (where ffi
      # supports it) to a handler made in the child.
      def after_fork
        stale = @installed.keys
        @installed.clear
        stale.each { |key| key.zero? ? Native.hh_set_log_handler(nil, nil) : Native.hh_tracer_set_log_handler(key, nil, nil) }
        return unless FORK_SAFE

        HANDLERS << new_handler
        @pid = Process.pid
        stale.each { |key| install(key) }
      end
    end

    EXIT_SENTINEL = Object.new
    ObjectSpace.define_finalizer(EXIT_SENTINEL, exit_finalizer)
  end
end
