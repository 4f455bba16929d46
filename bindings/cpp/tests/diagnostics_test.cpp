// Diagnostics, never-throwing span operations and traced(), against the loopback receiver.
#include <gtest/gtest.h>
#include <honeyhive/honeyhive.hpp>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/test_support.hpp"

using namespace std::chrono_literals;
using honeyhive::Config;
using honeyhive::EventType;
using honeyhive::Json;
using honeyhive::LogLevel;
using honeyhive::Namespace;
using honeyhive::Span;
using honeyhive::TraceOptions;
using honeyhive::Tracer;
using hhtest::find_span;
using hhtest::JValue;

// Span operations never throw: checked at compile time. The arguments are declval'd
// because a noexcept expression also covers building them (a default `Json()` allocates).
namespace check {
using honeyhive::Attribute;
using honeyhive::Parent;
using honeyhive::SessionRef;
using honeyhive::SpanOptions;
using honeyhive::TimePoint;
template <class T>
T v() noexcept;  // a value of T, never called (only in unevaluated operands)
static_assert(noexcept(v<Span&>().end()));
static_assert(noexcept(v<Span&>().enrich(v<const Json&>())));
static_assert(noexcept(v<Span&>().enrich(v<const char*>())));
static_assert(noexcept(v<Span&>().enrich(v<const std::string&>())));
static_assert(noexcept(v<Span&>().enrich(v<std::string_view>())));
static_assert(noexcept(v<Span&>().set(Namespace::Metadata, v<std::string_view>(), 1)));
static_assert(noexcept(v<Span&>().set(Namespace::Metadata, v<std::string_view>(), v<const Json&>())));
static_assert(noexcept(v<Span&>().set(Namespace::Metadata, v<std::string_view>(), v<const std::string&>())));
static_assert(noexcept(v<Span&>().record_error(v<std::string_view>(), v<std::string_view>())));
static_assert(noexcept(v<Span&>().record_error(v<std::string_view>(), v<std::string_view>(), v<std::string_view>(),
                                               true, v<TimePoint>())));
static_assert(noexcept(v<Span&>().record_exception(v<const std::exception&>())));
static_assert(noexcept(v<Span&>().record_exception(v<std::exception_ptr>(), true)));
static_assert(noexcept(v<Span&>().set_attributes(v<const std::vector<Attribute>&>())));
static_assert(noexcept(v<Span&>().add_event(v<std::string_view>(), v<const std::vector<Attribute>&>(), v<TimePoint>())));
static_assert(noexcept(v<Span&>().add_link(v<const honeyhive::Link&>())));
static_assert(noexcept(v<Span&>().set_status(honeyhive::StatusCode::Ok, v<std::string_view>())));
static_assert(noexcept(v<Span&>().set_name(v<std::string_view>())));
static_assert(noexcept(v<Span&>().end_at(v<TimePoint>())));
static_assert(noexcept(v<const Span&>().child(v<std::string_view>(), EventType::Tool, v<const Json&>())));
static_assert(noexcept(v<const Span&>().child(v<std::string_view>(), v<const SpanOptions&>())));
static_assert(noexcept(v<const Span&>().inject()));
static_assert(noexcept(v<const Span&>().session_id()));
static_assert(noexcept(v<const Span&>().context()));
static_assert(noexcept(v<const Tracer&>().span(v<std::string_view>(), EventType::Tool, v<Parent>(), v<SessionRef>(),
                                               v<const Json&>())));
static_assert(noexcept(v<const Tracer&>().span(v<std::string_view>(), v<const SpanOptions&>())));
static_assert(noexcept(v<const honeyhive::Session&>().span(v<std::string_view>(), EventType::Tool, v<Parent>(),
                                                           v<const Json&>())));
static_assert(noexcept(v<const honeyhive::Session&>().span(v<std::string_view>(), v<const SpanOptions&>())));
static_assert(noexcept(v<const honeyhive::Session&>().enrich(v<const Json&>())));
static_assert(noexcept(v<const honeyhive::Session&>().enrich(v<std::string_view>())));
static_assert(noexcept(v<const Tracer&>().enrich_session(v<const Json&>())));
static_assert(noexcept(v<const Tracer&>().enrich_session(v<SessionRef>(), v<std::string_view>())));
static_assert(noexcept(v<const Tracer&>().enrich_event(v<std::string_view>(), v<const Json&>())));
}  // namespace check

