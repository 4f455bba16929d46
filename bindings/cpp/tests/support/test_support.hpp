// Test support for the C++ binding: start the shared loopback receiver (hh-receiver), talk to
// its control endpoints over a raw-socket HTTP/1.1 client, and read its JSON with a tiny
// parser. No third-party dependency besides POSIX.
#ifndef HONEYHIVE_CPP_TEST_SUPPORT_HPP
#define HONEYHIVE_CPP_TEST_SUPPORT_HPP

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hhtest {

/// A parsed JSON value (objects keep their member order).
class JValue {
 public:
  enum class Type { Null, Bool, Int, Double, String, Array, Object };

  Type type() const noexcept { return type_; }
  bool is_null() const noexcept { return type_ == Type::Null; }
  bool is_string() const noexcept { return type_ == Type::String; }
  bool is_int() const noexcept { return type_ == Type::Int; }
  bool is_double() const noexcept { return type_ == Type::Double; }
  bool is_bool() const noexcept { return type_ == Type::Bool; }
  bool is_array() const noexcept { return type_ == Type::Array; }
  bool is_object() const noexcept { return type_ == Type::Object; }

  /// Member `key` of an object (a null value when missing or not an object).
  const JValue& operator[](std::string_view key) const;
  /// Element `i` of an array (a null value when out of range or not an array).
  const JValue& operator[](size_t i) const;
  bool has(std::string_view key) const;
  size_t size() const noexcept;  // elements or members

  const std::string& str() const;  // "" unless a string
  int64_t as_int() const noexcept;
  double as_double() const noexcept;
  bool as_bool() const noexcept;
  const std::vector<JValue>& items() const noexcept { return array_; }
  const std::vector<std::pair<std::string, JValue>>& members() const noexcept { return object_; }

  /// Serializes back to compact JSON (for failure messages).
  std::string dump() const;

 private:
  friend class JsonParser;
  Type type_ = Type::Null;
  bool bool_ = false;
  int64_t int_ = 0;
  double double_ = 0;
  std::string string_;
  std::vector<JValue> array_;
  std::vector<std::pair<std::string, JValue>> object_;
};

/// Parses JSON text; throws std::runtime_error on malformed input.
JValue parse_json(std::string_view text);

struct HttpResponse {
  int status = 0;
  std::string body;
};

/// One request over a fresh connection to 127.0.0.1:port (Connection: close).
HttpResponse http_request(int port, const std::string& method, const std::string& path,
                          const std::string& body = std::string());

/// Path of the receiver binary: $HH_RECEIVER_BIN, else the build-tree default.
std::string receiver_binary();

/// A running hh-receiver (--exit-on-stdin-eof); stopped by the destructor.
class Receiver {
 public:
  Receiver();
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  const std::string& url() const noexcept { return url_; }
  int port() const noexcept { return port_; }

  JValue spans() const;
  JValue requests() const;
  /// Waits for at least `n` spans (or requests); returns the array either way.
  JValue wait_spans(size_t n, int timeout_ms = 10000) const;
  JValue wait_requests(size_t n, int timeout_ms = 10000) const;
  void reset() const;
  void fault(const std::string& fault_json) const;
  void clear_fault() const;

 private:
  JValue get_json(const std::string& path) const;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  std::string url_;
};

/// The first span named `name` (a null value when there is none).
const JValue& find_span(const JValue& spans, std::string_view name);
const JValue& find_span(JValue&& spans, std::string_view name) = delete;  // would dangle
/// Every request whose path ends with `suffix` and whose method is `method`.
std::vector<const JValue*> find_requests(const JValue& requests, std::string_view method, std::string_view suffix);
std::vector<const JValue*> find_requests(JValue&& requests, std::string_view method,
                                         std::string_view suffix) = delete;  // would dangle

}  // namespace hhtest

#endif  // HONEYHIVE_CPP_TEST_SUPPORT_HPP
