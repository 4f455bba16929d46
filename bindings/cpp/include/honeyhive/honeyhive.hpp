// honeyhive.hpp - header-only C++17 RAII wrapper over libhoneyhive's C ABI (honeyhive.h).
//
// Error model: span operations (starting one, enrich, set, record_error, end, inject, the
// OpenTelemetry span-model calls...) are noexcept: a telemetry error (an ended span, a closed
// tracer, a limit, bad input) applies nothing and is reported to the log handler
// (set_log_handler; stderr by default), never thrown into the application; so do session
// and event enrichment. Other fallible operations (constructing a Tracer, creating a session
// or an event, extract, flush, close) throw honeyhive::Error (a
// std::runtime_error that carries the hh_status and the library's message). Destructors never
// throw: they end or close what they own and ignore the status. Nothing else in this header
// throws, except std::bad_alloc outside span operations.
//
// Thread-safety: the C library is thread-safe. `const` member functions of Tracer, Session,
// Span and RemoteContext may be called from many threads at once (a `const Tracer&` shared
// by a worker pool is the intended use). Non-const ones (end, enrich, set, move, destroy,
// close) need exclusive access to that C++ object, like any standard type.
//
// There is no implicit "current span": parents and sessions are explicit (span.child(),
// session.span(), tracer.span(name, type, parent, session)), as the C ABI requires (no
// thread-local state), which also keeps worker pools and coroutines correct.

#ifndef HONEYHIVE_HPP
#define HONEYHIVE_HPP

#include <honeyhive.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

#if __has_include(<charconv>)
#include <charconv>
#endif
#if __has_include(<pthread.h>) && (defined(__unix__) || defined(__APPLE__))
#include <pthread.h>
#define HONEYHIVE_HPP_HAS_PTHREAD_ATFORK 1
#else
#define HONEYHIVE_HPP_HAS_PTHREAD_ATFORK 0
#endif
#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#define HONEYHIVE_HPP_HAS_CXXABI 1
#endif

#define HONEYHIVE_CPP_VERSION_MAJOR 0
#define HONEYHIVE_CPP_VERSION_MINOR 2
#define HONEYHIVE_CPP_VERSION_PATCH 0

static_assert(HH_VERSION_MAJOR == 0 && HH_VERSION_MINOR >= 1,
              "honeyhive.hpp needs libhoneyhive 0.x (>= 0.1) headers");
#ifndef HH_SPAN_KIND_INTERNAL
#error "honeyhive.hpp needs a honeyhive.h with the span model (hh_span_start_ex, HH_SPAN_KIND_*)"
#endif

namespace honeyhive {

// ------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------

/// The one exception type of this binding. `what()` is the library's message (it names the
/// offending field or argument and never contains an API key).
class Error : public std::runtime_error {
 public:
  Error(hh_status status, const std::string& message) : std::runtime_error(message), status_(status) {}

  /// The C status, e.g. HH_ERR_INVALID_JSON.
  hh_status status() const noexcept { return status_; }
  /// The status as text, e.g. "HH_ERR_INVALID_JSON".
  const char* status_name() const noexcept { return hh_status_name(static_cast<int32_t>(status_)); }

 private:
  hh_status status_;
};

/// The library's version at run time, e.g. "0.1.0".
inline const char* version() noexcept { return hh_version(); }

/// The name of a status code, e.g. "HH_ERR_TIMEOUT".
inline const char* status_name(hh_status status) noexcept { return hh_status_name(static_cast<int32_t>(status)); }

namespace detail {

/// What a status means, for C functions that return no hh_error message.
inline const char* describe(hh_status status) noexcept {
  switch (status) {
    case HH_OK: return "success";
    case HH_ERR_NULL_ARGUMENT: return "a required argument was null";
    case HH_ERR_INVALID_UTF8: return "a string argument is not valid UTF-8";
    case HH_ERR_INVALID_JSON: return "invalid JSON";
    case HH_ERR_INVALID_CONFIG: return "invalid configuration";
    case HH_ERR_INVALID_ARGUMENT: return "invalid argument (empty or oversized key, unknown namespace, bad value)";
    case HH_ERR_INVALID_HANDLE: return "invalid handle (an empty or moved-from object, or a stale handle)";
    case HH_ERR_SPAN_ENDED: return "the span has already ended";
    case HH_ERR_TRACER_CLOSED: return "the tracer is closed";
    case HH_ERR_LIMIT_EXCEEDED: return "a documented limit was exceeded";
    case HH_ERR_BUFFER_TOO_SMALL: return "output buffer too small";
    case HH_ERR_TIMEOUT: return "did not finish within the timeout (delivery goes on in the background)";
    case HH_ERR_EXPORT_FAILED: return "some spans or session calls were not delivered (see stats())";
    case HH_ERR_PANIC: return "an internal panic was contained";
    case HH_ERR_INTERNAL: return "internal error";
  }
  return "unknown status";
}

[[noreturn]] inline void throw_status(hh_status status, const hh_error* err, const char* operation) {
  if (err != nullptr && err->message[0] != '\0') {
    size_t n = 0;
    while (n < HH_ERROR_MESSAGE_LEN && err->message[n] != '\0') ++n;
    throw Error(status, std::string(err->message, n));
  }
  throw Error(status, std::string(operation) + ": " + describe(status) + " [" +
                          hh_status_name(static_cast<int32_t>(status)) + "]");
}

/// Throws unless `status` is HH_OK; the message comes from `err`.
inline void check(hh_status status, const hh_error& err, const char* operation) {
  if (status != HH_OK) throw_status(status, &err, operation);
}

/// Throws unless `status` is HH_OK (for C functions without an hh_error out-param).
inline void check(hh_status status, const char* operation) {
  if (status != HH_OK) throw_status(status, nullptr, operation);
}

/// Used only where failure cannot be reported (destructors): the status is read and dropped.
inline void ignore_status(hh_status status) noexcept { static_cast<void>(status); }

}  // namespace detail

// ------------------------------------------------------------------------------------------
// Diagnostics (log handler)
// ------------------------------------------------------------------------------------------

/// The level of a diagnostic line (the C ABI's HH_LOG_* values).
enum class LogLevel : uint32_t {
  Debug = HH_LOG_DEBUG,
  Info = HH_LOG_INFO,
  Warn = HH_LOG_WARN,
  Error = HH_LOG_ERROR,
};

/// Receives one diagnostic line (secrets already redacted, control characters escaped; the
/// view is valid only during the call). It runs on any thread, the library's own included,
/// possibly on several at once: hand the line to your logger and return. It must not call
/// into honeyhive (the line may come from inside a tracer's flush or close). An exception it
/// throws is caught and dropped at the boundary.
using LogHandler = std::function<void(LogLevel, std::string_view)>;

namespace detail {

/// The C++ handlers by tracer handle (0: the process-wide one). The C library gets the
/// handle as its `user_data` and this table owns the std::function, so replacing or removing
/// a handler never frees one a library thread is still calling (that call holds a copy of the
/// shared_ptr). Allocated once and never destroyed: library threads may log during exit.
struct LogTable {
  std::mutex mutex;
  std::unordered_map<hh_tracer, std::shared_ptr<const LogHandler>> handlers;
};
inline LogTable*& log_table_ptr() noexcept {
  static LogTable* table = nullptr;
  return table;
}
inline LogTable& log_table() {
  static LogTable* const table = [] {
    auto* t = new LogTable();  // NOLINT: deliberately never destroyed (see above)
    log_table_ptr() = t;
#if HONEYHIVE_HPP_HAS_PTHREAD_ATFORK
    // A fork while another thread holds the lock would leave it locked forever in the child
    // (pre-forking servers fork after init): fork takes it, and both sides release it.
    pthread_atfork([] { log_table_ptr()->mutex.lock(); }, [] { log_table_ptr()->mutex.unlock(); },
                   [] { log_table_ptr()->mutex.unlock(); });
#endif
    return t;
  }();
  return *table;
}

/// The handler for `tracer`'s lines: its own, else the process-wide one (may be null).
inline std::shared_ptr<const LogHandler> find_log_handler(hh_tracer tracer) {
  LogTable& t = log_table();
  const std::lock_guard<std::mutex> lock(t.mutex);
  auto it = t.handlers.find(tracer);
  if (it == t.handlers.end() && tracer != 0) it = t.handlers.find(0);
  return it == t.handlers.end() ? nullptr : it->second;
}

/// Sends one line to `tracer`'s C++ handler (else the process-wide one, else stderr). Never
/// throws: neither the handler's exceptions nor a failed allocation leave this function.
inline void emit_log(hh_tracer tracer, LogLevel level, std::string_view line) noexcept {
  try {
    const std::shared_ptr<const LogHandler> h = find_log_handler(tracer);
    if (h && *h) {
      (*h)(level, line);
      return;
    }
  } catch (...) {
    return;  // the user's handler threw (or no memory): the line is dropped, never rethrown
  }
  std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
}

/// The hh_log_fn given to the C library: `user_data` is the tracer handle (0: process-wide).
inline void log_trampoline(void* user_data, uint32_t level, const char* message) noexcept {
  const auto tracer = static_cast<hh_tracer>(reinterpret_cast<uintptr_t>(user_data));
  emit_log(tracer, static_cast<LogLevel>(level), message != nullptr ? std::string_view(message) : std::string_view());
}

inline void store_log_handler(hh_tracer tracer, LogHandler handler) {
  auto h = std::make_shared<const LogHandler>(std::move(handler));
  LogTable& t = log_table();
  const std::lock_guard<std::mutex> lock(t.mutex);
  t.handlers[tracer] = std::move(h);
}

inline void forget_log_handler(hh_tracer tracer) noexcept {
  LogTable& t = log_table();
  const std::lock_guard<std::mutex> lock(t.mutex);
  t.handlers.erase(tracer);
}

/// Reports a telemetry error of a span operation (it is not thrown into the application):
/// one warning line to the tracer's handler, with the status name.
inline void report(hh_tracer tracer, const char* operation, const char* message, hh_status status) noexcept {
  try {
    std::string line = "[honeyhive] warning: ";
    line += operation;
    line += ": ";
    line += message;
    const char* name = hh_status_name(static_cast<int32_t>(status));
    if (std::strstr(message, name) == nullptr) {
      line += " [";
      line += name;
      line += "]";
    }
    emit_log(tracer, LogLevel::Warn, line);
  } catch (...) {
    // No memory for the line: nothing more can be reported.
  }
}

inline void report_status(hh_tracer tracer, const char* operation, hh_status status, const hh_error* err = nullptr) noexcept {
  if (status == HH_OK) return;
  if (err != nullptr && err->message[0] != '\0') {
    char msg[HH_ERROR_MESSAGE_LEN + 1] = {};
    std::memcpy(msg, err->message, HH_ERROR_MESSAGE_LEN);
    report(tracer, operation, msg, status);
  } else {
    report(tracer, operation, describe(status), status);
  }
}

/// Runs `f` (a span operation's body, which may throw Error for bad input) and reports what
/// it threw instead of letting it reach the application. Returns whether `f` completed.
template <class F>
bool guarded(hh_tracer tracer, const char* operation, F&& f) noexcept {
  try {
    f();
    return true;
  } catch (const Error& e) {
    report(tracer, operation, e.what(), e.status());
  } catch (const std::exception& e) {
    report(tracer, operation, e.what(), HH_ERR_INTERNAL);
  } catch (...) {
    report(tracer, operation, "unknown exception", HH_ERR_INTERNAL);
  }
  return false;
}

}  // namespace detail

/// Sends the library's diagnostics (and this binding's reports of span operations that
/// failed) to `handler` instead of stderr, for every tracer without a handler of its own
/// and for lines of no tracer. An empty `handler` restores stderr. Thread-safe.
inline void set_log_handler(LogHandler handler) {
  if (!handler) {
    detail::ignore_status(hh_set_log_handler(nullptr, nullptr));
    detail::forget_log_handler(0);
    return;
  }
  detail::store_log_handler(0, std::move(handler));
  // HH_ERR_TIMEOUT (an old handler still running) needs nothing here: the table keeps every
  // handler alive while it runs.
  detail::ignore_status(hh_set_log_handler(&detail::log_trampoline, nullptr));
}

namespace detail {

/// A NUL-terminated copy of a string argument. Embedded NULs would silently truncate the
/// value on the C side, so they are rejected.
class CString {
 public:
  CString(std::string_view s, const char* what) : s_(s) {
    if (s_.find('\0') != std::string::npos) {
      throw Error(HH_ERR_INVALID_ARGUMENT, std::string(what) + " contains a NUL byte");
    }
  }
  const char* get() const noexcept { return s_.c_str(); }

