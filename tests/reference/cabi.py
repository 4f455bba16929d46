"""libhoneyhive's C ABI through ctypes, for the reference comparison's "ours" drivers.

The structs mirror include/honeyhive.h field for field; every call checks its status and
raises with the library's message, so a scenario that misuses the ABI fails loudly instead
of sending something different.
"""

from __future__ import annotations

import ctypes
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
LIB_PATH = ROOT / "target" / "release" / "libhoneyhive.so"

u64, u32, cstr = ctypes.c_uint64, ctypes.c_uint32, ctypes.c_char_p
size_t = ctypes.c_size_t

EVENT_DEFAULT, EVENT_MODEL, EVENT_TOOL, EVENT_CHAIN = 0, 1, 2, 3
NS_NONE, NS_INPUTS, NS_OUTPUTS, NS_METADATA, NS_METRICS = 0, 1, 2, 3, 4
ATTR_STR, ATTR_I64, ATTR_F64, ATTR_BOOL = 1, 2, 3, 4
ATTR_STR_ARRAY, ATTR_I64_ARRAY, ATTR_F64_ARRAY, ATTR_BOOL_ARRAY = 5, 6, 7, 8
KIND = {"INTERNAL": 0, "SERVER": 1, "CLIENT": 2, "PRODUCER": 3, "CONSUMER": 4}
STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2
ERROR_ESCAPED = 1
EVENT_ID_BUF_LEN = 37


class HhError(ctypes.Structure):  # pylint: disable=too-few-public-methods
    _fields_ = [("status", ctypes.c_int), ("message", ctypes.c_char * 256)]


class HhAttr(ctypes.Structure):  # pylint: disable=too-few-public-methods
    _fields_ = [("ns", u32), ("type", u32), ("key", cstr), ("str", cstr),
                ("i64", ctypes.c_int64), ("f64", ctypes.c_double),
                ("items", ctypes.c_void_p), ("len", size_t)]


class HhSpanContext(ctypes.Structure):  # pylint: disable=too-few-public-methods
    _fields_ = [("trace_id", ctypes.c_uint8 * 16), ("span_id", ctypes.c_uint8 * 8),
                ("trace_flags", ctypes.c_uint8), ("is_remote", ctypes.c_bool)]


class HhLink(ctypes.Structure):  # pylint: disable=too-few-public-methods
    _fields_ = [("context", HhSpanContext), ("attrs", ctypes.POINTER(HhAttr)),
                ("attrs_len", size_t)]


class HhSpanOptions(ctypes.Structure):  # pylint: disable=too-few-public-methods
    _fields_ = [("kind", u32), ("start_time_unix_nano", u64),
                ("links", ctypes.POINTER(HhLink)), ("links_len", size_t),
                ("attrs", ctypes.POINTER(HhAttr)), ("attrs_len", size_t),
                ("parent_context", ctypes.POINTER(HhSpanContext))]


def _stats_fields() -> list:
    """hh_stats's counters, read from the header: hh_tracer_stats writes the whole struct,
    so this side's copy must never be shorter than the library's."""
    text = (ROOT / "include" / "honeyhive.h").read_text(encoding="utf-8")
    block = re.search(r"typedef struct \{((?:(?!typedef).)*?)\} hh_stats;", text, re.S)
    if not block:
        raise RuntimeError("hh_stats not found in include/honeyhive.h")
    return re.findall(r"^\s*uint64_t (\w+);", block.group(1), re.M)


STATS_FIELDS = _stats_fields()


class HhStats(ctypes.Structure):  # pylint: disable=too-few-public-methods
    _fields_ = [(name, u64) for name in STATS_FIELDS]


def span_context(trace_hex: str, span_hex: str, flags: int = 1, remote: bool = True):
    ctx = HhSpanContext()
    ctx.trace_id[:] = list(bytes.fromhex(trace_hex))
    ctx.span_id[:] = list(bytes.fromhex(span_hex))
    ctx.trace_flags, ctx.is_remote = flags, remote
    return ctx


