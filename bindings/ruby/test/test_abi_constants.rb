# frozen_string_literal: true

require "test_helper"
require "tmpdir"

# The constants and struct layouts native.rb writes by hand (abi.rb is generated) must match
# include/honeyhive.h: a drift would send wrong kinds, types or flags without any error.
class TestAbiConstants < Minitest::Test
  HEADER = File.expand_path("../../../include/honeyhive.h", __dir__)

  def defines(prefix)
    File.read(HEADER).scan(/^#define (#{prefix}\w+) (\d+)$/).to_h { |n, v| [n.delete_prefix(prefix), Integer(v)] }
  end

  def test_span_kinds_status_codes_attr_types_and_flags
    skip "#{HEADER} not found (installed gem)" unless File.file?(HEADER)

    kinds = defines("HH_SPAN_KIND_").transform_keys { |k| k.downcase.to_sym }
    assert_equal kinds, HoneyHive::Native::SPAN_KINDS
    status = defines("HH_SPAN_STATUS_").transform_keys { |k| k.downcase.to_sym }
    assert_equal status, HoneyHive::Native::SPAN_STATUS
    attrs = defines("HH_ATTR_")
    refute_empty attrs
    attrs.each { |name, value| assert_equal value, HoneyHive::Native.const_get("ATTR_#{name}"), "HH_ATTR_#{name}" }
    assert_equal defines("HH_ERROR_").fetch("ESCAPED"), HoneyHive::Native::ERROR_ESCAPED
  end

  # Field names, in order, of each struct the binding lays out, as the header declares them.
  def test_struct_fields_in_header_order
    skip "#{HEADER} not found (installed gem)" unless File.file?(HEADER)

    text = File.read(HEADER).gsub(%r{/\*.*?\*/}m, "")
    {
      "hh_attr" => HoneyHive::Native::HHAttr,
      "hh_span_context" => HoneyHive::Native::HHSpanContext,
      "hh_link" => HoneyHive::Native::HHLink,
      "hh_span_options" => HoneyHive::Native::HHSpanOptions,
    }.each do |name, klass|
      body = text[/typedef struct \{([^{}]*)\} #{name};/m, 1]
      refute_nil body, "#{name} not in the header"
      fields = body.scan(/(\w+)(?:\[\w+\])?;/).flatten.map(&:to_sym)
      assert_equal fields, klass.members, name
    end
  end

  # Sizes and offsets as a C compiler lays the header's structs out on this machine.
  def test_struct_layout_matches_the_c_compiler
    skip "#{HEADER} not found (installed gem)" unless File.file?(HEADER)
    cc = ENV.fetch("CC", "cc")
    skip "no C compiler (#{cc})" unless system(cc, "--version", out: File::NULL, err: File::NULL)

    structs = {
      "hh_attr" => HoneyHive::Native::HHAttr,
      "hh_span_context" => HoneyHive::Native::HHSpanContext,
      "hh_link" => HoneyHive::Native::HHLink,
      "hh_span_options" => HoneyHive::Native::HHSpanOptions,
    }
    prints = structs.flat_map do |name, klass|
      [%(printf("#{name} sizeof %zu\\n", sizeof(#{name}));)] +
        klass.members.map { |f| %(printf("#{name} #{f} %zu\\n", offsetof(#{name}, #{f}));) }
    end
    source = "#include <stdio.h>\n#include <stddef.h>\n#include \"honeyhive.h\"\n" \
             "int main(void) {\n#{prints.join("\n")}\nreturn 0;\n}\n"
    Dir.mktmpdir do |dir|
      File.write(File.join(dir, "layout.c"), source)
      exe = File.join(dir, "layout")
      ok = system(cc, "-I", File.dirname(HEADER), "-o", exe, File.join(dir, "layout.c"))
      assert ok, "compiling the layout probe failed"
      c = IO.popen([exe], &:read).lines.to_h { |l| n, f, v = l.split; [[n, f], Integer(v)] }
      structs.each do |name, klass|
        assert_equal c.fetch([name, "sizeof"]), klass.size, "sizeof(#{name})"
        klass.members.each do |f|
          assert_equal c.fetch([name, f.to_s]), klass.offset_of(f), "offsetof(#{name}, #{f})"
        end
      end
    end
  end
end