 private:
  std::string s_;
};

/// `s.c_str()` without a copy; throws like CString on an embedded NUL.
inline const char* checked_c_str(const std::string& s, const char* what) {
  if (s.find('\0') != std::string::npos) {
    throw Error(HH_ERR_INVALID_ARGUMENT, std::string(what) + " contains a NUL byte");
  }
  return s.c_str();
}

inline uint32_t timeout_ms(std::chrono::milliseconds timeout) noexcept {
  const auto ms = timeout.count();
  if (ms <= 0) return 0;
  if (static_cast<unsigned long long>(ms) > std::numeric_limits<uint32_t>::max()) {
    return std::numeric_limits<uint32_t>::max();
  }
  return static_cast<uint32_t>(ms);
}

/// Calls `fill(buf, buf_len, &len)` and retries once with a larger buffer on
/// HH_ERR_BUFFER_TOO_SMALL.
template <class Fill>
std::string read_string(Fill&& fill, size_t initial, const char* operation) {
  std::string buf(initial, '\0');
  size_t len = 0;
  hh_status status = fill(&buf[0], buf.size(), &len);
  if (status == HH_ERR_BUFFER_TOO_SMALL && len + 1 > buf.size()) {
    buf.assign(len + 1, '\0');
    status = fill(&buf[0], buf.size(), &len);
  }
  check(status, operation);
  buf.resize(len);
  return buf;
}

inline std::string demangle(const char* name) {
#ifdef HONEYHIVE_HPP_HAS_CXXABI
  int rc = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &rc), std::free);
  if (rc == 0 && out) return std::string(out.get());
#endif
  return std::string(name);
}

template <class T>
struct always_false : std::false_type {};

/// Character types (int8_t / uint8_t, i.e. signed / unsigned char, count as integers).
template <class T>
constexpr bool is_char_v = std::is_same_v<T, char> || std::is_same_v<T, wchar_t> ||
                           std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>
#if defined(__cpp_char8_t)
                           || std::is_same_v<T, char8_t>
#endif
    ;

/// Length of the valid UTF-8 sequence at s[i], or 0 when it is not valid UTF-8.
inline size_t utf8_sequence(std::string_view s, size_t i) noexcept {
  const auto at = [&](size_t k) -> unsigned { return static_cast<unsigned char>(s[k]); };
  const unsigned c = at(i);
  size_t n = 0;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
  }
  return n;
}

/// Appends `s` as a JSON string literal: `"` `\` and control characters are escaped, valid
/// UTF-8 is kept as is, and each byte of invalid UTF-8 becomes U+FFFD.
inline void append_json_string(std::string& out, std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xF];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    const size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  out += '"';
}

/// Appends a finite double so that it reads back as the same double *and* stays a JSON
/// float (`1.0`, never `1`, so the attribute keeps its floating-point type). Non-finite
/// values have no JSON form: they become the strings "NaN", "Infinity", "-Infinity".
inline void append_json_double(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "\"NaN\"";
    return;
  }
  if (std::isinf(d)) {
    out += d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    return;
  }
  char buf[64];
  size_t len = 0;
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  len = static_cast<size_t>(r.ptr - buf);
#else
  const int n = std::snprintf(buf, sizeof buf, "%.17g", d);
  len = n > 0 ? static_cast<size_t>(n) : 0;
  for (size_t i = 0; i < len; ++i) {
    if (buf[i] == ',') buf[i] = '.';  // a locale with a decimal comma
  }
#endif
  const std::string_view text(buf, len);
  out += text;
  if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";
}

template <class T>
void append_json_integer(std::string& out, T v) {
#if __has_include(<charconv>)
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
#else
  out += std::to_string(v);
#endif
}

}  // namespace detail

// ------------------------------------------------------------------------------------------
// Json: a tiny builder for JSON text (enrichment, session options, config), no JSON library
// needed. A Json holds its serialized text.
// ------------------------------------------------------------------------------------------

class Json {
 public:
  /// JSON null (for enrichment: "not set"; nulls are skipped by the library).
  Json() : text_("null") {}
  Json(std::nullptr_t) : Json() {}  // NOLINT(google-explicit-constructor)

  /// bool, integers and floating-point numbers. Integers stay JSON integers; doubles are
  /// always written as floats (1.0). Character types are rejected at compile time.
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  Json(T value) {  // NOLINT(google-explicit-constructor)
    static_assert(!detail::is_char_v<T>, "honeyhive::Json: pass characters as strings");
    if constexpr (std::is_same_v<T, bool>) {
      text_ = value ? "true" : "false";
    } else if constexpr (std::is_floating_point_v<T>) {
      detail::append_json_double(text_, static_cast<double>(value));
    } else {
      detail::append_json_integer(text_, value);
    }
  }

  /// Strings (UTF-8). A null `const char*` gives JSON null.
  Json(const char* s) {  // NOLINT(google-explicit-constructor)
    if (s == nullptr) {
      text_ = "null";
    } else {
      detail::append_json_string(text_, s);
    }
  }
  Json(std::string_view s) { detail::append_json_string(text_, s); }     // NOLINT
  Json(const std::string& s) { detail::append_json_string(text_, s); }  // NOLINT

  /// `{}`, or an object of members in the given order:
  /// `Json::object({{"a", 1}, {"b", Json::object({{"c", true}})}})`.
  static Json object() { return raw("{}"); }
  static Json object(std::initializer_list<std::pair<std::string_view, Json>> members) {
    Json j = object();
    for (const auto& m : members) j.set(m.first, m.second);
    return j;
  }

  /// `[]`, or an array: `Json::array({1, "two", 3.0})`.
  static Json array() { return raw("[]"); }
  static Json array(std::initializer_list<Json> items) {
    Json j = array();
    for (const auto& item : items) j.push_back(item);
    return j;
  }
  /// An array from any range whose elements convert to Json (e.g. std::vector<std::string>).
  template <class Range>
  static Json array_from(const Range& range) {
    Json j = array();
    for (const auto& item : range) j.push_back(Json(item));
    return j;
  }

  /// Trusted, already serialized JSON text, inserted verbatim (the library validates it).
  static Json raw(std::string json_text) {
    Json j;
    j.text_ = std::move(json_text);
    return j;
  }

  /// Adds a member to an object (keys are not de-duplicated; the last one wins).
  /// Throws Error(HH_ERR_INVALID_ARGUMENT) when this is not an object.
  Json& set(std::string_view key, const Json& value) {
    std::string member;
    detail::append_json_string(member, key);
    member += ':';
    member += value.text_;
    append('{', '}', member, "Json::set: not a JSON object");
    return *this;
  }

  /// Appends to an array. Throws Error(HH_ERR_INVALID_ARGUMENT) when this is not an array.
  Json& push_back(const Json& value) {
    append('[', ']', value.text_, "Json::push_back: not a JSON array");
    return *this;
  }

  bool is_null() const noexcept { return text_ == "null"; }
  bool is_object() const noexcept { return enclosed('{', '}'); }
  bool is_array() const noexcept { return enclosed('[', ']'); }

  /// The JSON text.
  const std::string& str() const noexcept { return text_; }
  const char* c_str() const noexcept { return text_.c_str(); }

  friend bool operator==(const Json& a, const Json& b) noexcept { return a.text_ == b.text_; }
  friend bool operator!=(const Json& a, const Json& b) noexcept { return !(a == b); }

 private:
  static constexpr const char* kSpace = " \t\r\n";

  bool enclosed(char open, char close) const noexcept {
    const size_t b = text_.find_first_not_of(kSpace);
    const size_t e = text_.find_last_not_of(kSpace);
    return b != std::string::npos && e > b && text_[b] == open && text_[e] == close;
  }

  void append(char open, char close, const std::string& piece, const char* error) {
    if (!enclosed(open, close)) throw Error(HH_ERR_INVALID_ARGUMENT, error);
    const size_t b = text_.find_first_not_of(kSpace);
    const size_t e = text_.find_last_not_of(kSpace);
    const bool empty = text_.find_first_not_of(kSpace, b + 1) == e;
    text_.erase(e);
    if (!empty) text_ += ',';
    text_ += piece;
    text_ += close;
  }

  std::string text_;
};

// ------------------------------------------------------------------------------------------
// Enumerations
// ------------------------------------------------------------------------------------------

/// The HoneyHive event type of a span (`honeyhive_event_type`).
enum class EventType : hh_event_type {
  Default = HH_EVENT_DEFAULT,  ///< detected from the span name and attributes
  Model = HH_EVENT_MODEL,      ///< an LLM call
  Tool = HH_EVENT_TOOL,        ///< a tool, retrieval or any other step
  Chain = HH_EVENT_CHAIN,      ///< a chain or agent grouping other steps
};

/// Attribute namespace for the typed setters.
enum class Namespace : hh_namespace {
  None = HH_NS_NONE,                      ///< the key as given
  Inputs = HH_NS_INPUTS,                  ///< honeyhive_inputs.<key>
  Outputs = HH_NS_OUTPUTS,                ///< honeyhive_outputs.<key>
  Metadata = HH_NS_METADATA,              ///< honeyhive_metadata.<key>
  Metrics = HH_NS_METRICS,                ///< honeyhive_metrics.<key>
  Feedback = HH_NS_FEEDBACK,              ///< honeyhive_feedback.<key>
  Config = HH_NS_CONFIG,                  ///< honeyhive_config.<key>
  UserProperties = HH_NS_USER_PROPERTIES, ///< honeyhive_user_properties.<key>
};

namespace detail {
/// The enrichment key of a namespace ("metadata", ...), or nullptr for Namespace::None.
inline const char* enrichment_key(Namespace ns) noexcept {
  switch (ns) {
    case Namespace::Inputs: return "inputs";
    case Namespace::Outputs: return "outputs";
    case Namespace::Metadata: return "metadata";
    case Namespace::Metrics: return "metrics";
    case Namespace::Feedback: return "feedback";
    case Namespace::Config: return "config";
    case Namespace::UserProperties: return "user_properties";
    case Namespace::None: break;
  }
  return nullptr;
}
}  // namespace detail

/// A tracer's counters: the C struct hh_stats itself (its fields are documented in honeyhive.h).
using Stats = hh_stats;

/// W3C propagation headers of a span, for an outgoing request.
struct TraceHeaders {
  std::string traceparent;  ///< `traceparent` header value
  std::string baggage;      ///< `baggage` header value (session_id, project, source, ...)
};

// ------------------------------------------------------------------------------------------
// The OpenTelemetry span model: kinds, status codes, timestamps, span contexts, typed
// attributes (any key, arrays included) and links
// ------------------------------------------------------------------------------------------

/// OpenTelemetry's span kind, chosen at start (SpanOptions::kind).
enum class SpanKind : uint32_t {
  Internal = HH_SPAN_KIND_INTERNAL,  ///< an internal operation (the default)
  Server = HH_SPAN_KIND_SERVER,      ///< handles an incoming request
  Client = HH_SPAN_KIND_CLIENT,      ///< an outgoing request
  Producer = HH_SPAN_KIND_PRODUCER,  ///< sends a message
  Consumer = HH_SPAN_KIND_CONSUMER,  ///< receives a message
};

/// OpenTelemetry's status code (Span::set_status): Ok is final, Error beats Unset.
enum class StatusCode : uint32_t {
  Unset = HH_SPAN_STATUS_UNSET,
  Ok = HH_SPAN_STATUS_OK,
  Error = HH_SPAN_STATUS_ERROR,
};

/// Wall-clock time of explicit timestamps (start, end, events). A default-constructed
/// TimePoint (the Unix epoch) means "now".
using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

namespace detail {

/// `t` as Unix-epoch nanoseconds (0, "now", for the default TimePoint). False for a time
/// before the epoch, which the C ABI cannot express, or past what int64 nanoseconds hold.
inline bool unix_nano(TimePoint t, uint64_t& out) noexcept {
  if (t.time_since_epoch() > std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds::max())) {
    return false;
  }
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  if (ns < 0) return false;
  out = static_cast<uint64_t>(ns);
  return true;
}

/// unix_nano, throwing Error(HH_ERR_INVALID_ARGUMENT) for a time before the epoch.
inline uint64_t unix_nano_or_throw(TimePoint t, const char* what) {
  uint64_t ns = 0;
  if (!unix_nano(t, ns)) throw Error(HH_ERR_INVALID_ARGUMENT, std::string(what) + " is before the Unix epoch");
  return ns;
}