class Attrs:
    """A C array of hh_attr built from Python values, keeping every buffer alive as long
    as this object: str/int/float/bool, and homogeneous lists of them as arrays."""

    def __init__(self, values: dict, ns: int = NS_NONE):
        self._keep: list = []
        self.array = (HhAttr * max(1, len(values)))()
        self.len = len(values)
        for i, (key, value) in enumerate(values.items()):
            a = self.array[i]
            a.ns, a.key = ns, self._b(key)
            if isinstance(value, bool):
                a.type, a.i64 = ATTR_BOOL, int(value)
            elif isinstance(value, int):
                a.type, a.i64 = ATTR_I64, value
            elif isinstance(value, float):
                a.type, a.f64 = ATTR_F64, value
            elif isinstance(value, str):
                a.type, a.str = ATTR_STR, self._b(value)
            elif isinstance(value, list):
                a.type, a.items, a.len = self._array(value)
            else:
                raise TypeError(f"attribute {key}: unsupported {type(value).__name__}")

    def _b(self, s: str) -> bytes:
        b = s.encode()
        self._keep.append(b)
        return b

    def _array(self, items: list):
        if all(isinstance(x, bool) for x in items):
            arr, kind = (ctypes.c_bool * len(items))(*items), ATTR_BOOL_ARRAY
        elif all(isinstance(x, int) for x in items):
            arr, kind = (ctypes.c_int64 * len(items))(*items), ATTR_I64_ARRAY
        elif all(isinstance(x, float) for x in items):
            arr, kind = (ctypes.c_double * len(items))(*items), ATTR_F64_ARRAY
        elif all(isinstance(x, str) for x in items):
            arr, kind = (cstr * len(items))(*[self._b(x) for x in items]), ATTR_STR_ARRAY
        else:
            raise TypeError("array attributes must be homogeneous")
        self._keep.append(arr)
        return kind, ctypes.cast(arr, ctypes.c_void_p), len(items)

    def ptr(self):
        return ctypes.cast(self.array, ctypes.POINTER(HhAttr)) if self.len else None


