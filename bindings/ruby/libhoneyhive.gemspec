# frozen_string_literal: true

require_relative "lib/honeyhive/version"

Gem::Specification.new do |spec|
  spec.name = "libhoneyhive"
  spec.version = HoneyHive::VERSION
  spec.summary = "HoneyHive tracing for Ruby, on the libhoneyhive C library"
  spec.description = "Sessions, spans, enrichment and W3C propagation for LLM observability " \
                     "with HoneyHive (or any OTLP backend), through the libhoneyhive C ABI via ffi."
  spec.authors = ["libhoneyhive contributors"]
  spec.license = "Apache-2.0"
  spec.homepage = "https://www.honeyhive.ai"
  spec.required_ruby_version = ">= 2.7"

  root = __dir__
  spec.files = Dir.chdir(root) do
    Dir["lib/**/*.rb"] + Dir["lib/honeyhive/native/*.{so,dylib}"] + ["README.md", "libhoneyhive.gemspec"]
  end
  spec.require_paths = ["lib"]
  # A gem carrying its own libhoneyhive is specific to this platform.
  spec.platform = Gem::Platform.local unless Dir[File.join(root, "lib/honeyhive/native/*.{so,dylib}")].empty?

  spec.add_dependency "ffi", ">= 1.15"
  spec.metadata["rubygems_mfa_required"] = "true"
end