inline int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Parses exactly 2*N hex digits into `out`; false on any other input.
template <size_t N>
bool parse_hex(std::string_view s, uint8_t (&out)[N]) noexcept {
  if (s.size() != 2 * N) return false;
  for (size_t i = 0; i < N; ++i) {
    const int hi = hex_digit(s[2 * i]);
    const int lo = hex_digit(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return true;
}

template <size_t N>
std::string to_hex(const uint8_t (&bytes)[N]) {
  static const char digits[] = "0123456789abcdef";
  std::string s(2 * N, '0');
  for (size_t i = 0; i < N; ++i) {
    s[2 * i] = digits[bytes[i] >> 4];
    s[2 * i + 1] = digits[bytes[i] & 0xF];
  }
  return s;
}

template <size_t N>
bool all_zero(const uint8_t (&bytes)[N]) noexcept {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

}  // namespace detail

/// The ids of a span (OpenTelemetry's SpanContext): trace id, span id, trace flags and
/// whether it came from another process. Read one with Span::context() (no header
/// injected); give one as a remote parent (SpanOptions::parent) or as a link target.
class SpanContext {
 public:
  using TraceId = std::array<uint8_t, 16>;
  using SpanId = std::array<uint8_t, 8>;

  /// The invalid context (all-zero ids).
  SpanContext() noexcept = default;
  /// A context from its ids; `sampled` sets bit 0 of the trace flags.
  SpanContext(const TraceId& trace_id, const SpanId& span_id, bool sampled = true, bool is_remote = true) noexcept {
    std::memcpy(c_.trace_id, trace_id.data(), sizeof c_.trace_id);
    std::memcpy(c_.span_id, span_id.data(), sizeof c_.span_id);
    c_.trace_flags = sampled ? 1 : 0;
    c_.is_remote = is_remote;
  }
  /// The C struct as is.
  explicit SpanContext(const hh_span_context& c) noexcept : c_(c) {}

  /// A context from hex ids (32 and 16 hex digits, as in a traceparent header). Throws
  /// Error(HH_ERR_INVALID_ARGUMENT) on anything else.
  static SpanContext from_hex(std::string_view trace_id, std::string_view span_id, bool sampled = true,
                              bool is_remote = true) {
    SpanContext ctx;
    if (!detail::parse_hex(trace_id, ctx.c_.trace_id) || !detail::parse_hex(span_id, ctx.c_.span_id)) {
      throw Error(HH_ERR_INVALID_ARGUMENT, "SpanContext::from_hex: a trace id is 32 and a span id 16 hex digits");
    }
    ctx.c_.trace_flags = sampled ? 1 : 0;
    ctx.c_.is_remote = is_remote;
    return ctx;
  }

  TraceId trace_id() const noexcept {
    TraceId id{};
    std::memcpy(id.data(), c_.trace_id, id.size());
    return id;
  }
  SpanId span_id() const noexcept {
    SpanId id{};
    std::memcpy(id.data(), c_.span_id, id.size());
    return id;
  }
  /// The ids as lowercase hex, as on the wire and in traceparent.
  std::string trace_id_hex() const { return detail::to_hex(c_.trace_id); }
  std::string span_id_hex() const { return detail::to_hex(c_.span_id); }
  uint8_t trace_flags() const noexcept { return c_.trace_flags; }
  bool sampled() const noexcept { return (c_.trace_flags & 1) != 0; }
  bool is_remote() const noexcept { return c_.is_remote; }
  /// Both ids non-zero (what OpenTelemetry calls a valid context).
  bool is_valid() const noexcept { return !detail::all_zero(c_.trace_id) && !detail::all_zero(c_.span_id); }

  /// The C struct.
  const hh_span_context& c_struct() const noexcept { return c_; }

  friend bool operator==(const SpanContext& a, const SpanContext& b) noexcept {
    return std::memcmp(a.c_.trace_id, b.c_.trace_id, sizeof a.c_.trace_id) == 0 &&
           std::memcmp(a.c_.span_id, b.c_.span_id, sizeof a.c_.span_id) == 0 &&
           a.c_.trace_flags == b.c_.trace_flags && a.c_.is_remote == b.c_.is_remote;
  }
  friend bool operator!=(const SpanContext& a, const SpanContext& b) noexcept { return !(a == b); }

 private:
  hh_span_context c_{};
};

namespace detail {

/// An owned copy of a bool array (std::vector<bool> has no contiguous `const bool*`).
class BoolArray {
 public:
  BoolArray() = default;
  template <class Range>
  explicit BoolArray(const Range& values) {
    size_t n = 0;
    for (auto it = std::begin(values); it != std::end(values); ++it) ++n;
    data_.reset(new bool[n == 0 ? 1 : n]);
    size_ = 0;
    for (const auto& v : values) data_[size_++] = static_cast<bool>(v);
  }
  BoolArray(const BoolArray& other) : BoolArray() { *this = other; }
  BoolArray& operator=(const BoolArray& other) {
    if (this != &other) {
      std::unique_ptr<bool[]> copy(new bool[other.size_ == 0 ? 1 : other.size_]);
      for (size_t i = 0; i < other.size_; ++i) copy[i] = other.data_[i];
      data_ = std::move(copy);
      size_ = other.size_;
    }
    return *this;
  }
  BoolArray(BoolArray&&) noexcept = default;
  BoolArray& operator=(BoolArray&&) noexcept = default;
  const bool* data() const noexcept { return data_.get(); }
  size_t size() const noexcept { return size_; }

 private:
  std::unique_ptr<bool[]> data_;
  size_t size_ = 0;
};

/// A string without an embedded NUL (which the C side would silently truncate).
inline bool nul_free(std::string_view s) noexcept { return s.find('\0') == std::string_view::npos; }

}  // namespace detail

/// One typed attribute for Span::set_attributes, events, links and SpanOptions: a key
/// (any key, or one under a HoneyHive namespace) and a value of any OpenTelemetry type:
/// bool, an integer (int64; unsigned values above INT64_MAX become double), a
/// floating-point number, a string, or a homogeneous array of one of those
/// (`std::vector<T>` or a braced list):
///
///     span.set_attributes({{"http.method", "GET"}, {"retries", 2}, {"tags", {"a", "b"}},
///                          {hh::Namespace::Metrics, "score", 0.9}});
///
/// Construction never fails on content: a key or string with an embedded NUL byte makes the
/// attribute invalid, and the call that uses it refuses it.
class Attribute {
 public:
  Attribute(std::string_view key, bool value) : key_(key), type_(HH_ATTR_BOOL), i64_(value ? 1 : 0) { check_key(); }
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Attribute(std::string_view key, T value) : key_(key) {
    static_assert(!detail::is_char_v<T>, "honeyhive::Attribute: pass characters as strings");
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
      if (value > static_cast<T>(std::numeric_limits<int64_t>::max())) {
        type_ = HH_ATTR_F64;
        f64_ = static_cast<double>(value);
        check_key();
        return;
      }
    }
    type_ = HH_ATTR_I64;
    i64_ = static_cast<int64_t>(value);
    check_key();
  }
  template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Attribute(std::string_view key, T value) : key_(key), type_(HH_ATTR_F64), f64_(static_cast<double>(value)) {
    check_key();
  }
  /// A string value (a null pointer makes the attribute invalid).
  Attribute(std::string_view key, const char* value) : key_(key), type_(HH_ATTR_STR) {
    if (value == nullptr) {
      valid_ = false;
    } else {
      str_ = value;
    }
    check_key();
  }
  Attribute(std::string_view key, std::string_view value) : key_(key), type_(HH_ATTR_STR), str_(value) {
    valid_ = detail::nul_free(str_);
    check_key();
  }
  Attribute(std::string_view key, const std::string& value) : Attribute(key, std::string_view(value)) {}
  /// An array: elements are bool, integers, floating-point numbers or strings (not mixed).
  template <class T>
  Attribute(std::string_view key, const std::vector<T>& values) : key_(key) {
    set_array<T>(values);
    check_key();
  }
  template <class T>
  Attribute(std::string_view key, std::initializer_list<T> values) : key_(key) {
    set_array<T>(values);
    check_key();
  }

  /// The same, under a HoneyHive namespace (`honeyhive_metadata.<key>`, ...).
  template <class V>
  Attribute(Namespace ns, std::string_view key, V&& value) : Attribute(key, std::forward<V>(value)) {
    ns_ = ns;
  }
  template <class T>
  Attribute(Namespace ns, std::string_view key, std::initializer_list<T> values) : Attribute(key, values) {
    ns_ = ns;
  }

  Namespace ns() const noexcept { return ns_; }
  const std::string& key() const noexcept { return key_; }
  /// The HH_ATTR_* type the value is sent as.
  hh_attr_type type() const noexcept { return type_; }
  /// False when the key or a string contains a NUL byte (or a string was a null pointer).
  bool valid() const noexcept { return valid_; }

  /// The C view of this attribute, valid while this object and `str_ptrs` live unchanged:
  /// `str_ptrs` receives the element pointers of a string array (replacing its content).
  hh_attr to_c(std::vector<const char*>& str_ptrs) const {
    hh_attr a{};
    a.ns = static_cast<hh_namespace>(ns_);
    a.type = type_;
    a.key = key_.c_str();
    switch (type_) {
      case HH_ATTR_STR: a.str = str_.c_str(); break;
      case HH_ATTR_I64:
      case HH_ATTR_BOOL: a.i64 = i64_; break;
      case HH_ATTR_F64: a.f64 = f64_; break;
      case HH_ATTR_STR_ARRAY:
        str_ptrs.clear();
        str_ptrs.reserve(strs_.size());
        for (const auto& s : strs_) str_ptrs.push_back(s.c_str());
        a.items = str_ptrs.data();
        a.len = str_ptrs.size();
        break;
      case HH_ATTR_I64_ARRAY:
        a.items = i64s_.data();
        a.len = i64s_.size();
        break;
      case HH_ATTR_F64_ARRAY:
        a.items = f64s_.data();
        a.len = f64s_.size();
        break;
      case HH_ATTR_BOOL_ARRAY:
        a.items = bools_.data();
        a.len = bools_.size();
        break;
      default: break;
    }
    return a;
  }

 private:
  void check_key() noexcept { valid_ = valid_ && detail::nul_free(key_); }

  template <class T, class Range>
  void set_array(const Range& values) {
    if constexpr (std::is_same_v<T, bool>) {
      type_ = HH_ATTR_BOOL_ARRAY;
      bools_ = detail::BoolArray(values);
    } else if constexpr (std::is_integral_v<T>) {
      static_assert(!detail::is_char_v<T>, "honeyhive::Attribute: pass characters as strings");
      bool fits = true;
      if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
        for (const T& v : values) fits = fits && v <= static_cast<T>(std::numeric_limits<int64_t>::max());
      }
      if (fits) {
        type_ = HH_ATTR_I64_ARRAY;
        for (const T& v : values) i64s_.push_back(static_cast<int64_t>(v));
      } else {
        type_ = HH_ATTR_F64_ARRAY;
        for (const T& v : values) f64s_.push_back(static_cast<double>(v));
      }
    } else if constexpr (std::is_floating_point_v<T>) {
      type_ = HH_ATTR_F64_ARRAY;
      for (const T& v : values) f64s_.push_back(static_cast<double>(v));
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      type_ = HH_ATTR_STR_ARRAY;
      for (const T& v : values) {
        if constexpr (std::is_pointer_v<T>) {
          if (v == nullptr) {
            valid_ = false;
            strs_.emplace_back();
            continue;
          }
        }
        const std::string_view s(v);
        valid_ = valid_ && detail::nul_free(s);
        strs_.emplace_back(s);
      }
    } else {
      static_assert(detail::always_false<T>::value,
                    "honeyhive::Attribute: array elements must be bool, integers, floating-point numbers or strings");
    }
  }

  Namespace ns_ = Namespace::None;
  std::string key_;
  hh_attr_type type_ = HH_ATTR_STR;
  bool valid_ = true;
  int64_t i64_ = 0;
  double f64_ = 0;
  std::string str_;
  std::vector<std::string> strs_;
  std::vector<int64_t> i64s_;
  std::vector<double> f64s_;
  detail::BoolArray bools_;
};

/// A link from a span to another span (of this trace or another one), with attributes.
struct Link {
  Link(const SpanContext& target, std::vector<Attribute> attrs = {})  // NOLINT(google-explicit-constructor)
      : context(target), attributes(std::move(attrs)) {}
  SpanContext context;
  std::vector<Attribute> attributes;
};

