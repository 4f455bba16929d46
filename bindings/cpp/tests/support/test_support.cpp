#include "test_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#ifndef HH_DEFAULT_RECEIVER_BIN
#define HH_DEFAULT_RECEIVER_BIN "hh-receiver"
#endif

namespace hhtest {

// ------------------------------------------------------------------------------------------
// JSON reader
// ------------------------------------------------------------------------------------------

namespace {
const JValue& null_value() {
  static const JValue v;
  return v;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

void dump_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}
}  // namespace

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : s_(text) {}

  JValue parse_document() {
    JValue v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw std::runtime_error(std::string("JSON parse error at ") + std::to_string(pos_) + ": " + what);
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  char peek() {
    skip_ws();
    if (pos_ >= s_.size()) fail("unexpected end");
    return s_[pos_];
  }
  void expect(char c) {
    if (peek() != c) fail("unexpected character");
    ++pos_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    return false;
  }

  JValue parse_value(int depth) {
    if (depth > 200) fail("too deep");
    JValue v;
    const char c = peek();
    if (c == '{') {
      ++pos_;
      v.type_ = JValue::Type::Object;
      if (peek() == '}') {
        ++pos_;
        return v;
      }
      for (;;) {
        if (peek() != '"') fail("expected a key");
        std::string key = parse_string();
        expect(':');
        v.object_.emplace_back(std::move(key), parse_value(depth + 1));
        const char n = peek();
        ++pos_;
        if (n == '}') break;
        if (n != ',') fail("expected , or }");
      }
    } else if (c == '[') {
      ++pos_;
      v.type_ = JValue::Type::Array;
      if (peek() == ']') {
        ++pos_;
        return v;
      }
      for (;;) {
        v.array_.push_back(parse_value(depth + 1));
        const char n = peek();
        ++pos_;
        if (n == ']') break;
        if (n != ',') fail("expected , or ]");
      }
    } else if (c == '"') {
      v.type_ = JValue::Type::String;
      v.string_ = parse_string();
    } else if (literal("true")) {
      v.type_ = JValue::Type::Bool;
      v.bool_ = true;
    } else if (literal("false")) {
      v.type_ = JValue::Type::Bool;
    } else if (literal("null")) {
    } else {
      parse_number(v);
    }
    return v;
  }

  void parse_number(JValue& v) {
    const size_t start = pos_;
    bool is_float = false;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c >= '0' && c <= '9') {
        ++pos_;
      } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
        is_float = true;
        ++pos_;
      } else {
        break;
      }
    }
    if (pos_ == start) fail("unexpected character");
    const std::string text(s_.substr(start, pos_ - start));
    if (!is_float) {
      errno = 0;
      char* end = nullptr;
      const long long n = std::strtoll(text.c_str(), &end, 10);
      if (errno == 0 && end && *end == '\0') {
        v.type_ = JValue::Type::Int;
        v.int_ = n;
        return;
      }
    }
    v.type_ = JValue::Type::Double;
    v.double_ = std::strtod(text.c_str(), nullptr);
  }

  uint32_t hex4() {
    if (pos_ + 4 > s_.size()) fail("short \\u escape");
    uint32_t cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      cp <<= 4;
      if (c >= '0' && c <= '9') cp |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') cp |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') cp |= static_cast<uint32_t>(c - 'A' + 10);
      else fail("bad \\u escape");
    }
    return cp;
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) fail("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') break;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) fail("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF && s_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            const uint32_t lo = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
    return out;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

JValue parse_json(std::string_view text) { return JsonParser(text).parse_document(); }

const JValue& JValue::operator[](std::string_view key) const {
  if (type_ == Type::Object) {
    for (const auto& m : object_) {
      if (m.first == key) return m.second;
    }
  }
  return null_value();
}

const JValue& JValue::operator[](size_t i) const {
  if (type_ == Type::Array && i < array_.size()) return array_[i];
  return null_value();
}

bool JValue::has(std::string_view key) const {
  if (type_ != Type::Object) return false;
  for (const auto& m : object_) {
    if (m.first == key) return true;
  }
  return false;
}

size_t JValue::size() const noexcept {
  return type_ == Type::Array ? array_.size() : type_ == Type::Object ? object_.size() : 0;
}

const std::string& JValue::str() const {
  static const std::string empty;
  return type_ == Type::String ? string_ : empty;
}
int64_t JValue::as_int() const noexcept { return type_ == Type::Int ? int_ : static_cast<int64_t>(double_); }
double JValue::as_double() const noexcept { return type_ == Type::Double ? double_ : static_cast<double>(int_); }
bool JValue::as_bool() const noexcept { return type_ == Type::Bool && bool_; }

std::string JValue::dump() const {
  std::string out;
  switch (type_) {
    case Type::Null: out = "null"; break;
    case Type::Bool: out = bool_ ? "true" : "false"; break;
    case Type::Int: out = std::to_string(int_); break;
    case Type::Double: {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", double_);
      out = buf;
      break;
    }
    case Type::String: dump_string(out, string_); break;
    case Type::Array:
      out += '[';
      for (size_t i = 0; i < array_.size(); ++i) {
        if (i) out += ',';
        out += array_[i].dump();
      }
      out += ']';
      break;
    case Type::Object:
      out += '{';
      for (size_t i = 0; i < object_.size(); ++i) {
        if (i) out += ',';
        dump_string(out, object_[i].first);
        out += ':';
        out += object_[i].second.dump();
      }
      out += '}';
      break;
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// HTTP client
// ------------------------------------------------------------------------------------------

namespace {
std::string decode_chunked(const std::string& body) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    const size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) throw std::runtime_error("bad chunked body");
    const size_t len = std::strtoul(body.substr(pos, eol - pos).c_str(), nullptr, 16);
    pos = eol + 2;
    if (len == 0) break;
    out.append(body, pos, len);
    pos += len + 2;
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}
}  // namespace

HttpResponse http_request(int port, const std::string& method, const std::string& path, const std::string& body) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  timeval tv{};
  tv.tv_sec = 60;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("connect to receiver failed: " + std::string(std::strerror(errno)));
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < req.size()) {
    const ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send to receiver failed");
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error("recv from receiver failed: " + std::string(std::strerror(errno)));
    if (n == 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0) {
    throw std::runtime_error("malformed HTTP response");
  }
  HttpResponse resp;
  resp.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  const std::string head = lower(raw.substr(0, head_end));
  resp.body = raw.substr(head_end + 4);
  if (head.find("transfer-encoding: chunked") != std::string::npos) resp.body = decode_chunked(resp.body);
  return resp;
}