namespace {

constexpr const char* kKey = "hh-cpp-log-test-key-Zq8v7Lw2Nf5Rt1Yx";

/// Lines a handler received (called from library threads, hence the mutex).
struct Lines {
  std::mutex mu;
  std::vector<std::pair<LogLevel, std::string>> got;

  honeyhive::LogHandler handler() {
    return [this](LogLevel level, std::string_view line) {
      const std::lock_guard<std::mutex> lock(mu);
      got.emplace_back(level, std::string(line));
    };
  }
  std::vector<std::pair<LogLevel, std::string>> matching(std::string_view needle) {
    const std::lock_guard<std::mutex> lock(mu);
    std::vector<std::pair<LogLevel, std::string>> out;
    for (const auto& l : got) {
      if (l.second.find(needle) != std::string::npos) out.push_back(l);
    }
    return out;
  }
  std::vector<std::pair<LogLevel, std::string>> all() {
    const std::lock_guard<std::mutex> lock(mu);
    return got;
  }
};

class DiagnosticsTest : public ::testing::Test {
 protected:
  void TearDown() override { honeyhive::set_log_handler({}); }

  Config config() const {
    return Config().api_key(kKey).project("p").server_url(receiver.url()).exporter("honeyhive").schedule_delay(50ms);
  }

  /// One span exported into a 400 answer that echoes the API key.
  void fail_one_export(Tracer& tracer, const char* name) {
    tracer.flush(10s);  // the default session first
    receiver.fault(std::string(R"({"mode":"status","status":400,"times":1,"path_prefix":"/opentelemetry",)") +
                   R"("body":"{\"error\":\"bad key )" + kKey + R"(\"}"})");
    { Span s = tracer.span(name, EventType::Tool); }
    EXPECT_THROW(tracer.flush(10s), honeyhive::Error) << "flush still reports to the caller";
    receiver.clear_fault();
  }

  static void expect_no_key(Lines& lines) {
    for (const auto& l : lines.all()) EXPECT_EQ(l.second.find(kKey), std::string::npos) << l.second;
  }

  hhtest::Receiver receiver;
};

TEST_F(DiagnosticsTest, ProcessWideHandlerGetsTheWarningWithTheKeyRedacted) {
  Lines lines;
  honeyhive::set_log_handler(lines.handler());
  Tracer tracer(config());
  fail_one_export(tracer, "refused");
  const auto warnings = lines.matching("export of 1 spans failed");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].first, LogLevel::Warn);
  EXPECT_NE(warnings[0].second.find("HTTP 400"), std::string::npos) << warnings[0].second;
  EXPECT_NE(warnings[0].second.find("bad key"), std::string::npos) << warnings[0].second;
  expect_no_key(lines);
}

TEST_F(DiagnosticsTest, PerTracerHandlerFromConfigAndMethod) {
  Lines process, own, later;
  honeyhive::set_log_handler(process.handler());
  Tracer mine(config().log_handler(own.handler()));
  Tracer other(config());
  fail_one_export(mine, "mine-refused");
  fail_one_export(other, "other-refused");
  EXPECT_EQ(own.matching("export of 1 spans failed").size(), 1u);
  EXPECT_EQ(process.matching("export of 1 spans failed").size(), 1u);
  // Replaced through the method: the next warning goes to the new handler only.
  mine.set_log_handler(later.handler());
  fail_one_export(mine, "mine-refused-again");
  EXPECT_EQ(own.matching("export of 1 spans failed").size(), 1u);
  EXPECT_EQ(later.matching("export of 1 spans failed").size(), 1u);
  expect_no_key(own);
  expect_no_key(process);
  expect_no_key(later);
  mine.close(10s);
  EXPECT_THROW(mine.set_log_handler(own.handler()), honeyhive::Error);
}

TEST_F(DiagnosticsTest, AHandlerThatThrowsIsContained) {
  int calls = 0;
  honeyhive::set_log_handler([&calls](LogLevel, std::string_view) {
    ++calls;
    throw std::runtime_error("the application's logger failed");
  });
  Tracer tracer(config());
  Span span = tracer.span("s");
  span.end();
  span.enrich(R"({"metadata":{"late":1}})");  // reported on this thread: the throw is swallowed
  EXPECT_GE(calls, 1);
}