namespace detail {

/// Attributes in the C layout, with the storage their pointers need (kept alive by this
/// object). `ok()` is false when one of them is invalid.
class CAttrs {
 public:
  CAttrs() = default;
  template <class It>
  CAttrs(It begin, It end) {
    for (It it = begin; it != end; ++it) add(*it);
  }
  explicit CAttrs(const std::vector<Attribute>& attrs) : CAttrs(attrs.begin(), attrs.end()) {}
  CAttrs(CAttrs&&) noexcept = default;
  CAttrs& operator=(CAttrs&&) noexcept = default;
  CAttrs(const CAttrs&) = delete;
  CAttrs& operator=(const CAttrs&) = delete;

  void add(const Attribute& a) {
    ok_ = ok_ && a.valid();
    str_ptrs_.emplace_back();
    attrs_.push_back(a.to_c(str_ptrs_.back()));
  }
  bool ok() const noexcept { return ok_; }
  const hh_attr* data() const noexcept { return attrs_.empty() ? nullptr : attrs_.data(); }
  size_t size() const noexcept { return attrs_.size(); }

 private:
  std::vector<hh_attr> attrs_;
  // Each inner vector's buffer stays put when the outer one grows (moves keep buffers).
  std::vector<std::vector<const char*>> str_ptrs_;
  bool ok_ = true;
};

/// Links in the C layout (see CAttrs).
class CLinks {
 public:
  explicit CLinks(const std::vector<Link>& links) {
    attrs_.reserve(links.size());
    links_.reserve(links.size());
    for (const Link& l : links) {
      attrs_.emplace_back(l.attributes);
      ok_ = ok_ && attrs_.back().ok();
      hh_link c{};
      c.context = l.context.c_struct();
      c.attrs = attrs_.back().data();
      c.attrs_len = attrs_.back().size();
      links_.push_back(c);
    }
  }
  bool ok() const noexcept { return ok_; }
  const hh_link* data() const noexcept { return links_.empty() ? nullptr : links_.data(); }
  size_t size() const noexcept { return links_.size(); }

 private:
  std::vector<CAttrs> attrs_;  // reserved up front: the hh_link pointers into it stay valid
  std::vector<hh_link> links_;
  bool ok_ = true;
};

/// hh_event_create; returns the event id.
inline std::string create_event(hh_tracer tracer, const std::string& json) {
  const char* text = checked_c_str(json, "event JSON");
  char id[HH_EVENT_ID_BUF_LEN] = {};
  hh_error err{};
  check(hh_event_create(tracer, text, id, sizeof id, &err), err, "create_event");
  return std::string(id);
}

}  // namespace detail

// ------------------------------------------------------------------------------------------
// Configuration
// ------------------------------------------------------------------------------------------

/// Tracer configuration: a builder for the C config JSON. Keys left unset fall back to the
/// HH_* / OTEL_* environment variables, then to the library defaults, so `Config{}` means
/// "configure from the environment". `"client_language":"cpp"` is always sent (unless set
/// explicitly), so every request carries `hh-client-language: cpp`; and the resource
/// attributes `process.runtime.name` = "c++" and `process.runtime.version` (the C++ standard
/// the including code is compiled with: the value of `__cplusplus`, e.g. "201703") are sent
/// below the user's own.
class Config {
 public:
  Config() = default;

  Config& api_key(std::string_view v) { return set("api_key", v); }
  Config& ingestion_api_key(std::string_view v) { return set("ingestion_api_key", v); }
  Config& project(std::string_view v) { return set("project", v); }
  Config& source(std::string_view v) { return set("source", v); }
  Config& server_url(std::string_view v) { return set("server_url", v); }
  Config& session_name(std::string_view v) { return set("session_name", v); }
  Config& session_id(std::string_view v) { return set("session_id", v); }
  Config& inputs(const Json& v) { return set("inputs", v); }
  Config& metadata(const Json& v) { return set("metadata", v); }
  /// "honeyhive" (default), "otlp", "file" or "console".
  Config& exporter(std::string_view v) { return set("exporter", v); }
  Config& file_path(std::string_view v) { return set("file_path", v); }
  Config& otlp_endpoint(std::string_view v) { return set("otlp_endpoint", v); }
  /// "http/json" (default) or "http/protobuf".
  Config& otlp_protocol(std::string_view v) { return set("otlp_protocol", v); }
  Config& headers(const Json& object_of_strings) { return set("headers", object_of_strings); }
  /// OpenTelemetry's `service.name` of the resource (default: as OTEL_SERVICE_NAME, else the
  /// library's default).
  Config& service_name(std::string_view v) { return set("service_name", v); }
  /// Resource attributes (string, number or bool values), merged over OTEL_RESOURCE_ATTRIBUTES
  /// and over the binding's `process.runtime.*`; added to earlier ones, a key given again wins.
  Config& resource_attributes(std::initializer_list<std::pair<std::string_view, Json>> attributes) {
    for (const auto& a : attributes) resource_attribute(a.first, a.second);
    return *this;
  }
  Config& resource_attribute(std::string_view key, const Json& value) {
    for (auto& entry : resource_) {
      if (entry.first == key) {
        entry.second = value;
        return *this;
      }
    }
    resource_.emplace_back(std::string(key), value);
    return *this;
  }
  /// The tracer's root spans continue a remote trace and session (the reference SDK's
  /// `link_carrier`): `traceparent` and `baggage` (its `session_id` becomes the tracer's
  /// default session), e.g. the headers of the request that started this process's work.
  Config& link_carrier(const TraceHeaders& carrier) { return link_carrier(carrier.traceparent, carrier.baggage); }
  Config& link_carrier(std::string_view traceparent, std::string_view baggage = {}) {
    Json carrier = Json::object({{"traceparent", traceparent}});
    if (!baggage.empty()) carrier.set("baggage", baggage);
    return set("link_carrier", carrier);
  }
  Config& disable_batch(bool v) { return set("disable_batch", v); }
  Config& test_mode(bool v) { return set("test_mode", v); }
  Config& verbose(bool v) { return set("verbose", v); }
  Config& skip_backend_session_creation(bool v) { return set("skip_backend_session_creation", v); }
  Config& evaluation(std::string_view run_id, std::string_view dataset_id, std::string_view datapoint_id) {
    set("run_id", run_id);
    set("dataset_id", dataset_id);
    return set("datapoint_id", datapoint_id);
  }
  Config& span_name_filters(const Json& v) { return set("span_name_filters", v); }
  Config& schedule_delay(std::chrono::milliseconds v) { return set("schedule_delay_ms", v.count()); }
  Config& export_timeout(std::chrono::milliseconds v) { return set("export_timeout_ms", v.count()); }
  Config& api_timeout(std::chrono::milliseconds v) { return set("api_timeout_ms", v.count()); }
  Config& max_queue_size(uint64_t v) { return set("max_queue_size", v); }
  Config& max_export_batch_size(uint64_t v) { return set("max_export_batch_size", v); }

  /// Any key the C library accepts (see hh_tracer_new); replaces an earlier value.
  Config& set(std::string_view key, const Json& value) {
    for (auto& entry : entries_) {
      if (entry.first == key) {
        entry.second = value;
        return *this;
      }
    }
    entries_.emplace_back(std::string(key), value);
    return *this;
  }

  /// Binding-side setting (not sent to the library): how long ~Tracer waits in close().
  Config& close_timeout(std::chrono::milliseconds v) {
    close_timeout_ = v;
    return *this;
  }
  std::chrono::milliseconds close_timeout() const noexcept { return close_timeout_; }

  /// This tracer's own diagnostics handler (see honeyhive::set_log_handler), installed right
  /// after creation: lines logged while the tracer is created go to the process-wide one.
  Config& log_handler(LogHandler handler) {
    log_handler_ = std::move(handler);
    return *this;
  }
  const LogHandler& log_handler() const noexcept { return log_handler_; }

  /// The config JSON given to hh_tracer_new.
  std::string to_json() const {
    Json j = Json::object();
    bool has_language = false;
    bool has_resource = false;
    for (const auto& entry : entries_) {
      if (entry.first == "resource_attributes") {
        // set("resource_attributes", object): its members go after (over) the others.
        has_resource = true;
        j.set(entry.first, resource_json(&entry.second));
        continue;
      }
      j.set(entry.first, entry.second);
      has_language = has_language || entry.first == "client_language";
    }
    if (!has_language) j.set("client_language", "cpp");
    if (!has_resource) j.set("resource_attributes", resource_json(nullptr));
    return j.str();
  }

 private:
  /// The binding's process.runtime.* attributes, then the user's (resource_attribute), then
  /// the members of an object given with set("resource_attributes", ...): later keys win
  /// (a key is written once, by its last source).
  Json resource_json(const Json* raw) const {
    std::vector<std::pair<std::string, Json>> merged = {
        {"process.runtime.name", Json("c++")},
        {"process.runtime.version", Json(std::to_string(__cplusplus))},
    };
    for (const auto& entry : resource_) {
      bool replaced = false;
      for (auto& m : merged) {
        if (m.first == entry.first) {
          m.second = entry.second;
          replaced = true;
        }
      }
      if (!replaced) merged.push_back(entry);
    }
    Json out = Json::object();
    for (const auto& m : merged) out.set(m.first, m.second);
    if (raw == nullptr) return out;
    if (!raw->is_object()) return *raw;  // not an object: the library reports it
    // Splice the object's members after ours: the library keeps the last value of a key.
    const std::string& text = raw->str();
    const size_t open = text.find('{');
    const size_t close = text.rfind('}');
    const std::string members = text.substr(open + 1, close - open - 1);
    if (members.find_first_not_of(" \t\r\n") == std::string::npos) return out;
    std::string spliced = out.str();
    spliced.pop_back();  // '}'
    spliced += ',';
    spliced += members;
    spliced += '}';
    return Json::raw(std::move(spliced));
  }

  std::vector<std::pair<std::string, Json>> resource_;
  std::vector<std::pair<std::string, Json>> entries_;
  std::chrono::milliseconds close_timeout_{5000};
  LogHandler log_handler_;
};

/// Options of Tracer::create_session (all optional).
class SessionOptions {
 public:
  SessionOptions() = default;
  SessionOptions& name(std::string_view v) { return set("session_name", v); }
  /// A caller-chosen session id (a UUID); by default the library makes one.
  SessionOptions& id(std::string_view v) { return set("session_id", v); }
  SessionOptions& source(std::string_view v) { return set("source", v); }
  SessionOptions& inputs(const Json& object) { return set("inputs", object); }
  SessionOptions& metadata(const Json& object) { return set("metadata", object); }
  SessionOptions& user_properties(const Json& object) { return set("user_properties", object); }
  /// With id(): no `POST /session/start` (the session is known to exist).
  SessionOptions& skip_api_call(bool v) { return set("skip_api_call", v); }

  std::string to_json() const { return json_.str(); }

 private:
  SessionOptions& set(std::string_view key, const Json& value) {
    json_.set(key, value);
    return *this;
  }
  Json json_ = Json::object();
};

class Tracer;
class Session;
class TraceOptions;
template <class F>
class Traced;
class Span;
class RemoteContext;

// ------------------------------------------------------------------------------------------
// Parent / session references (parameter types)
// ------------------------------------------------------------------------------------------

/// A parent for a new span: nothing (a root span), a Span (live or ended), or a
/// RemoteContext from Tracer::extract.
class Parent {
 public:
  constexpr Parent() noexcept = default;
  constexpr Parent(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor)
  Parent(const Span& span) noexcept;            // NOLINT(google-explicit-constructor)
  Parent(const RemoteContext& remote) noexcept; // NOLINT(google-explicit-constructor)
  /// A raw C handle (hh_span), e.g. from another binding in the same process.
  static constexpr Parent from_handle(hh_span handle) noexcept {
    Parent p;
    p.handle_ = handle;
    return p;
  }
  constexpr hh_span handle() const noexcept { return handle_; }

 private:
  hh_span handle_ = 0;
};

/// The session a new span joins: nothing (inherit the parent's session; a root span takes
/// the tracer's default session), a Session, or a session id.
class SessionRef {
 public:
  SessionRef() noexcept = default;
  SessionRef(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor)
  SessionRef(const Session& session) noexcept;  // NOLINT(google-explicit-constructor)
  SessionRef(std::string_view id) noexcept : id_(id), set_(true) {}  // NOLINT
  SessionRef(const char* id) noexcept : id_(id ? std::string_view(id) : std::string_view()), set_(id != nullptr) {}  // NOLINT
  SessionRef(const std::string& id) noexcept : id_(id), set_(true) {}  // NOLINT

  bool has_value() const noexcept { return set_; }
  std::string_view id() const noexcept { return id_; }