// ------------------------------------------------------------------------------------------
// Receiver process
// ------------------------------------------------------------------------------------------

std::string receiver_binary() {
  const char* env = std::getenv("HH_RECEIVER_BIN");
  if (env != nullptr && *env != '\0') return env;
  return HH_DEFAULT_RECEIVER_BIN;
}

Receiver::Receiver() {
  const std::string bin = receiver_binary();
  int in_pipe[2];
  int out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(in_pipe[0], STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    char* const argv[] = {const_cast<char*>(bin.c_str()), const_cast<char*>("--exit-on-stdin-eof"), nullptr};
    ::execv(bin.c_str(), argv);
    std::fprintf(stderr, "cannot exec %s: %s\n", bin.c_str(), std::strerror(errno));
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  stdin_fd_ = in_pipe[1];
  stdout_fd_ = out_pipe[0];

  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{stdout_fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      throw std::runtime_error("hh-receiver (" + bin + ") printed no URL line in time");
    }
    char c = 0;
    const ssize_t n = ::read(stdout_fd_, &c, 1);
    if (n <= 0) throw std::runtime_error("hh-receiver (" + bin + ") exited before printing its URL");
    line += c;
  }
  const std::string prefix = "HH_RECEIVER_URL=";
  const size_t at = line.find(prefix);
  if (at == std::string::npos) throw std::runtime_error("unexpected receiver output: " + line);
  url_ = line.substr(at + prefix.size());
  while (!url_.empty() && (url_.back() == '\n' || url_.back() == '\r')) url_.pop_back();
  port_ = std::atoi(url_.c_str() + url_.rfind(':') + 1);
  if (port_ <= 0) throw std::runtime_error("no port in receiver URL " + url_);
}

Receiver::~Receiver() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);  // --exit-on-stdin-eof
  if (pid_ > 0) {
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

JValue Receiver::get_json(const std::string& path) const {
  const HttpResponse r = http_request(port_, "GET", path);
  if (r.status != 200) throw std::runtime_error("GET " + path + " -> HTTP " + std::to_string(r.status));
  return parse_json(r.body);
}

JValue Receiver::spans() const { return get_json("/__hh/spans"); }
JValue Receiver::requests() const { return get_json("/__hh/requests"); }
JValue Receiver::wait_spans(size_t n, int timeout_ms) const {
  return get_json("/__hh/wait?spans=" + std::to_string(n) + "&timeout_ms=" + std::to_string(timeout_ms));
}
JValue Receiver::wait_requests(size_t n, int timeout_ms) const {
  return get_json("/__hh/wait?requests=" + std::to_string(n) + "&timeout_ms=" + std::to_string(timeout_ms));
}
void Receiver::reset() const { http_request(port_, "POST", "/__hh/reset"); }
void Receiver::fault(const std::string& fault_json) const {
  const HttpResponse r = http_request(port_, "POST", "/__hh/fault", fault_json);
  if (r.status != 200) throw std::runtime_error("POST /__hh/fault -> HTTP " + std::to_string(r.status) + " " + r.body);
}
void Receiver::clear_fault() const { http_request(port_, "POST", "/__hh/clear_fault"); }

const JValue& find_span(const JValue& spans, std::string_view name) {
  for (const auto& s : spans.items()) {
    if (s["name"].str() == name) return s;
  }
  return null_value();
}

std::vector<const JValue*> find_requests(const JValue& requests, std::string_view method, std::string_view suffix) {
  std::vector<const JValue*> out;
  for (const auto& r : requests.items()) {
    const std::string& path = r["path"].str();
    if (r["method"].str() == method && path.size() >= suffix.size() &&
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(&r);
    }
  }
  return out;
}

}  // namespace hhtest
