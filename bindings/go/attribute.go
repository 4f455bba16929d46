package honeyhive

import "go.opentelemetry.io/otel/attribute"

// Attribute is one typed attribute for SetAttributes, EndWith and WithTypedAttributes; make
// it with StringAttr, IntAttr, FloatAttr, BoolAttr, their Slice variants, or OTelAttributes.
// With NSNone the key is used as given, so any key of any OpenTelemetry type can be set.
type Attribute struct {
	ns   Namespace
	kind uint32
	key  string
	str  string
	i64  int64
	f64  float64
	arr  any // []string, []int64, []float64 or []bool for the array kinds
}

// StringAttr is a string attribute, key under namespace ns.
func StringAttr(ns Namespace, key, value string) Attribute {
	return Attribute{ns: ns, kind: attrStr, key: key, str: value}
}

// IntAttr is an integer attribute, key under namespace ns.
func IntAttr(ns Namespace, key string, value int64) Attribute {
	return Attribute{ns: ns, kind: attrI64, key: key, i64: value}
}

// FloatAttr is a floating-point attribute, key under namespace ns.
func FloatAttr(ns Namespace, key string, value float64) Attribute {
	return Attribute{ns: ns, kind: attrF64, key: key, f64: value}
}

// BoolAttr is a boolean attribute, key under namespace ns.
func BoolAttr(ns Namespace, key string, value bool) Attribute {
	a := Attribute{ns: ns, kind: attrBool, key: key}
	if value {
		a.i64 = 1
	}
	return a
}

// StringSliceAttr is an array-of-strings attribute, key under namespace ns. The slice is
// read during the call that takes the attribute, not kept.
func StringSliceAttr(ns Namespace, key string, value []string) Attribute {
	return Attribute{ns: ns, kind: attrStrArray, key: key, arr: value}
}

// IntSliceAttr is an array-of-integers attribute, key under namespace ns.
func IntSliceAttr(ns Namespace, key string, value []int64) Attribute {
	return Attribute{ns: ns, kind: attrI64Array, key: key, arr: value}
}

// FloatSliceAttr is an array-of-floats attribute, key under namespace ns.
func FloatSliceAttr(ns Namespace, key string, value []float64) Attribute {
	return Attribute{ns: ns, kind: attrF64Array, key: key, arr: value}
}

// BoolSliceAttr is an array-of-booleans attribute, key under namespace ns.
func BoolSliceAttr(ns Namespace, key string, value []bool) Attribute {
	return Attribute{ns: ns, kind: attrBoolArray, key: key, arr: value}
}

// OTelAttributes converts OpenTelemetry attributes to Attributes under their keys as given
// (NSNone), keeping their types (slices included):
//
//	span.SetAttributes(honeyhive.OTelAttributes(attribute.String("http.route", "/chat"),
//		attribute.Int64Slice("ids", ids))...)
//
// Empty or invalid values are left out; bytes, heterogeneous slices and maps (which the
// library has no type for) become their text (attribute.Value.Emit).
func OTelAttributes(kvs ...attribute.KeyValue) []Attribute {
	return appendOTel(make([]Attribute, 0, len(kvs)), kvs)
}

func appendOTel(dst []Attribute, kvs []attribute.KeyValue) []Attribute {
	for _, kv := range kvs {
		k := string(kv.Key)
		switch kv.Value.Type() {
		case attribute.STRING:
			dst = append(dst, StringAttr(NSNone, k, kv.Value.AsString()))
		case attribute.INT64:
			dst = append(dst, IntAttr(NSNone, k, kv.Value.AsInt64()))
		case attribute.FLOAT64:
			dst = append(dst, FloatAttr(NSNone, k, kv.Value.AsFloat64()))
		case attribute.BOOL:
			dst = append(dst, BoolAttr(NSNone, k, kv.Value.AsBool()))
		case attribute.STRINGSLICE:
			dst = append(dst, StringSliceAttr(NSNone, k, kv.Value.AsStringSlice()))
		case attribute.INT64SLICE:
			dst = append(dst, IntSliceAttr(NSNone, k, kv.Value.AsInt64Slice()))
		case attribute.FLOAT64SLICE:
			dst = append(dst, FloatSliceAttr(NSNone, k, kv.Value.AsFloat64Slice()))
		case attribute.BOOLSLICE:
			dst = append(dst, BoolSliceAttr(NSNone, k, kv.Value.AsBoolSlice()))
		case attribute.EMPTY:
			// Nothing to record: left out, as OpenTelemetry's SDK does.
		default:
			// Bytes, heterogeneous slices and maps have no type in the C ABI: their text.
			dst = append(dst, StringAttr(NSNone, k, kv.Value.Emit()))
		}
	}
	return dst
}