 private:
  std::string_view id_;
  bool set_ = false;
};

/// Options of a span start beyond name and event type (Tracer::span, Session::span and
/// Span::child with SpanOptions): OpenTelemetry's kind, start time, links and typed
/// attributes, a parent (a Span, a RemoteContext, or a remote SpanContext given by ids) and
/// a session. Only the fields set are sent.
///
///     auto span = tracer.span("GET /users", hh::SpanOptions()
///                                               .type(hh::EventType::Chain)
///                                               .kind(hh::SpanKind::Server)
///                                               .start_time(received_at)
///                                               .attributes({{"http.method", "GET"}}));
class SpanOptions {
 public:
  SpanOptions() = default;

  /// The HoneyHive event type (default: detected from the name and attributes).
  SpanOptions& type(EventType v) noexcept {
    type_ = v;
    return *this;
  }
  SpanOptions& kind(SpanKind v) noexcept {
    kind_ = v;
    return *this;
  }
  /// When the work started (default: now).
  SpanOptions& start_time(TimePoint v) noexcept {
    start_time_ = v;
    return *this;
  }
  /// A parent span (live or ended) or a RemoteContext from Tracer::extract.
  SpanOptions& parent(Parent v) noexcept {
    parent_ = v;
    has_remote_parent_ = false;
    return *this;
  }
  /// A remote parent given by its ids (e.g. from another tracing library). The span joins
  /// that trace and this tracer's session (or the session given with session()).
  SpanOptions& parent(const SpanContext& v) noexcept {
    parent_ = Parent();
    remote_parent_ = v;
    has_remote_parent_ = true;
    return *this;
  }
  /// The session to join (default: the parent's; for a root span the tracer's default).
  SpanOptions& session(SessionRef v) {
    has_session_ = v.has_value();
    session_id_ = std::string(v.id());
    return *this;
  }
  SpanOptions& link(Link v) {
    links_.push_back(std::move(v));
    return *this;
  }
  SpanOptions& links(std::vector<Link> v) {
    links_ = std::move(v);
    return *this;
  }
  /// Typed initial attributes (any key, arrays included); added to earlier ones.
  SpanOptions& attributes(std::initializer_list<Attribute> v) {
    attrs_.insert(attrs_.end(), v.begin(), v.end());
    return *this;
  }
  SpanOptions& attributes(const std::vector<Attribute>& v) {
    attrs_.insert(attrs_.end(), v.begin(), v.end());
    return *this;
  }
  SpanOptions& attribute(Attribute v) {
    attrs_.push_back(std::move(v));
    return *this;
  }
  /// Initial attributes as a JSON object, written as given (as Tracer::span's `attributes`).
  SpanOptions& json_attributes(const Json& v) {
    json_ = v;
    return *this;
  }

  EventType type() const noexcept { return type_; }
  SpanKind kind() const noexcept { return kind_; }
  TimePoint start_time() const noexcept { return start_time_; }
  Parent parent() const noexcept { return parent_; }
  const SpanContext* remote_parent() const noexcept { return has_remote_parent_ ? &remote_parent_ : nullptr; }
  SessionRef session() const noexcept { return has_session_ ? SessionRef(session_id_) : SessionRef(); }
  const std::vector<Link>& links() const noexcept { return links_; }
  const std::vector<Attribute>& attributes() const noexcept { return attrs_; }
  const Json& json_attributes() const noexcept { return json_; }

 private:
  EventType type_ = EventType::Default;
  SpanKind kind_ = SpanKind::Internal;
  TimePoint start_time_{};
  Parent parent_;
  SpanContext remote_parent_;
  bool has_remote_parent_ = false;
  bool has_session_ = false;
  std::string session_id_;
  std::vector<Link> links_;
  std::vector<Attribute> attrs_;
  Json json_;
};

/// An event recorded by id (Tracer::create_event, `POST /events`): a standalone model, tool
/// or chain step of a session, with the fields the reference SDK's `create_event` sends.
/// `set()` adds any other field.
class EventOptions {
 public:
  /// `name`: the event's name; `type`: model, tool or chain (Default: the SDK's "tool").
  explicit EventOptions(std::string_view name, EventType type = EventType::Default) {
    set("event_name", name);
    if (type != EventType::Default) this->type(type);
  }
  EventOptions& type(EventType v) {
    switch (v) {
      case EventType::Model: return set("event_type", "model");
      case EventType::Tool: return set("event_type", "tool");
      case EventType::Chain: return set("event_type", "chain");
      case EventType::Default: break;
    }
    return *this;
  }
  /// A caller-chosen event id (a UUID); by default the library makes one.
  EventOptions& id(std::string_view v) { return set("event_id", v); }
  /// The session it belongs to (default: the tracer's default session).
  EventOptions& session(SessionRef v) {
    if (v.has_value()) set("session_id", v.id());
    return *this;
  }
  EventOptions& inputs(const Json& object) { return set("inputs", object); }
  EventOptions& outputs(const Json& object) { return set("outputs", object); }
  EventOptions& metadata(const Json& object) { return set("metadata", object); }
  EventOptions& metrics(const Json& object) { return set("metrics", object); }
  EventOptions& feedback(const Json& object) { return set("feedback", object); }
  EventOptions& config(const Json& object) { return set("config", object); }
  EventOptions& user_properties(const Json& object) { return set("user_properties", object); }
  EventOptions& error(std::string_view message) { return set("error", message); }
  /// How long the step took (sent in milliseconds).
  EventOptions& duration(std::chrono::duration<double, std::milli> v) { return set("duration", v.count()); }
  /// Any other field of the event body; replaces an earlier value of the same key.
  EventOptions& set(std::string_view key, const Json& value) {
    for (auto& field : fields_) {
      if (field.first == key) {
        field.second = value;
        return *this;
      }
    }
    fields_.emplace_back(std::string(key), value);
    return *this;
  }

  /// The event JSON given to hh_event_create.
  std::string to_json() const {
    Json j = Json::object();
    for (const auto& field : fields_) j.set(field.first, field.second);
    return j.str();
  }

 private:
  std::vector<std::pair<std::string, Json>> fields_;
};

// ------------------------------------------------------------------------------------------
// Span
// ------------------------------------------------------------------------------------------

/// RAII guard of one span: the destructor ends it. If the destructor runs during stack
/// unwinding (an exception leaves the span's scope) and no error was recorded yet, it first
/// records an error on the span. Move-only; a moved-from Span is empty and does nothing.
///
/// After end() the object keeps the handle, so an ended span can still be a parent, be
/// injected, or report its session id (until the library reuses the handle slot).
class Span {
 public:
  /// An empty span (no handle).
  Span() noexcept = default;
  ~Span() { finish(); }

  Span(Span&& other) noexcept
      : tracer_(other.tracer_),
        handle_(std::exchange(other.handle_, 0)),
        ended_(other.ended_),
        error_recorded_(other.error_recorded_),
        uncaught_(other.uncaught_) {}

  /// Ends the span this object held (as the destructor would), then takes `other`'s.
  Span& operator=(Span&& other) noexcept {
    if (this != &other) {
      finish();
      tracer_ = other.tracer_;
      handle_ = std::exchange(other.handle_, 0);
      ended_ = other.ended_;
      error_recorded_ = other.error_recorded_;
      uncaught_ = other.uncaught_;
    }
    return *this;
  }
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  explicit operator bool() const noexcept { return handle_ != 0; }
  /// The C handle (0 when empty). Stays owned by this object.
  hh_span handle() const noexcept { return handle_; }
  /// The C handle of the tracer this span was started on.
  hh_tracer tracer_handle() const noexcept { return tracer_; }
  bool ended() const noexcept { return ended_; }

  /// Starts a child span on the same tracer; it joins this span's trace and session.
  /// Like every span operation it never throws: on failure (an empty or ended parent, a
  /// closed tracer, bad input) it reports to the log handler and returns an empty Span, on
  /// which every operation does nothing.
  Span child(std::string_view name, EventType type = EventType::Default, const Json& attributes = Json()) const noexcept;
  /// A child span with options (kind, start time, links, typed attributes; the parent is
  /// this span).
  Span child(std::string_view name, const SpanOptions& options) const noexcept;

  /// Enrichment from a Json builder, in the `enrich_span` namespaces: inputs, outputs,
  /// metadata, metrics, feedback, config, user_properties (objects, flattened to
  /// `honeyhive_<ns>.<path>`), error, event_type; other keys go to metadata. All or nothing.
  /// Never throws: a refusal (invalid JSON, an ended span, a limit) is reported to the log
  /// handler and nothing is applied.
  Span& enrich(const Json& enrichment) noexcept { return enrich_text(enrichment.c_str()); }
  /// Enrichment from JSON *text*, e.g. `span.enrich(R"({"metadata":{"a":{"b":1}}})")`.
  Span& enrich(const char* json_text) noexcept { return enrich_text(json_text); }
  Span& enrich(const std::string& json_text) noexcept {
    detail::guarded(tracer_, "Span::enrich",
                    [&] { enrich_text(detail::checked_c_str(json_text, "enrichment JSON")); });
    return *this;
  }
  Span& enrich(std::string_view json_text) noexcept {
    detail::guarded(tracer_, "Span::enrich", [&] {
      const detail::CString text(json_text, "enrichment JSON");
      enrich_text(text.get());
    });
    return *this;
  }

  /// One typed attribute `key` under namespace `ns`: bool, any integer (int64; unsigned
  /// values above INT64_MAX are sent as double), float/double, a string, or a Json value
  /// (nested values are flattened; not for Namespace::None). Never throws (reports).
  template <class T>
  Span& set(Namespace ns, std::string_view key, const T& value) noexcept;