TEST_F(DiagnosticsTest, SpanOperationsReportInsteadOfThrowing) {
  Lines own;
  Tracer tracer(config().log_handler(own.handler()));
  {
    Span span = tracer.span("refusals", EventType::Tool);
    span.enrich(R"({"metadata":{"a":1},)");
    span.enrich(std::string("{\"a\":1}\0tail", 12));
    span.set(Namespace::Metadata, "", 1);
    span.set(Namespace::None, "k", Json::object({{"x", 1}}));
    span.record_error("E", "m", "", false, honeyhive::TimePoint(-1s));
    span.set(Namespace::Metadata, "good", 1);
    span.end();
    span.enrich(R"({"metadata":{"late":1}})");
    span.set(Namespace::Metadata, "late", 1);
    span.record_error("E", "late");
  }
  EXPECT_GE(own.matching("[HH_ERR_INVALID_JSON]").size(), 1u);
  EXPECT_GE(own.matching("[HH_ERR_INVALID_ARGUMENT]").size(), 3u);
  EXPECT_EQ(own.matching("[HH_ERR_SPAN_ENDED]").size(), 3u);
  for (const auto& l : own.matching("[honeyhive] warning: ")) EXPECT_EQ(l.first, LogLevel::Warn);

  Span bad = tracer.span(std::string("a\0b", 3));
  EXPECT_FALSE(bad) << "a refused start gives an empty span";
  bad.set(Namespace::Metadata, "k", 1);
  bad.end();
  EXPECT_FALSE(Span().child("orphan"));
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(1);
  ASSERT_EQ(spans.size(), 1u) << spans.dump();
  const JValue& s = find_span(spans, "refusals");
  EXPECT_EQ(s["attributes"]["honeyhive_metadata.good"].as_int(), 1) << s.dump();
  EXPECT_FALSE(s["attributes"].has("honeyhive_metadata.late")) << s.dump();
  EXPECT_FALSE(s["attributes"].has("honeyhive_error")) << s.dump();

  // After close: starting and ending report HH_ERR_TRACER_CLOSED, close still reports to
  // the caller.
  Span outliving = tracer.span("outlives-close");
  Lines process;
  honeyhive::set_log_handler(process.handler());
  tracer.close(10s);
  outliving.end();
  Span late = tracer.span("after-close");
  EXPECT_FALSE(late);
  EXPECT_EQ(process.matching("[HH_ERR_TRACER_CLOSED]").size(), 2u);
  EXPECT_EQ(tracer.stats().spans_dropped, 1u);
}

struct Point {
  int x;
  int y;
};
Json to_json(const Point& p) { return Json::object({{"x", p.x}, {"y", p.y}}); }

struct Opaque {};

class AppError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

