# frozen_string_literal: true

module HoneyHive
  # @api private: a C array of hh_attr built from Ruby values, with every string and array it
  # points to kept alive as long as this object (hold it until the call that reads it returns).
  #
  # Types follow the Ruby class: String/Symbol -> string, true/false -> bool, Integer -> int64
  # (a string when it does not fit), Float -> double, an Array of one of those kinds -> the
  # matching array type (Integers among Floats become doubles), anything else (a Hash, a mixed
  # Array) -> its JSON text. nil values are left out.
  class AttrList
    INT64 = (-2**63..2**63 - 1).freeze

    attr_reader :pointer, :size

    # +attrs+: a Hash of key => value (or nil), all under namespace +ns+ (an HH_NS_* code).
    def initialize(attrs, ns = 0)
      @keep = []
      @size = 0
      @pointer = nil
      return if attrs.nil? || attrs.empty?

      entries = attrs.reject { |_, v| v.nil? }
      return if entries.empty?

      @pointer = FFI::MemoryPointer.new(Native::HHAttr, entries.size)
      entries.each_with_index do |(key, value), i|
        attr = Native::HHAttr.new(@pointer + i * Native::HHAttr.size)
        attr[:ns] = ns
        attr[:key] = string(key)
        fill(attr, value)
      end
      @size = entries.size
    end

    private

    def string(value)
      ptr = FFI::MemoryPointer.from_string(HoneyHive.c_string(value))
      @keep << ptr
      ptr
    end

    def fill(attr, value)
      case value
      when String, Symbol
        attr[:type] = Native::ATTR_STR
        attr[:str] = string(value)
      when true, false
        attr[:type] = Native::ATTR_BOOL
        attr[:i64] = value ? 1 : 0
      when Integer
        if INT64.cover?(value)
          attr[:type] = Native::ATTR_I64
          attr[:i64] = value
        else
          attr[:type] = Native::ATTR_STR
          attr[:str] = string(value.to_s)
        end
      when Float
        attr[:type] = Native::ATTR_F64
        attr[:f64] = value
      when Array
        fill_array(attr, value)
      when Hash
        attr[:type] = Native::ATTR_STR
        attr[:str] = string(HoneyHive.to_json(value))
      else
        attr[:type] = Native::ATTR_STR
        attr[:str] = string(value.to_s)
      end
    end

    def fill_array(attr, values)
      type = self.class.array_type(values)
      if type.nil?
        attr[:type] = Native::ATTR_STR
        attr[:str] = string(HoneyHive.to_json(values))
        return
      end
      attr[:type] = type
      attr[:len] = values.size
      return if values.empty?

      attr[:items] = items(type, values)
    end

    def items(type, values)
      ptr =
        case type
        when Native::ATTR_STR_ARRAY
          FFI::MemoryPointer.new(:pointer, values.size).tap do |p|
            p.write_array_of_pointer(values.map { |v| string(v) })
          end
        when Native::ATTR_I64_ARRAY
          FFI::MemoryPointer.new(:int64, values.size).tap { |p| p.write_array_of_int64(values) }
        when Native::ATTR_F64_ARRAY
          FFI::MemoryPointer.new(:double, values.size).tap { |p| p.write_array_of_double(values.map(&:to_f)) }
        else # C bool: one byte, 0 or 1
          FFI::MemoryPointer.new(:uint8, values.size).tap { |p| p.write_array_of_uint8(values.map { |v| v ? 1 : 0 }) }
        end
      @keep << ptr
      ptr
    end

    # The HH_ATTR_*_ARRAY type for +values+, or nil when they are not all of one kind (an empty
    # Array is an empty string array).
    def self.array_type(values)
      return Native::ATTR_STR_ARRAY if values.all? { |v| v.is_a?(String) || v.is_a?(Symbol) }
      return Native::ATTR_BOOL_ARRAY if values.all? { |v| v == true || v == false }
      return Native::ATTR_I64_ARRAY if values.all? { |v| v.is_a?(Integer) && INT64.cover?(v) }
      return Native::ATTR_F64_ARRAY if values.all? { |v| v.is_a?(Float) || (v.is_a?(Integer) && INT64.cover?(v)) }

      nil
    end
  end
end