  /// Records an error: an `exception` event, status ERROR "<type>: <message>", and the
  /// attributes honeyhive_error / honeyhive_error_type.
  /// Never throws (a refusal is reported to the log handler).
  Span& record_error(std::string_view type, std::string_view message) noexcept {
    detail::guarded(tracer_, "Span::record_error", [&] {
      const detail::CString t(type, "error type");
      const detail::CString m(message, "error message");
      detail::check(hh_span_record_error(handle_, type.empty() ? nullptr : t.get(), m.get()), "Span::record_error");
      error_recorded_ = true;
    });
    return *this;
  }
  /// record_error with the `exception` event's `exception.stacktrace` (the stack trace as
  /// the caller has it, e.g. from std::stacktrace or boost::stacktrace; empty: none) and
  /// `exception.escaped` (the exception left the span's scope). `time`: when it happened
  /// (default: now).
  Span& record_error(std::string_view type, std::string_view message, std::string_view stacktrace,
                     bool escaped = false, TimePoint time = {}) noexcept {
    detail::guarded(tracer_, "Span::record_error", [&] {
      const detail::CString t(type, "error type");
      const detail::CString m(message, "error message");
      const detail::CString st(stacktrace, "stack trace");
      const uint64_t at = detail::unix_nano_or_throw(time, "error time");
      detail::check(hh_span_record_error_ex(handle_, type.empty() ? nullptr : t.get(), m.get(),
                                            stacktrace.empty() ? nullptr : st.get(),
                                            escaped ? HH_ERROR_ESCAPED : 0u, at),
                    "Span::record_error");
      error_recorded_ = true;
    });
    return *this;
  }
  /// Records `e` with its dynamic type name (e.g. "std::runtime_error") and what().
  Span& record_exception(const std::exception& e) noexcept {
    return record_exception(e, std::string_view(), false);
  }
  /// The same with a stack trace and `exception.escaped` (see record_error).
  Span& record_exception(const std::exception& e, std::string_view stacktrace, bool escaped = false) noexcept {
    std::string type;
    if (!detail::guarded(tracer_, "Span::record_exception", [&] { type = detail::demangle(typeid(e).name()); })) {
      return *this;
    }
    return record_error(type, e.what(), stacktrace, escaped);
  }
  /// Records the exception in `ep` (by default the one being handled, inside a catch block).
  /// Does nothing when `ep` is null.
  Span& record_exception(std::exception_ptr ep = std::current_exception(), bool escaped = false) noexcept {
    if (!ep) return *this;
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      return record_exception(e, std::string_view(), escaped);
    } catch (...) {
      return record_error("unknown exception", "an exception not derived from std::exception", std::string_view(),
                          escaped);
    }
  }

  /// W3C headers continuing this span's trace (and session) in another service (empty
  /// headers, reported, for an empty or stale span).
  TraceHeaders inject() const noexcept;

  // ----- The OpenTelemetry span model. These calls never throw (as OpenTelemetry's API):
  // they return false when the library refused (an empty, ended or stale span, a closed
  // tracer, a limit, an invalid argument such as a NUL byte in a string) and applied nothing.

  /// This span's ids (trace id, span id, flags), also after end(); the invalid (all-zero)
  /// context for an empty or stale span.
  SpanContext context() const noexcept {
    hh_span_context c{};
    if (handle_ == 0 || hh_span_get_context(handle_, &c) != HH_OK) return SpanContext();
    return SpanContext(c);
  }

  /// Typed attributes under any key, arrays included (see Attribute), all or none.
  bool set_attributes(std::initializer_list<Attribute> attrs) noexcept { return set_attrs(attrs.begin(), attrs.end()); }
  bool set_attributes(const std::vector<Attribute>& attrs) noexcept { return set_attrs(attrs.begin(), attrs.end()); }

  /// Adds an event (a named, timestamped annotation) with typed attributes; `time`
  /// defaults to now.
  bool add_event(std::string_view name, std::initializer_list<Attribute> attrs = {}, TimePoint time = {}) noexcept {
    return add_event_impl(name, attrs.begin(), attrs.end(), time);
  }
  bool add_event(std::string_view name, const std::vector<Attribute>& attrs, TimePoint time = {}) noexcept {
    return add_event_impl(name, attrs.begin(), attrs.end(), time);
  }
  bool add_event(std::string_view name, TimePoint time) noexcept {
    const Attribute* none = nullptr;
    return add_event_impl(name, none, none, time);
  }

  /// Links this span to another one (a SpanContext, e.g. another span's context()).
  bool add_link(const Link& link) noexcept {
    try {
      const detail::CAttrs attrs(link.attributes);
      if (!attrs.ok()) return false;
      hh_link c{};
      c.context = link.context.c_struct();
      c.attrs = attrs.data();
      c.attrs_len = attrs.size();
      return hh_span_add_link(handle_, &c, nullptr) == HH_OK;
    } catch (...) {
      return false;
    }
  }

  /// Sets the status: Ok (final), Error with a description, or Unset. Independent of
  /// record_error (which also sets Error).
  bool set_status(StatusCode code, std::string_view description = {}) noexcept {
    try {
      if (!detail::nul_free(description)) return false;
      const std::string d(description);
      return hh_span_set_status(handle_, static_cast<uint32_t>(code), description.empty() ? nullptr : d.c_str()) ==
             HH_OK;
    } catch (...) {
      return false;
    }
  }

  /// Renames the span (e.g. once the route is known).
  bool set_name(std::string_view name) noexcept {
    try {
      if (!detail::nul_free(name)) return false;
      const std::string n(name);
      return hh_span_set_name(handle_, n.c_str()) == HH_OK;
    } catch (...) {
      return false;
    }
  }

  /// Ends the span with an explicit end time (work measured elsewhere). Like end(), a
  /// second end does nothing; false if the library refused (the span is then ended anyway
  /// when it was live, except for a time before the epoch, which leaves it open).
  bool end_at(TimePoint end_time) noexcept {
    if (handle_ == 0 || ended_) return false;
    uint64_t at = 0;
    if (!detail::unix_nano(end_time, at)) return false;
    ended_ = true;
    return hh_span_end_at(handle_, at, 0) == HH_OK;
  }

  /// The session this span belongs to ("" for an empty or stale span, reported).
  std::string session_id() const noexcept {
    const hh_span h = handle_;
    std::string id;
    detail::guarded(tracer_, "Span::session_id", [&] {
      id = detail::read_string(
          [h](char* buf, size_t len, size_t* out) { return hh_span_session_id(h, buf, len, out); },
          HH_SESSION_ID_BUF_LEN, "Span::session_id");
    });
    return id;
  }

  /// Ends the span now. Idempotent; does nothing on an empty span. Never throws: when the
  /// library refuses (e.g. HH_ERR_TRACER_CLOSED: the tracer was closed first and the span
  /// was dropped) the log handler is told and stats() counts the drop.
  void end() noexcept {
    if (handle_ == 0 || ended_) return;
    ended_ = true;
    detail::report_status(tracer_, "Span::end", hh_span_end(handle_));
  }

  /// Gives up ownership without ending the span; the caller must hh_span_end it.
  hh_span release() noexcept {
    ended_ = true;
    return std::exchange(handle_, 0);
  }

  /// Text recorded as the error type when a span is destroyed by stack unwinding.
  static constexpr const char* kUnwindErrorType = "exception";
  static constexpr const char* kUnwindErrorMessage =
      "the span's scope was exited by an exception (destroyed during stack unwinding)";

 private:
  friend class Tracer;
  friend class Session;
  template <class F>
  friend class Traced;
  static Span start(hh_tracer tracer, std::string_view name, EventType type, Parent parent, SessionRef session,
                    const Json& attributes) noexcept;
  static Span start_with(hh_tracer tracer, std::string_view name, const SpanOptions& options) noexcept;
  static hh_span start_with_or_throw(hh_tracer tracer, std::string_view name, const SpanOptions& options);

  template <class It>
  bool set_attrs(It begin, It end) noexcept {
    try {
      const detail::CAttrs attrs(begin, end);
      if (!attrs.ok()) return false;
      return hh_span_set_attrs(handle_, attrs.data(), attrs.size(), nullptr) == HH_OK;
    } catch (...) {
      return false;
    }
  }

  template <class It>
  bool add_event_impl(std::string_view name, It begin, It end, TimePoint time) noexcept {
    try {
      uint64_t at = 0;
      if (!detail::nul_free(name) || !detail::unix_nano(time, at)) return false;
      const std::string n(name);
      const detail::CAttrs attrs(begin, end);
      if (!attrs.ok()) return false;
      return hh_span_add_event(handle_, n.c_str(), attrs.data(), attrs.size(), at, nullptr) == HH_OK;
    } catch (...) {
      return false;
    }
  }
  Span(hh_tracer tracer, hh_span handle) noexcept
      : tracer_(tracer), handle_(handle), uncaught_(std::uncaught_exceptions()) {}

  template <class T>
  void set_or_throw(Namespace ns, std::string_view key, const T& value);

  Span& enrich_text(const char* json_text) noexcept {
    hh_error err{};
    detail::report_status(tracer_, "Span::enrich", hh_span_enrich(handle_, json_text, &err), &err);
    return *this;
  }

  void finish() noexcept {
    if (handle_ == 0 || ended_) return;
    ended_ = true;
    if (!error_recorded_ && std::uncaught_exceptions() > uncaught_) {
      // The exception left the span's scope: OpenTelemetry's exception.escaped.
      detail::ignore_status(
          hh_span_record_error_ex(handle_, kUnwindErrorType, kUnwindErrorMessage, nullptr, HH_ERROR_ESCAPED, 0));
    }
    detail::ignore_status(hh_span_end(handle_));
  }

  hh_tracer tracer_ = 0;
  hh_span handle_ = 0;
  bool ended_ = false;
  bool error_recorded_ = false;
  int uncaught_ = 0;
};

// ------------------------------------------------------------------------------------------
// RemoteContext
// ------------------------------------------------------------------------------------------

/// A remote parent made from incoming W3C headers (Tracer::extract). Use it as the parent of
/// spans; the destructor releases it. Move-only.
class RemoteContext {
 public:
  RemoteContext() noexcept = default;
  ~RemoteContext() {
    if (handle_ != 0) detail::ignore_status(hh_span_end(handle_));
  }
  RemoteContext(RemoteContext&& other) noexcept : handle_(std::exchange(other.handle_, 0)) {}
  RemoteContext& operator=(RemoteContext&& other) noexcept {
    if (this != &other) {
      if (handle_ != 0) detail::ignore_status(hh_span_end(handle_));
      handle_ = std::exchange(other.handle_, 0);
    }
    return *this;
  }
  RemoteContext(const RemoteContext&) = delete;
  RemoteContext& operator=(const RemoteContext&) = delete;

  explicit operator bool() const noexcept { return handle_ != 0; }
  hh_span handle() const noexcept { return handle_; }

  /// The session carried in baggage (or the extracting tracer's default session).
  std::string session_id() const {
    const hh_span h = handle_;
    return detail::read_string(
        [h](char* buf, size_t len, size_t* out) { return hh_span_session_id(h, buf, len, out); },
        HH_SESSION_ID_BUF_LEN, "session_id");
  }

  /// The remote span's ids (is_remote() is true); the invalid context when empty.
  SpanContext context() const noexcept {
    hh_span_context c{};
    if (handle_ == 0 || hh_span_get_context(handle_, &c) != HH_OK) return SpanContext();
    return SpanContext(c);
  }

 private:
  friend class Tracer;
  explicit RemoteContext(hh_span handle) noexcept : handle_(handle) {}
  hh_span handle_ = 0;
};

// ------------------------------------------------------------------------------------------
// Session
// ------------------------------------------------------------------------------------------

/// A session of a tracer (a request, a conversation, a datapoint): spans started through it
/// join it, and so do their children. A cheap, copyable value (tracer handle + id); the wire
/// protocol has no "end session" call, so nothing happens when it goes out of scope. It
/// must not outlive its Tracer (calls then throw HH_ERR_TRACER_CLOSED / INVALID_HANDLE).
class Session {
 public:
  const std::string& id() const noexcept { return id_; }
  hh_tracer tracer_handle() const noexcept { return tracer_; }

  /// Starts a span in this session (a root span unless `parent` is given).
  Span span(std::string_view name, EventType type = EventType::Default, Parent parent = {},
            const Json& attributes = Json()) const noexcept;
  /// A span in this session with options (kind, start time, links, typed attributes, parent).
  Span span(std::string_view name, const SpanOptions& options) const noexcept;

  /// The `baggage` header that continues this session in another service, with no span
  /// (session_id, project, source; traceparent is left empty).
  TraceHeaders inject() const;

  /// Records a standalone event in this session (`POST /events` in the background);
  /// returns its id. See Tracer::create_event.
  std::string create_event(EventOptions event) const;

  /// Enriches the session (`PUT /events` in the background): metadata, inputs, outputs,
  /// metrics, feedback, config, user_properties, duration. Never throws, like span
  /// operations: a refusal (invalid JSON, a closed tracer) is reported to the log handler.
  void enrich(const Json& enrichment) const noexcept { enrich_text(enrichment.c_str()); }
  void enrich(const char* json_text) const noexcept { enrich_text(json_text); }
  void enrich(const std::string& json_text) const noexcept {
    detail::guarded(tracer_, "Session::enrich",
                    [&] { enrich_text(detail::checked_c_str(json_text, "session enrichment JSON")); });
  }
  void enrich(std::string_view json_text) const noexcept {
    detail::guarded(tracer_, "Session::enrich", [&] {
      const detail::CString text(json_text, "session enrichment JSON");
      enrich_text(text.get());
    });
  }

 private:
  friend class Tracer;
  Session(hh_tracer tracer, std::string id) : tracer_(tracer), id_(std::move(id)) {}
  void enrich_text(const char* json_text) const noexcept {
    hh_error err{};
    detail::report_status(tracer_, "Session::enrich", hh_session_enrich(tracer_, id_.c_str(), json_text, &err), &err);
  }

  hh_tracer tracer_;
  std::string id_;
};

// ------------------------------------------------------------------------------------------
// Tracer
// ------------------------------------------------------------------------------------------

/// One configured tracer (api key, project, source, server, export mode). Move-only; the
/// destructor closes it (flushing for at most Config::close_timeout(), default 5 s).
class Tracer {
 public:
  /// Creates a tracer; throws Error (HH_ERR_INVALID_CONFIG names the field) on failure.
  /// Never waits for the network: the default session starts in the background.
  explicit Tracer(const Config& config = Config()) : close_timeout_(config.close_timeout()) {
    const std::string json = config.to_json();
    hh_error err{};
    hh_tracer handle = 0;
    detail::check(hh_tracer_new(json.c_str(), &handle, &err), err, "honeyhive::Tracer");
    handle_ = handle;
    if (config.log_handler()) set_log_handler(config.log_handler());
  }

  /// Takes ownership of a tracer handle made by hh_tracer_new.
  static Tracer adopt(hh_tracer handle, std::chrono::milliseconds close_timeout = std::chrono::milliseconds(5000)) noexcept {
    return Tracer(handle, close_timeout);
  }