class Lib:  # pylint: disable=too-many-public-methods
    """The library, with argtypes declared on first use and checked calls."""

    SIGS = {
        "hh_tracer_new": [cstr, ctypes.POINTER(u64), ctypes.POINTER(HhError)],
        "hh_tracer_session_id": [u64, cstr, size_t, ctypes.POINTER(size_t)],
        "hh_tracer_flush": [u64, u32],
        "hh_tracer_close": [u64, u32],
        "hh_tracer_stats": [u64, ctypes.POINTER(HhStats)],
        "hh_tracer_extract": [u64, cstr, cstr, ctypes.POINTER(u64), ctypes.POINTER(HhError)],
        "hh_span_start": [u64, cstr, u32, u64, cstr, cstr, ctypes.POINTER(u64),
                          ctypes.POINTER(HhError)],
        "hh_span_start_ex": [u64, cstr, u32, u64, cstr, cstr, ctypes.POINTER(HhSpanOptions),
                             ctypes.POINTER(u64), ctypes.POINTER(HhError)],
        "hh_span_enrich": [u64, cstr, ctypes.POINTER(HhError)],
        "hh_span_set_attrs": [u64, ctypes.POINTER(HhAttr), size_t, ctypes.POINTER(HhError)],
        "hh_span_end": [u64],
        "hh_span_end_at": [u64, u64, u32],
        "hh_span_add_event": [u64, cstr, ctypes.POINTER(HhAttr), size_t, u64,
                              ctypes.POINTER(HhError)],
        "hh_span_add_link": [u64, ctypes.POINTER(HhLink), ctypes.POINTER(HhError)],
        "hh_span_set_status": [u64, u32, cstr],
        "hh_span_set_name": [u64, cstr],
        "hh_span_record_error_ex": [u64, cstr, cstr, cstr, u32, u64],
        "hh_span_get_context": [u64, ctypes.POINTER(HhSpanContext)],
        "hh_span_inject": [u64, cstr, size_t, cstr, size_t, ctypes.POINTER(size_t)],
        "hh_session_create": [u64, cstr, cstr, size_t, ctypes.POINTER(HhError)],
        "hh_session_enrich": [u64, cstr, cstr, ctypes.POINTER(HhError)],
        "hh_session_inject": [u64, cstr, cstr, size_t, ctypes.POINTER(size_t)],
        "hh_event_create": [u64, cstr, cstr, size_t, ctypes.POINTER(HhError)],
        "hh_event_enrich": [u64, cstr, cstr, ctypes.POINTER(HhError)],
    }

    def __init__(self, path: Path = LIB_PATH):
        self.lib = ctypes.CDLL(str(path))
        self.lib.hh_status_name.argtypes = [ctypes.c_int32]
        self.lib.hh_status_name.restype = cstr
        self.lib.hh_version.restype = cstr
        self.err = HhError()

    def version(self) -> str:
        return self.lib.hh_version().decode()

    def status_name(self, rc: int) -> str:
        return self.lib.hh_status_name(rc).decode()

    def raw(self, name: str):
        """The C function `name` with its argtypes set; a missing symbol says which call of
        the ABI this library build lacks."""
        try:
            fn = getattr(self.lib, name)
        except AttributeError as exc:
            raise RuntimeError(f"{name} is not in {LIB_PATH} (an older build?)") from exc
        fn.argtypes, fn.restype = self.SIGS[name], ctypes.c_int
        return fn

    def call(self, name: str, *args) -> None:
        rc = self.raw(name)(*args)
        if rc != 0:
            raise RuntimeError(f"{name}: {self.status_name(rc)} "
                               f"{self.err.message.decode(errors='replace')}")

    # ---- tracers -----------------------------------------------------------------------------
    def tracer_new(self, config: dict) -> int:
        h = u64()
        self.call("hh_tracer_new", js(config), ctypes.byref(h), ctypes.byref(self.err))
        return h.value

    def tracer_session_id(self, tracer: int) -> str:
        buf = ctypes.create_string_buffer(64)
        self.call("hh_tracer_session_id", tracer, buf, 64, None)
        return buf.value.decode()

    def flush(self, tracer: int, timeout_ms: int = 10000) -> str:
        return self.status_name(self.raw("hh_tracer_flush")(tracer, timeout_ms))

    def close(self, tracer: int, timeout_ms: int = 10000) -> str:
        return self.status_name(self.raw("hh_tracer_close")(tracer, timeout_ms))

    def stats(self, tracer: int) -> dict:
        st = HhStats()
        self.call("hh_tracer_stats", tracer, ctypes.byref(st))
        return {name: getattr(st, name) for name in STATS_FIELDS}

    def extract(self, tracer: int, traceparent: str, baggage: str | None) -> int:
        h = u64()
        self.call("hh_tracer_extract", tracer, traceparent.encode(), opt(baggage),
                  ctypes.byref(h), ctypes.byref(self.err))
        return h.value

    # ---- spans -------------------------------------------------------------------------------
    def start(self, tracer: int, name: str, event_type: int = EVENT_DEFAULT, parent: int = 0,
              session: str | None = None, attrs: dict | None = None) -> int:
        h = u64()
        self.call("hh_span_start", tracer, name.encode(), event_type, parent, opt(session),
                  js(attrs) if attrs is not None else None, ctypes.byref(h),
                  ctypes.byref(self.err))
        return h.value

    # pylint: disable=too-many-arguments
    def start_ex(self, tracer: int, name: str, *, event_type: int = EVENT_DEFAULT,
                 parent: int = 0, session: str | None = None, attrs_json: dict | None = None,
                 kind: str = "INTERNAL", start_time: int = 0, links: list | None = None,
                 typed_attrs: dict | None = None, parent_context=None) -> int:
        """links: [(trace_hex, span_hex, {attrs})]."""
        opts = HhSpanOptions()
        opts.kind, opts.start_time_unix_nano = KIND[kind], start_time
        keep = []
        if links:
            arr = (HhLink * len(links))()
            for i, (trace_hex, span_hex, lattrs) in enumerate(links):
                la = Attrs(lattrs)
                keep.append(la)
                arr[i].context = span_context(trace_hex, span_hex)
                arr[i].attrs, arr[i].attrs_len = la.ptr(), la.len
            keep.append(arr)
            opts.links, opts.links_len = ctypes.cast(arr, ctypes.POINTER(HhLink)), len(links)
        if typed_attrs:
            ta = Attrs(typed_attrs)
            keep.append(ta)
            opts.attrs, opts.attrs_len = ta.ptr(), ta.len
        if parent_context is not None:
            keep.append(parent_context)
            opts.parent_context = ctypes.pointer(parent_context)
        h = u64()
        self.call("hh_span_start_ex", tracer, name.encode(), event_type, parent, opt(session),
                  js(attrs_json) if attrs_json is not None else None, ctypes.byref(opts),
                  ctypes.byref(h), ctypes.byref(self.err))
        return h.value

    def enrich(self, span: int, obj: dict) -> None:
        self.call("hh_span_enrich", span, js(obj), ctypes.byref(self.err))

    def set_attrs(self, span: int, values: dict, ns: int = NS_NONE) -> None:
        a = Attrs(values, ns)
        self.call("hh_span_set_attrs", span, a.ptr(), a.len, ctypes.byref(self.err))

    def end(self, span: int) -> None:
        self.call("hh_span_end", span)

    def end_at(self, span: int, end_time: int) -> None:
        self.call("hh_span_end_at", span, end_time, 0)

    def add_event(self, span: int, name: str, attrs: dict | None = None,
                  time_ns: int = 0) -> None:
        a = Attrs(attrs or {})
        self.call("hh_span_add_event", span, name.encode(), a.ptr(), a.len, time_ns,
                  ctypes.byref(self.err))

    def add_link(self, span: int, trace_hex: str, span_hex: str, attrs: dict) -> None:
        a = Attrs(attrs)
        link = HhLink(span_context(trace_hex, span_hex), a.ptr(), a.len)
        self.call("hh_span_add_link", span, ctypes.byref(link), ctypes.byref(self.err))

    def set_status(self, span: int, code: int, description: str | None = None) -> None:
        self.call("hh_span_set_status", span, code, opt(description))

    def set_name(self, span: int, name: str) -> None:
        self.call("hh_span_set_name", span, name.encode())

    # pylint: disable=too-many-arguments
    def record_error_ex(self, span: int, error_type: str | None, message: str,
                        stacktrace: str | None, escaped: bool, time_ns: int = 0) -> None:
        self.call("hh_span_record_error_ex", span, opt(error_type), message.encode(),
                  opt(stacktrace), ERROR_ESCAPED if escaped else 0, time_ns)

    def get_context(self, span: int) -> tuple[str, str]:
        ctx = HhSpanContext()
        self.call("hh_span_get_context", span, ctypes.byref(ctx))
        return bytes(ctx.trace_id).hex(), bytes(ctx.span_id).hex()

    def span_inject(self, span: int) -> dict:
        tp, bag, n = ctypes.create_string_buffer(56), ctypes.create_string_buffer(4096), size_t()
        self.call("hh_span_inject", span, tp, 56, bag, 4096, ctypes.byref(n))
        return {"traceparent": tp.value.decode(), "baggage": bag.value.decode()}

    # ---- sessions and events -----------------------------------------------------------------
    def session_create(self, tracer: int, options: dict) -> str:
        buf = ctypes.create_string_buffer(37)
        self.call("hh_session_create", tracer, js(options), buf, 37, ctypes.byref(self.err))
        return buf.value.decode()

    def session_enrich(self, tracer: int, session: str | None, obj: dict) -> None:
        self.call("hh_session_enrich", tracer, opt(session), js(obj), ctypes.byref(self.err))

    def session_inject(self, tracer: int, session: str | None = None) -> str:
        bag, n = ctypes.create_string_buffer(4096), size_t()
        self.call("hh_session_inject", tracer, opt(session), bag, 4096, ctypes.byref(n))
        return bag.value.decode()

    def event_create(self, tracer: int, event: dict) -> str:
        buf = ctypes.create_string_buffer(EVENT_ID_BUF_LEN)
        self.call("hh_event_create", tracer, js(event), buf, EVENT_ID_BUF_LEN,
                  ctypes.byref(self.err))
        return buf.value.decode()

    def event_enrich(self, tracer: int, event_id: str, obj: dict) -> None:
        self.call("hh_event_enrich", tracer, event_id.encode(), js(obj), ctypes.byref(self.err))


def js(obj) -> bytes:
    return json.dumps(obj).encode()


def opt(s: str | None):
    return s.encode() if s is not None else None