TEST_F(DiagnosticsTest, TracedRecordsInputsOutputAndExceptions) {
  Tracer tracer(config());
  auto add = tracer.traced("add", [](int a, int b) { return a + b; }, TraceOptions().inputs({"a", "b"}));
  EXPECT_EQ(add(2, 3), 5);

  auto move = tracer.traced(
      "move", [](const Point& p, const std::string& /*how*/, Opaque) { return Point{p.x + 1, p.y}; },
      TraceOptions().type(EventType::Chain).inputs({"point"}));
  const Point moved = move(Point{1, 2}, std::string("right"), Opaque{});
  EXPECT_EQ(moved.x, 2);

  auto fail = tracer.traced("fail", [](const std::string& why) -> int { throw AppError(why); });
  EXPECT_THROW(fail("no luck"), AppError) << "the application's exception is rethrown as is";

  // A function that takes the span first gets it (children, enrichment); void result.
  honeyhive::traced(tracer, "outer", [](Span& span, int n) {
    Span inner = span.child("inner");
    span.set(Namespace::Metadata, "n", n);
  }, 7);
  // Inputs and output left out on request; a mutable function object.
  auto count = tracer.traced(
      "count", [n = 0](int step) mutable { return n += step; },
      TraceOptions().record_inputs(false).record_output(false));
  count(2);
  EXPECT_EQ(count(3), 5);
  tracer.flush(10s);

  const JValue spans = receiver.wait_spans(7);
  ASSERT_EQ(spans.size(), 7u) << spans.dump();
  for (const auto& c : spans.items()) {
    if (c["name"].str() != "count") continue;
    for (const auto& kv : c["attributes"].members()) {
      EXPECT_EQ(kv.first.find("honeyhive_inputs"), std::string::npos) << c.dump();
      EXPECT_EQ(kv.first.find("honeyhive_outputs"), std::string::npos) << c.dump();
    }
  }
  const JValue& a = find_span(spans, "add");
  EXPECT_EQ(a["attributes"]["honeyhive_inputs.a"].as_int(), 2) << a.dump();
  EXPECT_EQ(a["attributes"]["honeyhive_inputs.b"].as_int(), 3) << a.dump();
  EXPECT_EQ(a["attributes"]["honeyhive_outputs.result"].as_int(), 5) << a.dump();
  EXPECT_EQ(a["attributes"]["honeyhive_event_type"].str(), "tool") << a.dump();

  const JValue& m = find_span(spans, "move");
  EXPECT_EQ(m["attributes"]["honeyhive_inputs.point.x"].as_int(), 1) << m.dump();
  EXPECT_EQ(m["attributes"]["honeyhive_inputs.arg1"].str(), "right") << m.dump();
  EXPECT_FALSE(m["attributes"].has("honeyhive_inputs.arg2")) << "no Json for Opaque: left out" << m.dump();
  EXPECT_EQ(m["attributes"]["honeyhive_outputs.result.x"].as_int(), 2) << m.dump();
  EXPECT_EQ(m["attributes"]["honeyhive_event_type"].str(), "chain") << m.dump();

  const JValue& f = find_span(spans, "fail");
  EXPECT_EQ(f["status_code"].str(), "STATUS_CODE_ERROR") << f.dump();
  EXPECT_NE(f["attributes"]["honeyhive_error_type"].str().find("AppError"), std::string::npos) << f.dump();
  EXPECT_EQ(f["attributes"]["honeyhive_error"].str(), "no luck") << f.dump();
  EXPECT_FALSE(f["attributes"].has("honeyhive_outputs.result")) << f.dump();
  ASSERT_EQ(f["events"].size(), 1u) << f.dump();
  EXPECT_EQ(f["events"][0]["attributes"]["exception.escaped"].str(), "True") << f.dump();  // str(bool), as the reference SDK

  const JValue& outer = find_span(spans, "outer");
  const JValue& inner = find_span(spans, "inner");
  EXPECT_EQ(outer["attributes"]["honeyhive_inputs.arg0"].as_int(), 7) << outer.dump();
  EXPECT_EQ(outer["attributes"]["honeyhive_metadata.n"].as_int(), 7) << outer.dump();
  EXPECT_EQ(inner["parent_span_id"].str(), outer["span_id"].str()) << inner.dump();
}

}  // namespace

namespace {

/// Exit status of `pid`, or -1 if it did not exit within a generous bound (it hung).
int wait_child(pid_t pid) {
  for (int i = 0; i < 3000; ++i) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
    std::this_thread::sleep_for(10ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return -1;
}

TEST_F(DiagnosticsTest, AForkWhileAnotherThreadLogsLeavesTheChildAbleToLog) {
  Lines lines;
  honeyhive::set_log_handler(lines.handler());
  Tracer tracer(config());
  // Another thread holds the handler table's lock (as while a line is being delivered) when
  // this thread forks.
  std::promise<void> locked;
  std::thread holder([&locked] {
    const std::lock_guard<std::mutex> lock(honeyhive::detail::log_table().mutex);
    locked.set_value();
    std::this_thread::sleep_for(200ms);
  });
  locked.get_future().wait();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child reports a failed span operation: it must reach the handler, not hang.
    std::atomic<int> got{0};
    honeyhive::set_log_handler([&got](LogLevel, std::string_view) { ++got; });
    Span orphan = Span().child("orphan");  // refused: one report
    ::_exit(got.load() == 1 ? 0 : 3);
  }
  holder.join();
  EXPECT_EQ(wait_child(pid), 0) << "-1: the child hung on the log handler table's lock";
}

}  // namespace