  ~Tracer() { close_quietly(); }
  Tracer(Tracer&& other) noexcept
      : handle_(std::exchange(other.handle_, 0)),
        close_timeout_(other.close_timeout_),
        own_log_handler_(std::exchange(other.own_log_handler_, false)) {}
  /// Closes the tracer this object held (as the destructor would), then takes `other`'s.
  Tracer& operator=(Tracer&& other) noexcept {
    if (this != &other) {
      close_quietly();
      handle_ = std::exchange(other.handle_, 0);
      close_timeout_ = other.close_timeout_;
      own_log_handler_ = std::exchange(other.own_log_handler_, false);
    }
    return *this;
  }
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  explicit operator bool() const noexcept { return handle_ != 0; }
  hh_tracer handle() const noexcept { return handle_; }
  /// Gives up ownership without closing; the caller must hh_tracer_close the handle. A log
  /// handler set through this object stays installed (its std::function is kept).
  hh_tracer release() noexcept {
    own_log_handler_ = false;
    return std::exchange(handle_, 0);
  }

  /// This tracer's own diagnostics handler: its lines (and the binding's reports of its
  /// spans' failed operations) go there instead of the process-wide handler. An empty
  /// `handler` goes back to the process-wide one. Closing the tracer removes it. Throws Error
  /// (HH_ERR_TRACER_CLOSED, HH_ERR_INVALID_HANDLE) for a closed or empty tracer.
  void set_log_handler(LogHandler handler) {
    if (!handler) {
      const hh_status status = hh_tracer_set_log_handler(handle_, nullptr, nullptr);
      if (status != HH_OK && status != HH_ERR_TIMEOUT) detail::check(status, "Tracer::set_log_handler");
      detail::forget_log_handler(handle_);
      own_log_handler_ = false;
      return;
    }
    detail::store_log_handler(handle_, std::move(handler));
    // The trampoline finds the handler by the tracer handle, so user_data is that handle.
    const hh_status status = hh_tracer_set_log_handler(
        handle_, &detail::log_trampoline, reinterpret_cast<void*>(static_cast<uintptr_t>(handle_)));
    if (status != HH_OK && status != HH_ERR_TIMEOUT) {
      detail::forget_log_handler(handle_);
      detail::check(status, "Tracer::set_log_handler");
    }
    own_log_handler_ = true;
  }

  /// Starts a span. `parent`: none (root), a Span or a RemoteContext. `session`: none
  /// (inherit the parent's; a root span takes the tracer's default session), a Session or
  /// a session id. `attributes`: initial attributes (a Json object), written as given.
  /// Never throws: when the library refuses (a closed tracer, bad input, a limit) the log
  /// handler is told and the Span is empty (its operations do nothing).
  Span span(std::string_view name, EventType type = EventType::Default, Parent parent = {},
            SessionRef session = {}, const Json& attributes = Json()) const noexcept {
    return Span::start(handle_, name, type, parent, session, attributes);
  }
  /// Starts a span with options: OpenTelemetry's kind, start time, links and typed
  /// attributes, a parent (also a remote SpanContext) and a session. Never throws, like span().
  Span span(std::string_view name, const SpanOptions& options) const noexcept {
    return Span::start_with(handle_, name, options);
  }

  /// Starts a new session (one per request, datapoint, conversation...). Never waits for
  /// the network: `POST /session/start` runs in the background.
  Session create_session(const SessionOptions& options = SessionOptions()) const {
    const std::string json = options.to_json();
    char id[HH_SESSION_ID_BUF_LEN] = {};
    hh_error err{};
    detail::check(hh_session_create(handle_, json.c_str(), id, sizeof id, &err), err, "Tracer::create_session");
    return Session(handle_, std::string(id));
  }

  /// A Session value for an existing session id (no REST call).
  Session session(std::string_view id) const { return Session(handle_, std::string(id)); }

  /// The tracer's default session.
  Session default_session() const { return Session(handle_, session_id()); }

  /// The default session's id. Throws HH_ERR_INVALID_ARGUMENT when there is none.
  std::string session_id() const {
    const hh_tracer t = handle_;
    return detail::read_string(
        [t](char* buf, size_t len, size_t* out) { return hh_tracer_session_id(t, buf, len, out); },
        HH_SESSION_ID_BUF_LEN, "Tracer::session_id");
  }

  /// Enriches the default session (`PUT /events`). Never throws, like Session::enrich.
  void enrich_session(const Json& enrichment) const noexcept { enrich_session_text(nullptr, enrichment.c_str()); }
  void enrich_session(const char* json_text) const noexcept { enrich_session_text(nullptr, json_text); }
  void enrich_session(const std::string& json_text) const noexcept {
    detail::guarded(handle_, "Tracer::enrich_session", [&] {
      enrich_session_text(nullptr, detail::checked_c_str(json_text, "session enrichment JSON"));
    });
  }
  void enrich_session(std::string_view json_text) const noexcept {
    enrich_session(SessionRef(), json_text);
  }
  /// Enriches a session given by Session or id (none: the default session).
  void enrich_session(SessionRef session, const Json& enrichment) const noexcept {
    enrich_session(session, std::string_view(enrichment.str()));
  }
  void enrich_session(SessionRef session, std::string_view json_text) const noexcept {
    detail::guarded(handle_, "Tracer::enrich_session", [&] {
      const detail::CString text(json_text, "session enrichment JSON");
      if (!session.has_value()) return enrich_session_text(nullptr, text.get());
      const detail::CString sid(session.id(), "session id");
      enrich_session_text(sid.get(), text.get());
    });
  }
  void enrich_session(SessionRef session, const char* json_text) const noexcept {
    enrich_session(session, std::string_view(json_text ? json_text : ""));
  }
  void enrich_session(SessionRef session, const std::string& json_text) const noexcept {
    enrich_session(session, std::string_view(json_text));
  }

  /// A remote parent from incoming W3C headers: same trace, the remote span as parent, the
  /// session from baggage (else this tracer's default session). An empty `baggage` is none.
  RemoteContext extract(std::string_view traceparent, std::string_view baggage = {}) const {
    const detail::CString tp(traceparent, "traceparent");
    const detail::CString bag(baggage, "baggage");
    hh_error err{};
    hh_span out = 0;
    detail::check(hh_tracer_extract(handle_, tp.get(), baggage.empty() ? nullptr : bag.get(), &out, &err), err,
                  "Tracer::extract");
    return RemoteContext(out);
  }

  /// The `baggage` header that continues a session in another service without a span:
  /// session_id, project, source (the keys Span::inject writes). `session`: none for the
  /// default session. The traceparent is left empty (there is no span to continue).
  TraceHeaders inject(SessionRef session = {}) const {
    const detail::CString sid(session.id(), "session id");
    const char* id = session.has_value() ? sid.get() : nullptr;
    const hh_tracer t = handle_;
    TraceHeaders out;
    out.baggage = detail::read_string(
        [t, id](char* buf, size_t len, size_t* written) { return hh_session_inject(t, id, buf, len, written); }, 256,
        "Tracer::inject");
    return out;
  }

  /// Records a standalone event by id (`POST /events` with the reference SDK's body):
  /// a model, tool or chain step with inputs, outputs, metadata, metrics, feedback and
  /// duration. The id is made locally and returned at once; the request runs in the
  /// background like session calls. Throws Error on invalid input or a closed tracer.
  std::string create_event(const EventOptions& event) const { return create_event_text(event.to_json()); }
  /// The same from the event body as JSON (event_name, event_type, session_id, inputs...).
  std::string create_event(const Json& event) const { return create_event_text(event.str()); }

  /// Enriches any event by id (`PUT /events` with `event_id`, in the background), e.g.
  /// feedback arriving after the request ended: metadata, feedback, metrics, outputs...
  /// Never throws, like Session::enrich (a refusal is reported to the log handler).
  void enrich_event(std::string_view event_id, const Json& enrichment) const noexcept {
    detail::guarded(handle_, "Tracer::enrich_event", [&] {
      const detail::CString id(event_id, "event id");
      const detail::CString text(enrichment.str(), "event enrichment JSON");
      hh_error err{};
      detail::report_status(handle_, "Tracer::enrich_event", hh_event_enrich(handle_, id.get(), text.get(), &err),
                            &err);
    });
  }

  /// Waits at most `timeout` until every span ended and every session call made before
  /// the call has been delivered. Throws Error: HH_ERR_TIMEOUT (not done in time; delivery
  /// goes on in the background) or HH_ERR_EXPORT_FAILED (something was dropped or failed
  /// since the previous flush).
  void flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) const {
    detail::check(hh_tracer_flush(handle_, detail::timeout_ms(timeout)), "Tracer::flush");
  }

  /// Flushes, then stops the tracer; later calls (and span starts) throw
  /// HH_ERR_TRACER_CLOSED. The tracer is closed even when this throws HH_ERR_TIMEOUT /
  /// HH_ERR_EXPORT_FAILED (which report what was not delivered). Closing again (or from two
  /// threads at once) waits for the first close and reports its outcome: it throws the same.
  /// stats() keeps working afterwards.
  void close(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    const hh_status status = hh_tracer_close(handle_, detail::timeout_ms(timeout));
    // Close has moved the tracer's late lines to the process-wide handler.
    if (own_log_handler_) detail::forget_log_handler(handle_);
    own_log_handler_ = false;
    detail::check(status, "Tracer::close");
  }

  /// `fn` as a callable that traces each call like the Python SDK's @trace (see Traced):
  /// `auto add = tracer.traced("add", [](int a, int b) { return a + b; },
  ///                            TraceOptions().inputs({"a", "b"}));`
  template <class F>
  Traced<std::decay_t<F>> traced(std::string_view name, F&& fn, TraceOptions options = TraceOptions()) const;

  /// The tracer's counters (also after close()).
  Stats stats() const {
    Stats s{};
    detail::check(hh_tracer_stats(handle_, &s), "Tracer::stats");
    return s;
  }

 private:
  Tracer(hh_tracer handle, std::chrono::milliseconds close_timeout) noexcept
      : handle_(handle), close_timeout_(close_timeout) {}

  void close_quietly() noexcept {
    if (handle_ == 0) return;
    detail::ignore_status(hh_tracer_close(handle_, detail::timeout_ms(close_timeout_)));
    if (own_log_handler_) detail::forget_log_handler(handle_);
    own_log_handler_ = false;
  }

  void enrich_session_text(const char* session_id, const char* json_text) const noexcept {
    hh_error err{};
    detail::report_status(handle_, "Tracer::enrich_session", hh_session_enrich(handle_, session_id, json_text, &err),
                          &err);
  }

  std::string create_event_text(const std::string& json) const { return detail::create_event(handle_, json); }

  hh_tracer handle_ = 0;
  std::chrono::milliseconds close_timeout_{5000};
  bool own_log_handler_ = false;
};

// ------------------------------------------------------------------------------------------
// Out-of-line definitions
// ------------------------------------------------------------------------------------------

inline Parent::Parent(const Span& span) noexcept : handle_(span.handle()) {}
inline Parent::Parent(const RemoteContext& remote) noexcept : handle_(remote.handle()) {}
inline SessionRef::SessionRef(const Session& session) noexcept : id_(session.id()), set_(true) {}

inline Span Span::start(hh_tracer tracer, std::string_view name, EventType type, Parent parent,
                        SessionRef session, const Json& attributes) noexcept {
  hh_span out = 0;
  detail::guarded(tracer, "start span", [&] {
    const detail::CString n(name, "span name");
    std::string sid;
    if (session.has_value()) sid = detail::CString(session.id(), "session id").get();
    hh_error err{};
    detail::check(hh_span_start(tracer, n.get(), static_cast<hh_event_type>(type), parent.handle(),
                                session.has_value() ? sid.c_str() : nullptr,
                                attributes.is_null() ? nullptr : attributes.c_str(), &out, &err),
                  err, "start span");
  });
  return out == 0 ? Span() : Span(tracer, out);
}

inline Span Span::start_with(hh_tracer tracer, std::string_view name, const SpanOptions& options) noexcept {
  hh_span out = 0;
  detail::guarded(tracer, "start span", [&] { out = start_with_or_throw(tracer, name, options); });
  return out == 0 ? Span() : Span(tracer, out);
}

