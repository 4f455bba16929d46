# frozen_string_literal: true

require "test_helper"

# HoneyHive::Traced: traced methods send a span with the arguments as inputs (by parameter
# name), the return value as output, and exceptions recorded and re-raised.
class TestTraced < Minitest::Test
  include HoneyHiveTestHelpers

  class Refused < StandardError; end

  def build_class(tracer)
    Class.new do
      extend HoneyHive::Traced
      traced_with tracer

      traced :answer, event_type: :chain # before the def
      def answer(question, style = "short", *extra, temperature: 0.2, **rest)
        "#{question}/#{style}/#{extra.size}/#{temperature}/#{rest.keys.join(',')}"
      end

      def lookup(id)
        raise Refused, "no record #{id}" if id.negative?

        { "id" => id, "tags" => %i[a b] }
      end
      traced :lookup, name: "db.lookup" # after the def

      def secret(password)
        password.reverse
      end
      traced :secret, inputs: false, outputs: false

      def untraced
        1
      end
    end
  end

  def attrs_of(span, ns)
    span["attributes"].select { |k, _| k.start_with?("honeyhive_#{ns}.") }
                      .transform_keys { |k| k.delete_prefix("honeyhive_#{ns}.") }
  end

  def test_arguments_result_duration_and_exceptions
    tracer = new_tracer
    klass = build_class(tracer)
    klass.const_set(:NAME_FOR_TEST, 1)
    obj = klass.new
    assert_equal "q/long/2/0.7/top_k", obj.answer("q", "long", 1, 2, temperature: 0.7, top_k: 3)
    assert_equal({ "id" => 5, "tags" => %i[a b] }, obj.lookup(5))
    err = assert_raises(Refused) { obj.lookup(-1) }
    assert_equal "no record -1", err.message
    assert_equal "terces", obj.secret("secret")
    assert_equal 1, obj.untraced
    assert tracer.flush
    spans = receiver.wait_spans(4)
    assert_equal 4, spans.size, spans.map { |s| s["name"] }.inspect
    answer = spans.find { |s| s["name"].end_with?("#answer") }
    assert_equal({ "question" => "q", "style" => "long", "extra.0" => 1, "extra.1" => 2, "temperature" => 0.7,
                   "rest.top_k" => 3 }, attrs_of(answer, "inputs"))
    assert_equal({ "result" => "q/long/2/0.7/top_k" }, attrs_of(answer, "outputs"))
    assert_equal "chain", answer["attributes"]["honeyhive_event_type"]
    assert_operator answer["end_time_unix_nano"], :>=, answer["start_time_unix_nano"]
    ok, failed = spans.select { |s| s["name"] == "db.lookup" }.partition { |s| s["status_code"] != "STATUS_CODE_ERROR" }
    assert_equal 1, ok.size
    assert_equal({ "id" => 5 }, attrs_of(ok.first, "inputs"))
    assert_equal({ "result.id" => 5, "result.tags.0" => "a", "result.tags.1" => "b" }, attrs_of(ok.first, "outputs"))
    assert_equal 1, failed.size
    assert_equal ["exception"], failed.first["events"].map { |e| e["name"] }
    assert_includes failed.first["status_message"], "no record -1"
    assert_empty attrs_of(failed.first, "outputs")
    secret = spans.find { |s| s["name"].end_with?("#secret") }
    assert_empty attrs_of(secret, "inputs")
    assert_empty attrs_of(secret, "outputs")
    refute_includes JSON.generate(secret), "terces"
  end

  def test_traced_all_public_and_nesting
    tracer = new_tracer
    klass = Class.new do
      extend HoneyHive::Traced
      traced_with -> { tracer }
      traced_all_public except: [:skipped], outputs: false

      def outer(n)
        inner(n) + helper
      end

      def inner(n)
        n * 2
      end

      def skipped
        0
      end

      private

      def helper
        1
      end
    end
    assert_equal 7, klass.new.outer(3)
    assert_equal 0, klass.new.skipped
    assert tracer.flush
    spans = receiver.wait_spans(2)
    names = spans.map { |s| s["name"].split("#").last }.sort
    assert_equal %w[inner outer], names
    outer = spans.find { |s| s["name"].end_with?("#outer") }
    inner = spans.find { |s| s["name"].end_with?("#inner") }
    assert_equal outer["span_id"], inner["parent_span_id"]
    assert_equal({ "n" => 3 }, attrs_of(inner, "inputs"))
    assert_empty attrs_of(inner, "outputs")
  end

  def test_without_a_tracer_the_method_runs_untraced
    klass = Class.new do
      extend HoneyHive::Traced
      traced :double
      def double(x) = x * 2
    end
    assert_nil HoneyHive.tracer
    assert_equal 4, klass.new.double(2)
    tracer = new_tracer
    HoneyHive.tracer = tracer
    begin
      assert_equal 6, klass.new.double(3)
    ensure
      HoneyHive.tracer = nil
    end
    assert tracer.flush
    assert_equal [{ "x" => 3 }], receiver.wait_spans(1).map { |s| attrs_of(s, "inputs") }
  end

  def test_unencodable_values_are_sent_as_text
    tracer = new_tracer
    klass = Class.new do
      extend HoneyHive::Traced
      traced_with tracer
      traced :echo
      def echo(value) = value
    end
    cyclic = []
    cyclic << cyclic
    obj = Object.new
    assert_same obj, klass.new.echo(obj)
    assert_same cyclic, klass.new.echo(cyclic)
    assert tracer.flush
    spans = receiver.wait_spans(2)
    texts = spans.map { |s| attrs_of(s, "inputs").values.first.to_s }
    assert(texts.any? { |t| t.start_with?("#<Object:") }, texts.inspect)
    assert_equal 0, tracer.telemetry_errors
  end
end
