# frozen_string_literal: true

module HoneyHive
  # Raised when libhoneyhive reports a failure (or an argument cannot be handed to it).
  #
  #   rescue HoneyHive::Error => e
  #     e.status      # => :invalid_config   (Symbol; see HoneyHive::Native::STATUS)
  #     e.code        # => 4                 (the stable numeric hh_status)
  #     e.status_name # => "HH_ERR_INVALID_CONFIG"
  #     e.message     # => the library's message for this call (never contains the API key)
  class Error < StandardError
    attr_reader :status, :code

    def initialize(message = nil, status: :internal, code: nil)
      @status = status
      @code = code || Native::STATUS_CODE.fetch(status, Native::ERR_INTERNAL)
      super(message || status_name)
    end

    def status_name
      Native.hh_status_name(@code)
    end

    # Builds an error from a status returned by the library and the per-call hh_error (may be nil).
    def self.from_status(code, err = nil, context = nil)
      status = Native::STATUS.fetch(code, code)
      text = err && err[:status] == code ? err.message : ""
      text = Native.hh_status_name(code) if text.empty?
      text = "#{context}: #{text}" if context
      new(text, status: status, code: code)
    end
  end
end