inline hh_span Span::start_with_or_throw(hh_tracer tracer, std::string_view name, const SpanOptions& options) {
  const detail::CString n(name, "span name");
  const SessionRef session = options.session();
  std::string sid;
  if (session.has_value()) sid = detail::CString(session.id(), "session id").get();
  const detail::CAttrs attrs(options.attributes().begin(), options.attributes().end());
  const detail::CLinks links(options.links());
  if (!attrs.ok() || !links.ok()) {
    throw Error(HH_ERR_INVALID_ARGUMENT, "start span: an attribute key or string contains a NUL byte");
  }
  hh_span_options c{};
  c.kind = static_cast<uint32_t>(options.kind());
  c.start_time_unix_nano = detail::unix_nano_or_throw(options.start_time(), "span start time");
  c.links = links.data();
  c.links_len = links.size();
  c.attrs = attrs.data();
  c.attrs_len = attrs.size();
  c.parent_context = options.remote_parent() != nullptr ? &options.remote_parent()->c_struct() : nullptr;
  const Json& json = options.json_attributes();
  hh_error err{};
  hh_span out = 0;
  detail::check(hh_span_start_ex(tracer, n.get(), static_cast<hh_event_type>(options.type()),
                                 options.parent().handle(), session.has_value() ? sid.c_str() : nullptr,
                                 json.is_null() ? nullptr : json.c_str(), &c, &out, &err),
                err, "start span");
  return out;
}

inline Span Span::child(std::string_view name, EventType type, const Json& attributes) const noexcept {
  if (handle_ == 0) {
    detail::report(tracer_, "Span::child", "an empty span has no children", HH_ERR_INVALID_HANDLE);
    return Span();
  }
  return start(tracer_, name, type, *this, SessionRef(), attributes);
}

inline Span Span::child(std::string_view name, const SpanOptions& options) const noexcept {
  if (handle_ == 0) {
    detail::report(tracer_, "Span::child", "an empty span has no children", HH_ERR_INVALID_HANDLE);
    return Span();
  }
  hh_span out = 0;
  detail::guarded(tracer_, "start span", [&] {
    SpanOptions o = options;
    o.parent(*this);
    out = start_with_or_throw(tracer_, name, o);
  });
  return out == 0 ? Span() : Span(tracer_, out);
}

inline Span Session::span(std::string_view name, EventType type, Parent parent, const Json& attributes) const noexcept {
  return Span::start(tracer_, name, type, parent, *this, attributes);
}

inline Span Session::span(std::string_view name, const SpanOptions& options) const noexcept {
  hh_span out = 0;
  detail::guarded(tracer_, "start span", [&] {
    SpanOptions o = options;
    o.session(*this);
    out = Span::start_with_or_throw(tracer_, name, o);
  });
  return out == 0 ? Span() : Span(tracer_, out);
}

inline TraceHeaders Session::inject() const {
  const hh_tracer t = tracer_;
  const char* id = id_.c_str();
  TraceHeaders out;
  out.baggage = detail::read_string(
      [t, id](char* buf, size_t len, size_t* written) { return hh_session_inject(t, id, buf, len, written); }, 256,
      "Session::inject");
  return out;
}

inline std::string Session::create_event(EventOptions event) const {
  event.session(*this);
  return detail::create_event(tracer_, event.to_json());
}

template <class T>
Span& Span::set(Namespace ns, std::string_view key, const T& value) noexcept {
  detail::guarded(tracer_, "Span::set", [&] { set_or_throw(ns, key, value); });
  return *this;
}

template <class T>
void Span::set_or_throw(Namespace ns, std::string_view key, const T& value) {
  if constexpr (std::is_same_v<T, Json>) {
    const char* ns_key = detail::enrichment_key(ns);
    if (ns_key == nullptr) {
      throw Error(HH_ERR_INVALID_ARGUMENT, "Span::set with a Json value needs a namespace other than None");
    }
    const Json body = Json::object({{ns_key, Json::object({{key, value}})}});
    hh_error err{};
    detail::check(hh_span_enrich(handle_, body.c_str(), &err), err, "Span::set");
  } else {
    const detail::CString k(key, "attribute key");
    const auto n = static_cast<hh_namespace>(ns);
    hh_status status = HH_OK;
    if constexpr (std::is_same_v<T, bool>) {
      status = hh_span_set_bool(handle_, n, k.get(), value);
    } else if constexpr (std::is_integral_v<T>) {
      static_assert(!detail::is_char_v<T>, "honeyhive::Span::set: pass characters as strings");
      if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
        if (value > static_cast<T>(std::numeric_limits<int64_t>::max())) {
          status = hh_span_set_f64(handle_, n, k.get(), static_cast<double>(value));
        } else {
          status = hh_span_set_i64(handle_, n, k.get(), static_cast<int64_t>(value));
        }
      } else {
        status = hh_span_set_i64(handle_, n, k.get(), static_cast<int64_t>(value));
      }
    } else if constexpr (std::is_floating_point_v<T>) {
      status = hh_span_set_f64(handle_, n, k.get(), static_cast<double>(value));
    } else if constexpr (std::is_pointer_v<T> && std::is_convertible_v<T, const char*>) {
      if (value == nullptr) throw Error(HH_ERR_NULL_ARGUMENT, "Span::set: null string value");
      const detail::CString v(value, "attribute value");
      status = hh_span_set_str(handle_, n, k.get(), v.get());
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      const detail::CString v(std::string_view(value), "attribute value");
      status = hh_span_set_str(handle_, n, k.get(), v.get());
    } else {
      static_assert(detail::always_false<T>::value,
                    "honeyhive::Span::set: value must be bool, an integer, a floating-point number, a string or Json");
    }
    detail::check(status, "Span::set");
  }
}

inline TraceHeaders Span::inject() const noexcept {
  char traceparent[HH_TRACEPARENT_BUF_LEN] = {};
  const hh_span h = handle_;
  TraceHeaders out;
  detail::guarded(tracer_, "Span::inject", [&] {
    // hh_span_inject writes the baggage first: retrying with the size it reports also
    // leaves the traceparent written.
    out.baggage = detail::read_string(
        [h, &traceparent](char* buf, size_t len, size_t* written) {
          return hh_span_inject(h, traceparent, sizeof traceparent, buf, len, written);
        },
        256, "Span::inject");
    out.traceparent = traceparent;
  });
  return out;
}

// ------------------------------------------------------------------------------------------
// traced: a function traced like the Python SDK's @trace
// ------------------------------------------------------------------------------------------

namespace detail {

template <class T, class = void>
struct has_adl_to_json : std::false_type {};
template <class T>
struct has_adl_to_json<T, std::void_t<decltype(Json(to_json(std::declval<const T&>())))>> : std::true_type {};

/// `value` as Json when it converts: numbers, bool, strings, Json, or a type with a
/// `to_json(const T&)` found by argument-dependent lookup. false for other types.
template <class T>
bool to_json_value(const T& value, Json& out) {
  using U = std::decay_t<T>;
  if constexpr (has_adl_to_json<U>::value) {
    out = Json(to_json(value));
    return true;
  } else if constexpr (std::is_same_v<U, Json> || std::is_same_v<U, std::string> ||
                       std::is_same_v<U, std::string_view> || std::is_same_v<U, const char*> ||
                       std::is_same_v<U, char*> || (std::is_arithmetic_v<U> && !is_char_v<U>)) {
    out = Json(value);
    return true;
  } else if constexpr (std::is_array_v<std::remove_reference_t<T>> &&
                       std::is_same_v<std::remove_cv_t<std::remove_extent_t<std::remove_reference_t<T>>>, char>) {
    out = Json(static_cast<const char*>(value));
    return true;
  } else {
    return false;
  }
}

}  // namespace detail

/// How traced() records a call: the span's event type, names for the arguments (the
/// inputs; an argument without a name is `arg<i>`), whether inputs and the result are
/// recorded, and an optional parent or session.
class TraceOptions {
 public:
  TraceOptions() = default;
  TraceOptions& type(EventType v) noexcept {
    type_ = v;
    return *this;
  }
  TraceOptions& inputs(std::vector<std::string> names) {
    names_ = std::move(names);
    return *this;
  }
  TraceOptions& record_inputs(bool v) noexcept {
    record_inputs_ = v;
    return *this;
  }
  TraceOptions& record_output(bool v) noexcept {
    record_output_ = v;
    return *this;
  }
  /// The parent of every traced call's span (a Span's handle is copied: it must stay alive
  /// while the calls run).
  TraceOptions& parent(Parent v) noexcept {
    parent_ = v;
    return *this;
  }
  TraceOptions& session(SessionRef v) {
    session_ = std::string(v.id());
    has_session_ = v.has_value();
    return *this;
  }

  EventType type() const noexcept { return type_; }
  const std::vector<std::string>& input_names() const noexcept { return names_; }
  bool records_inputs() const noexcept { return record_inputs_; }
  bool records_output() const noexcept { return record_output_; }
  Parent parent() const noexcept { return parent_; }
  SessionRef session() const noexcept { return has_session_ ? SessionRef(session_) : SessionRef(); }

 private:
  EventType type_ = EventType::Tool;
  std::vector<std::string> names_;
  bool record_inputs_ = true;
  bool record_output_ = true;
  Parent parent_;
  std::string session_;
  bool has_session_ = false;
};

/// A callable that runs `fn` inside a span named `name` on each call (see Tracer::traced):
/// the arguments as inputs (`honeyhive_inputs.<name>`), the result as output
/// (`honeyhive_outputs.result`) when they convert to Json, an exception recorded (type,
/// what(), escaped) and rethrown unchanged, and the duration as the span's. When `fn` takes
/// a `honeyhive::Span&` first, it gets the call's span (for children and enrichment).
/// Tracing never throws into the call: telemetry failures go to the log handler.
template <class F>
class Traced {
 public:
  Traced(hh_tracer tracer, std::string name, F fn, TraceOptions options)
      : tracer_(tracer), name_(std::move(name)), fn_(std::move(fn)), options_(std::move(options)) {}

  template <class... Args>
  decltype(auto) operator()(Args&&... args) const {
    return call(fn_, std::forward<Args>(args)...);
  }
  /// For a function object whose call operator is not const (a `mutable` lambda).
  template <class... Args>
  decltype(auto) operator()(Args&&... args) {
    return call(fn_, std::forward<Args>(args)...);
  }

 private:
  template <class Fn, class... Args>
  decltype(auto) call(Fn& fn, Args&&... args) const {
    Span span = Span::start(tracer_, name_, options_.type(), options_.parent(), options_.session(), Json());
    if (options_.records_inputs() && sizeof...(Args) > 0) record_inputs(span, args...);
    try {
      if constexpr (std::is_invocable_v<Fn&, Span&, Args&&...>) {
        return finish(span, [&]() -> decltype(auto) { return std::invoke(fn, span, std::forward<Args>(args)...); });
      } else {
        return finish(span, [&]() -> decltype(auto) { return std::invoke(fn, std::forward<Args>(args)...); });
      }
    } catch (...) {
      span.record_exception(std::current_exception(), true);
      span.end();
      throw;
    }
  }

  template <class Call>
  decltype(auto) finish(Span& span, Call&& call) const {
    using R = decltype(call());
    if constexpr (std::is_void_v<R>) {
      call();
      span.end();
    } else {
      R result = call();
      if (options_.records_output()) record_output(span, result);
      span.end();
      return static_cast<R>(result);
    }
  }

  template <class... Args>
  void record_inputs(Span& span, const Args&... args) const noexcept {
    detail::guarded(tracer_, "traced inputs", [&] {
      Json inputs = Json::object();
      size_t i = 0;
      bool any = false;
      auto add = [&](const auto& value) {
        Json v;
        if (detail::to_json_value(value, v)) {
          const std::string key = i < options_.input_names().size() ? options_.input_names()[i]
                                                                    : "arg" + std::to_string(i);
          inputs.set(key, v);
          any = true;
        }
        ++i;
      };
      (add(args), ...);
      if (any) span.enrich(Json::object({{"inputs", inputs}}));
    });
  }

  template <class R>
  void record_output(Span& span, const R& result) const noexcept {
    detail::guarded(tracer_, "traced output", [&] {
      Json v;
      if (detail::to_json_value(result, v)) span.enrich(Json::object({{"outputs", Json::object({{"result", v}})}}));
    });
  }

  hh_tracer tracer_;
  std::string name_;
  F fn_;
  TraceOptions options_;
};

/// `fn` wrapped in a span per call on `tracer` (which must outlive the callable).
template <class F>
Traced<std::decay_t<F>> Tracer::traced(std::string_view name, F&& fn, TraceOptions options) const {
  return Traced<std::decay_t<F>>(handle_, std::string(name), std::forward<F>(fn), std::move(options));
}

/// Calls `fn(args...)` once inside a span named `name`: `traced(tracer, "add", add, 1, 2)`.
template <class F, class... Args>
decltype(auto) traced(const Tracer& tracer, std::string_view name, F&& fn, Args&&... args) {
  return tracer.traced(name, std::forward<F>(fn))(std::forward<Args>(args)...);
}

}  // namespace honeyhive

#endif  // HONEYHIVE_HPP
