# frozen_string_literal: true

module HoneyHive
  # Version of this gem. It wraps the C ABI 0.1.x of libhoneyhive.
  VERSION = "0.1.0"
  # The libhoneyhive major.minor this gem was written against (HH_VERSION_MAJOR/MINOR).
  ABI_VERSION = "0.1"
end
