// Integration tests of the C++ binding against the shared loopback receiver (hh-receiver):
// every assertion is on what arrived over the wire (decoded spans and REST requests).
#include <gtest/gtest.h>
#include <honeyhive/honeyhive.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

using namespace std::chrono_literals;
using honeyhive::Config;
using honeyhive::Error;
using honeyhive::EventType;
using honeyhive::Json;
using honeyhive::Namespace;
using honeyhive::RemoteContext;
using honeyhive::SessionOptions;
using honeyhive::Span;
using honeyhive::TraceHeaders;
using honeyhive::Tracer;
using hhtest::find_requests;
using hhtest::find_span;
using hhtest::JValue;

namespace {

class TracerTest : public ::testing::Test {
 protected:
  Config config() const {
    return Config()
        .api_key("test-key")
        .project("p")
        .server_url(receiver.url())
        .exporter("honeyhive")  // explicit, so an HH_EXPORTER in the environment cannot interfere
        .schedule_delay(50ms);
  }

  /// Runs `f`, expecting honeyhive::Error with `status`; returns its message.
  template <class F>
  static std::string expect_error(hh_status status, F&& f) {
    try {
      f();
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), status) << e.status_name() << ": " << e.what();
      return e.what();
    }
    ADD_FAILURE() << "expected honeyhive::Error " << honeyhive::status_name(status);
    return {};
  }

  /// Runs `f` (a span operation), expecting no exception but one warning naming `status`
  /// at the process-wide log handler; returns that line.
  template <class F>
  static std::string expect_reported(hh_status status, F&& f) {
    std::vector<std::string> lines;
    honeyhive::set_log_handler([&lines](honeyhive::LogLevel, std::string_view l) { lines.emplace_back(l); });
    EXPECT_NO_THROW(f());
    honeyhive::set_log_handler({});
    const std::string tag = std::string("[") + honeyhive::status_name(status) + "]";
    for (const auto& l : lines) {
      if (l.find(tag) != std::string::npos) return l;
    }
    ADD_FAILURE() << "expected a warning with " << tag << " among " << lines.size() << " lines";
    return {};
  }

  static const JValue& attr(const JValue& span, const char* key) { return span["attributes"][key]; }

  hhtest::Receiver receiver;
};

std::string span_id_of(const TraceHeaders& h) { return h.traceparent.substr(36, 16); }
std::string trace_id_of(const TraceHeaders& h) { return h.traceparent.substr(3, 32); }

}  // namespace

TEST_F(TracerTest, NestedSpansShareTraceParentsAndSession) {
  Tracer tracer(config());
  TraceHeaders root_headers;
  {
    auto root = tracer.span("agent", EventType::Chain);
    root_headers = root.inject();
    auto llm = root.child("llm-call", EventType::Model);
    auto tool = llm.child("tool-call", EventType::Tool);
    EXPECT_EQ(tool.session_id(), tracer.session_id());
  }
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(3);
  ASSERT_EQ(spans.size(), 3u) << spans.dump();
  const JValue& root = find_span(spans, "agent");
  const JValue& llm = find_span(spans, "llm-call");
  const JValue& tool = find_span(spans, "tool-call");
  ASSERT_TRUE(root.is_object() && llm.is_object() && tool.is_object()) << spans.dump();

  EXPECT_TRUE(root["parent_span_id"].is_null());
  EXPECT_EQ(llm["parent_span_id"].str(), root["span_id"].str());
  EXPECT_EQ(tool["parent_span_id"].str(), llm["span_id"].str());
  EXPECT_EQ(llm["trace_id"].str(), root["trace_id"].str());
  EXPECT_EQ(tool["trace_id"].str(), root["trace_id"].str());
  // The handle's injected ids are the wire ids.
  EXPECT_EQ(root["trace_id"].str(), trace_id_of(root_headers));
  EXPECT_EQ(root["span_id"].str(), span_id_of(root_headers));

  const std::string session = tracer.session_id();
  for (const JValue* s : {&root, &llm, &tool}) {
    EXPECT_EQ(attr(*s, "honeyhive.session_id").str(), session) << s->dump();
  }
  EXPECT_EQ(attr(root, "honeyhive_event_type").str(), "chain");
  EXPECT_EQ(attr(llm, "honeyhive_event_type").str(), "model");
  EXPECT_EQ(attr(tool, "honeyhive_event_type").str(), "tool");
}

TEST_F(TracerTest, EnrichmentIsFlattenedWithTypes) {
  Tracer tracer(config());
  const std::string tricky = "quote\" backslash\\ newline\n tab\t ctrl\x01 caf\xc3\xa9 \xf0\x9f\x98\x80";
  {
    auto span = tracer.span("enriched", EventType::Tool);
    span.enrich(Json::object({
        {"metadata", Json::object({{"a", Json::object({{"b", 1}})}, {"tricky", tricky}})},
        {"inputs", Json::object({{"question", "what?"}})},
        {"metrics", Json::object({{"score", 0.5}, {"one", 1.0}, {"list", Json::array({1, 2})}})},
        {"custom_top", "goes to metadata"},
    }));
    span.enrich(R"({"outputs":{"text":"hi"}})");
    span.enrich(std::string(R"({"feedback":{"ok":true}})"));
    span.enrich(std::string_view(R"({"config":{"model":"m1"}})"));
    span.set(Namespace::Metadata, "str", "value")
        .set(Namespace::Metrics, "i64", int64_t{-42})
        .set(Namespace::Metrics, "dbl", 2.5)
        .set(Namespace::Metadata, "flag", true)
        .set(Namespace::Config, "unsigned", 7u)
        .set(Namespace::None, "raw.key", std::string("raw"))
        .set(Namespace::UserProperties, "user", std::string_view("u1"))
        .set(Namespace::Metadata, "tricky_typed", tricky)
        .set(Namespace::Outputs, "json", Json::object({{"x", Json::array({"a"})}}));
  }
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(1);
  const JValue& s = find_span(spans, "enriched");
  ASSERT_TRUE(s.is_object()) << spans.dump();

  EXPECT_TRUE(attr(s, "honeyhive_metadata.a.b").is_int()) << s.dump();
  EXPECT_EQ(attr(s, "honeyhive_metadata.a.b").as_int(), 1);
  EXPECT_EQ(attr(s, "honeyhive_metadata.tricky").str(), tricky);
  EXPECT_EQ(attr(s, "honeyhive_inputs.question").str(), "what?");
  EXPECT_TRUE(attr(s, "honeyhive_metrics.score").is_double());
  EXPECT_EQ(attr(s, "honeyhive_metrics.score").as_double(), 0.5);
  EXPECT_TRUE(attr(s, "honeyhive_metrics.one").is_double()) << "1.0 must stay a double";
  EXPECT_EQ(attr(s, "honeyhive_metrics.list.0").as_int(), 1);
  EXPECT_EQ(attr(s, "honeyhive_metrics.list.1").as_int(), 2);
  EXPECT_EQ(attr(s, "honeyhive_metadata.custom_top").str(), "goes to metadata");
  EXPECT_EQ(attr(s, "honeyhive_outputs.text").str(), "hi");
  EXPECT_TRUE(attr(s, "honeyhive_feedback.ok").as_bool());
  EXPECT_EQ(attr(s, "honeyhive_config.model").str(), "m1");

  EXPECT_EQ(attr(s, "honeyhive_metadata.str").str(), "value");
  EXPECT_TRUE(attr(s, "honeyhive_metrics.i64").is_int());
  EXPECT_EQ(attr(s, "honeyhive_metrics.i64").as_int(), -42);
  EXPECT_TRUE(attr(s, "honeyhive_metrics.dbl").is_double());
  EXPECT_EQ(attr(s, "honeyhive_metrics.dbl").as_double(), 2.5);
  EXPECT_TRUE(attr(s, "honeyhive_metadata.flag").is_bool());
  EXPECT_TRUE(attr(s, "honeyhive_metadata.flag").as_bool());
  EXPECT_EQ(attr(s, "honeyhive_config.unsigned").as_int(), 7);
  EXPECT_EQ(attr(s, "raw.key").str(), "raw");
  EXPECT_EQ(attr(s, "honeyhive_user_properties.user").str(), "u1");
  EXPECT_EQ(attr(s, "honeyhive_metadata.tricky_typed").str(), tricky);
  EXPECT_EQ(attr(s, "honeyhive_outputs.json.x.0").str(), "a");
}

TEST_F(TracerTest, InitialAttributesAreWrittenRawAndNormalized) {
  Tracer tracer(config());
  { auto span = tracer.span("with-attrs", EventType::Tool, {}, {}, Json::object({{"custom.attr", "v"}, {"n", 3}})); }
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(1);
  const JValue& s = find_span(spans, "with-attrs");
  EXPECT_EQ(attr(s, "custom.attr").str(), "v");
  EXPECT_EQ(attr(s, "custom_attr").str(), "v");
  EXPECT_EQ(attr(s, "n").as_int(), 3);
}

TEST_F(TracerTest, EnrichmentErrorsAreReportedAndApplyNothing) {
  Tracer tracer(config());
  {
    auto span = tracer.span("enrich-errors", EventType::Tool);
    const std::string msg = expect_reported(HH_ERR_INVALID_JSON, [&] { span.enrich(R"({"metadata":{"a":1},)"); });
    EXPECT_FALSE(msg.empty());
    expect_reported(HH_ERR_INVALID_JSON, [&] { span.enrich("[1,2]"); });  // not an object
    expect_reported(HH_ERR_INVALID_ARGUMENT, [&] { span.enrich(R"({"event_type":"banana"})"); });
    expect_reported(HH_ERR_INVALID_ARGUMENT, [&] { span.enrich(std::string("{\"a\":1}\0tail", 12)); });
    expect_reported(HH_ERR_INVALID_ARGUMENT, [&] { span.set(Namespace::Metadata, "", 1); });
    expect_reported(HH_ERR_INVALID_ARGUMENT, [&] { span.set(Namespace::None, "k", Json::object({{"x", 1}})); });
    expect_reported(HH_ERR_INVALID_ARGUMENT, [&] { span.set(static_cast<Namespace>(99), "k", 1); });
    span.end();
    expect_reported(HH_ERR_SPAN_ENDED, [&] { span.enrich(R"({"metadata":{"late":1}})"); });
    expect_reported(HH_ERR_SPAN_ENDED, [&] { span.set(Namespace::Metadata, "late", 1); });
    expect_reported(HH_ERR_SPAN_ENDED, [&] { span.record_error("E", "late"); });
  }
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(1);
  const JValue& s = find_span(spans, "enrich-errors");
  ASSERT_TRUE(s.is_object());
  EXPECT_FALSE(s["attributes"].has("honeyhive_metadata.a")) << s.dump();
  EXPECT_FALSE(s["attributes"].has("honeyhive_metadata.late"));
  EXPECT_EQ(s["status_code"].str(), "STATUS_CODE_UNSET");
}

TEST_F(TracerTest, StartErrorsAreReportedAndGiveEmptySpans) {
  Tracer tracer(config());
  expect_reported(HH_ERR_INVALID_ARGUMENT, [&] { tracer.span(""); });
  expect_reported(HH_ERR_INVALID_ARGUMENT, [&] { tracer.span(std::string("a\0b", 3)); });
  expect_reported(HH_ERR_INVALID_ARGUMENT, [&] { tracer.span("x", static_cast<EventType>(42)); });
  expect_reported(HH_ERR_INVALID_ARGUMENT, [&] { tracer.span("x", EventType::Tool, {}, "not-a-session-id"); });
  expect_reported(HH_ERR_INVALID_JSON, [&] { tracer.span("x", EventType::Tool, {}, {}, Json::raw("{oops")); });
  expect_reported(HH_ERR_INVALID_HANDLE, [&] { Span().child("orphan"); });
  expect_error(HH_ERR_INVALID_ARGUMENT, [&] { tracer.create_session(SessionOptions().id("nope")); });
}

TEST_F(TracerTest, RecordErrorAndUnwindingMarkSpansAsErrors) {
  Tracer tracer(config());
  {
    auto span = tracer.span("explicit-error", EventType::Tool);
    span.record_error("ValueError", "boom");
  }
  try {
    auto span = tracer.span("unwound", EventType::Tool);
    auto inner = span.child("unwound-child", EventType::Tool);
    throw std::runtime_error("bad thing");
  } catch (const std::runtime_error&) {
  }
  {
    auto span = tracer.span("recorded-exception", EventType::Tool);
    try {
      throw std::invalid_argument("nope");
    } catch (...) {
      span.record_exception();
    }
  }
  try {
    // An error recorded explicitly is kept: the unwinding destructor does not overwrite it.
    auto span = tracer.span("recorded-then-unwound", EventType::Tool);
    try {
      throw std::out_of_range("index 7");
    } catch (const std::exception& e) {
      span.record_exception(e);
      throw;
    }
  } catch (const std::out_of_range&) {
  }
  {
    // Created and destroyed inside a destructor that runs during unwinding: not an error.
    struct Cleanup {
      const Tracer& t;
      ~Cleanup() { auto s = t.span("cleanup-during-unwind", EventType::Tool); }
    };
    try {
      Cleanup c{tracer};
      throw 42;
    } catch (int) {
    }
  }
  { auto span = tracer.span("clean", EventType::Tool); }
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(7);
  ASSERT_EQ(spans.size(), 7u) << spans.dump();

  const JValue& exp = find_span(spans, "explicit-error");
  EXPECT_EQ(exp["status_code"].str(), "STATUS_CODE_ERROR");
  EXPECT_EQ(exp["status_message"].str(), "ValueError: boom");
  EXPECT_EQ(attr(exp, "honeyhive_error").str(), "boom");
  EXPECT_EQ(attr(exp, "honeyhive_error_type").str(), "ValueError");
  ASSERT_EQ(exp["events"].size(), 1u);
  EXPECT_EQ(exp["events"][0]["name"].str(), "exception");

  for (const char* name : {"unwound", "unwound-child"}) {
    const JValue& s = find_span(spans, name);
    EXPECT_EQ(s["status_code"].str(), "STATUS_CODE_ERROR") << s.dump();
    EXPECT_TRUE(s["attributes"].has("honeyhive_error")) << s.dump();
    EXPECT_EQ(attr(s, "honeyhive_error_type").str(), Span::kUnwindErrorType);
    EXPECT_EQ(attr(s, "honeyhive_error").str(), Span::kUnwindErrorMessage);
  }

  const JValue& rec = find_span(spans, "recorded-exception");
  EXPECT_EQ(rec["status_code"].str(), "STATUS_CODE_ERROR");
  EXPECT_EQ(rec["status_message"].str(), "std::invalid_argument: nope");

  const JValue& kept = find_span(spans, "recorded-then-unwound");
  EXPECT_EQ(kept["status_message"].str(), "std::out_of_range: index 7");
  EXPECT_EQ(kept["events"].size(), 1u) << kept.dump();

  for (const char* name : {"cleanup-during-unwind", "clean"}) {
    const JValue& s = find_span(spans, name);
    EXPECT_EQ(s["status_code"].str(), "STATUS_CODE_UNSET") << s.dump();
    EXPECT_FALSE(s["attributes"].has("honeyhive_error")) << s.dump();
  }
}

TEST_F(TracerTest, EveryRequestSaysClientLanguageCpp) {
  Tracer tracer(config());
  auto session = tracer.create_session(SessionOptions().name("lang"));
  { auto span = session.span("lang-span"); }
  session.enrich(Json::object({{"metadata", Json::object({{"k", 1}})}}));
  tracer.flush(10s);
  // The session start, the span export, the enrich (the default session is never used, so
  // never started).
  const JValue requests = receiver.wait_requests(3);
  ASSERT_GE(requests.size(), 3u) << requests.dump();
  std::set<std::string> paths;
  for (const auto& r : requests.items()) {
    paths.insert(r["method"].str() + " " + r["path"].str());
    EXPECT_EQ(r["headers"]["hh-client-language"].str(), "cpp") << r["path"].str();
  }
  EXPECT_TRUE(paths.count("POST /session/start"));
  EXPECT_TRUE(paths.count("PUT /events"));
  EXPECT_TRUE(paths.count("POST /opentelemetry/v1/traces"));
}

TEST_F(TracerTest, CreateSessionStartsItAndItsSpansJoinIt) {
  Tracer tracer(config());
  auto session = tracer.create_session(SessionOptions()
                                           .name("checkout-42")
                                           .inputs(Json::object({{"q", "hi"}}))
                                           .metadata(Json::object({{"tenant", "t1"}})));
  ASSERT_EQ(session.id().size(), 36u);
  EXPECT_NE(session.id(), tracer.session_id());
  {
    auto root = session.span("in-session", EventType::Chain);
    auto child = root.child("child-of-session", EventType::Tool);
    EXPECT_EQ(child.session_id(), session.id());
    auto by_id = tracer.span("by-id", EventType::Tool, {}, session.id());
    auto by_ref = tracer.span("by-ref", EventType::Tool, {}, session);
    auto default_root = tracer.span("default-session", EventType::Tool);
  }
  const std::string chosen = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
  auto custom = tracer.create_session(SessionOptions().name("chosen").id(chosen));
  EXPECT_EQ(custom.id(), chosen);
  const std::string skipped = "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff";
  auto known = tracer.create_session(SessionOptions().id(skipped).skip_api_call(true));
  { auto s = known.span("in-known-session"); }
  tracer.flush(10s);

  const JValue requests = receiver.requests();
  const auto starts = find_requests(requests, "POST", "/session/start");
  const JValue* mine = nullptr;
  bool chosen_started = false;
  for (const JValue* r : starts) {
    const JValue& body = (*r)["body_json"]["session"];
    if (body["session_id"].str() == session.id()) mine = r;
    if (body["session_id"].str() == chosen) chosen_started = body["session_name"].str() == "chosen";
    EXPECT_NE(body["session_id"].str(), skipped) << "skip_api_call must not start the session";
  }
  ASSERT_NE(mine, nullptr) << requests.dump();
  const JValue& body = (*mine)["body_json"]["session"];
  EXPECT_EQ(body["session_name"].str(), "checkout-42");
  EXPECT_EQ(body["project"].str(), "p");
  EXPECT_EQ(body["inputs"]["q"].str(), "hi");
  EXPECT_EQ(body["metadata"]["tenant"].str(), "t1");
  EXPECT_TRUE(chosen_started);

  const JValue spans = receiver.wait_spans(6);
  for (const char* name : {"in-session", "child-of-session", "by-id", "by-ref"}) {
    EXPECT_EQ(attr(find_span(spans, name), "honeyhive.session_id").str(), session.id()) << name;
  }
  EXPECT_EQ(attr(find_span(spans, "default-session"), "honeyhive.session_id").str(), tracer.session_id());
  EXPECT_EQ(attr(find_span(spans, "in-known-session"), "honeyhive.session_id").str(), skipped);
}

TEST_F(TracerTest, EnrichSessionSendsPutEvents) {
  Tracer tracer(config());
  auto session = tracer.create_session(SessionOptions().name("to-enrich"));
  session.enrich(Json::object({
      {"metadata", Json::object({{"m", 1}})},
      {"inputs", Json::object({{"i", 2}})},
      {"outputs", Json::object({{"o", "done"}})},
      {"metrics", Json::object({{"latency_ms", 12.5}})},
  }));
  tracer.enrich_session(R"({"feedback":{"rating":5}})");                  // default session
  tracer.enrich_session(session, R"({"user_properties":{"u":"x"}})");     // by Session
  tracer.enrich_session(session.id(), Json::object({{"config", Json::object({{"c", 6}})}}));  // by id
  // Refusals are reported to the log handler, never thrown.
  expect_reported(HH_ERR_INVALID_JSON, [&] { tracer.enrich_session("{nope"); });
  expect_reported(HH_ERR_INVALID_JSON, [&] { session.enrich("{nope"); });
  expect_reported(HH_ERR_INVALID_ARGUMENT, [&] { tracer.enrich_session("not-a-uuid", R"({"metadata":{"a":1}})"); });
  tracer.flush(10s);

  const JValue requests = receiver.requests();
  const auto puts = find_requests(requests, "PUT", "/events");
  ASSERT_EQ(puts.size(), 4u) << requests.dump();
  bool full = false, feedback = false, props = false, config = false;
  for (const JValue* r : puts) {
    const JValue& b = (*r)["body_json"];
    const std::string& id = b["event_id"].str();
    if (id == session.id() && b["metadata"]["m"].as_int() == 1) {
      full = b["metadata"]["inputs"]["i"].as_int() == 2 && b["outputs"]["o"].str() == "done" &&
             b["metrics"]["latency_ms"].as_double() == 12.5;
    }
    if (id == tracer.session_id()) feedback = b["feedback"]["rating"].as_int() == 5;
    if (id == session.id() && b.has("user_properties")) props = b["user_properties"]["u"].str() == "x";
    if (id == session.id() && b.has("config")) config = b["config"]["c"].as_int() == 6;
  }
  EXPECT_TRUE(full) << requests.dump();
  EXPECT_TRUE(feedback);
  EXPECT_TRUE(props);
  EXPECT_TRUE(config);
}

TEST_F(TracerTest, InjectExtractRoundTripAcrossTracers) {
  Tracer upstream(config());
  Tracer downstream(config().source("service-b"));
  auto session = upstream.create_session(SessionOptions().name("distributed"));
  TraceHeaders headers;
  {
    auto client = session.span("client-call", EventType::Tool);
    headers = client.inject();
  }
  ASSERT_EQ(headers.traceparent.size(), 55u) << headers.traceparent;
  EXPECT_EQ(headers.traceparent.substr(0, 3), "00-");
  EXPECT_NE(headers.baggage.find("session_id=" + session.id()), std::string::npos) << headers.baggage;

  {
    RemoteContext remote = downstream.extract(headers.traceparent, headers.baggage);
    ASSERT_TRUE(remote);
    EXPECT_EQ(remote.session_id(), session.id());
    auto server = downstream.span("server-handle", EventType::Chain, remote);
    auto db = server.child("server-db", EventType::Tool);
    EXPECT_EQ(db.session_id(), session.id());
    // A remote context can be moved; the moved-from one is empty and releases nothing.
    RemoteContext moved = std::move(remote);
    EXPECT_FALSE(remote);
    auto second = downstream.span("server-second", EventType::Tool, moved);
  }
  {
    // Without baggage the session is the extracting tracer's default session.
    RemoteContext bare = downstream.extract(headers.traceparent);
    EXPECT_EQ(bare.session_id(), downstream.session_id());
    auto s = downstream.span("server-no-baggage", EventType::Tool, bare);
  }
  expect_error(HH_ERR_INVALID_ARGUMENT, [&] { downstream.extract("00-garbage"); });
  upstream.flush(10s);
  downstream.flush(10s);

  const JValue spans = receiver.wait_spans(5);
  const JValue& client = find_span(spans, "client-call");
  ASSERT_TRUE(client.is_object()) << spans.dump();
  EXPECT_EQ(client["trace_id"].str(), trace_id_of(headers));
  EXPECT_EQ(client["span_id"].str(), span_id_of(headers));
  for (const char* name : {"server-handle", "server-second", "server-no-baggage"}) {
    const JValue& s = find_span(spans, name);
    EXPECT_EQ(s["trace_id"].str(), client["trace_id"].str()) << name;
    EXPECT_EQ(s["parent_span_id"].str(), client["span_id"].str()) << name;
  }
  const JValue& server = find_span(spans, "server-handle");
  EXPECT_EQ(attr(server, "honeyhive.session_id").str(), session.id());
  EXPECT_EQ(attr(find_span(spans, "server-db"), "honeyhive.session_id").str(), session.id());
  EXPECT_EQ(find_span(spans, "server-db")["parent_span_id"].str(), server["span_id"].str());
  EXPECT_EQ(attr(find_span(spans, "server-no-baggage"), "honeyhive.session_id").str(), downstream.session_id());
}

TEST_F(TracerTest, MovedSpansEndExactlyOnce) {
  Tracer tracer(config());
  {
    Span a = tracer.span("moved", EventType::Tool);
    const hh_span handle = a.handle();
    {
      Span b = std::move(a);
      EXPECT_FALSE(a);
      EXPECT_EQ(a.handle(), 0u);
      EXPECT_EQ(b.handle(), handle);
      a.end();  // no-op on a moved-from span
      {
        Span c = std::move(b);  // c's scope ends first: the span ends here, once
        c.set(Namespace::Metadata, "alive", true);
      }
      EXPECT_FALSE(b);
    }
    // The moved-from destructors did nothing, and ending the moved-from again is harmless.
    a.end();
  }
  {
    Span holder = tracer.span("assigned-over", EventType::Tool);
    holder = tracer.span("replacement", EventType::Tool);  // ends "assigned-over" first
    holder.set(Namespace::Metadata, "alive", true);        // the replacement is still live
    holder = Span();                                       // ends "replacement"
    EXPECT_FALSE(holder);
  }
  {
    std::vector<Span> spans;
    for (int i = 0; i < 20; ++i) spans.push_back(tracer.span("in-vector-" + std::to_string(i), EventType::Tool));
    for (auto& s : spans) s.set(Namespace::Metadata, "alive", true);  // none ended by reallocation
  }
  {
    Span twice = tracer.span("ended-twice", EventType::Tool);
    twice.end();
    twice.end();  // idempotent
    EXPECT_TRUE(twice.ended());
    auto late_child = twice.child("child-of-ended", EventType::Tool);  // an ended span can parent
  }
  Tracer moved_tracer = std::move(tracer);
  EXPECT_FALSE(tracer);
  { auto s = moved_tracer.span("after-tracer-move", EventType::Tool); }
  moved_tracer.flush(10s);

  const size_t expected = 1 + 2 + 20 + 2 + 1;
  const JValue spans = receiver.wait_spans(expected);
  EXPECT_EQ(spans.size(), expected) << spans.dump();
  std::set<std::string> names;
  for (const auto& s : spans.items()) {
    EXPECT_TRUE(names.insert(s["name"].str()).second) << "exported twice: " << s["name"].str();
  }
  EXPECT_TRUE(find_span(spans, "moved")["attributes"]["honeyhive_metadata.alive"].as_bool());
  const auto stats = moved_tracer.stats();
  EXPECT_EQ(stats.spans_started, expected);
  EXPECT_EQ(stats.spans_ended, expected);
  EXPECT_EQ(stats.spans_exported, expected);
  EXPECT_EQ(stats.spans_dropped, 0u);
}

TEST_F(TracerTest, MovedFromTracerDoesNotCloseTheNewOwner) {
  std::optional<Tracer> owner;
  {
    Tracer original(config());
    owner.emplace(std::move(original));
    EXPECT_FALSE(original);
  }  // ~Tracer of the moved-from object: must not close the tracer
  { auto s = owner->span("after-move", EventType::Tool); }
  Tracer other(config());
  other = std::move(*owner);  // closes `other`'s own tracer, takes over the first one
  { auto s = other.span("after-move-assign", EventType::Tool); }
  EXPECT_NO_THROW(other.flush(10s));
  const JValue spans = receiver.wait_spans(2);
  EXPECT_TRUE(find_span(spans, "after-move").is_object()) << spans.dump();
  EXPECT_TRUE(find_span(spans, "after-move-assign").is_object()) << spans.dump();
}

TEST_F(TracerTest, ConfigErrorsThrowWithTheField) {
  std::string msg = expect_error(HH_ERR_INVALID_CONFIG, [&] { Tracer t(config().set("bogus_key", 1)); });
  EXPECT_NE(msg.find("bogus_key"), std::string::npos) << msg;
  msg = expect_error(HH_ERR_INVALID_CONFIG, [&] { Tracer t(config().session_id("not-a-uuid")); });
  EXPECT_NE(msg.find("session_id"), std::string::npos) << msg;
  msg = expect_error(HH_ERR_INVALID_CONFIG, [&] { Tracer t(config().exporter("carrier-pigeon")); });
  EXPECT_NE(msg.find("exporter"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("test-key"), std::string::npos) << "messages never contain the API key";
}

TEST_F(TracerTest, FlushAndCloseReportFailuresAsErrors) {
  Tracer tracer(config().close_timeout(500ms));
  EXPECT_NO_THROW(tracer.flush(10s));  // the default session start is delivered

  // A non-retryable answer: the batch is lost, flush says so.
  receiver.fault(R"({"mode":"status","status":400,"path_prefix":"/opentelemetry"})");
  { auto s = tracer.span("rejected", EventType::Tool); }
  std::string msg = expect_error(HH_ERR_EXPORT_FAILED, [&] { tracer.flush(10s); });
  EXPECT_NE(msg.find("Tracer::flush"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[HH_ERR_EXPORT_FAILED]"), std::string::npos) << msg;
  receiver.clear_fault();
  { auto s = tracer.span("accepted", EventType::Tool); }
  EXPECT_NO_THROW(tracer.flush(10s));  // nothing new was lost since the previous flush

  // A server that never answers: flush times out.
  receiver.fault(R"({"mode":"hang","path_prefix":"/opentelemetry"})");
  { auto s = tracer.span("hung", EventType::Tool); }
  expect_error(HH_ERR_TIMEOUT, [&] { tracer.flush(200ms); });
  Span outliving = tracer.span("outlives-close", EventType::Tool);

  // close() is bounded too, reports the undelivered spans, and still closes.
  const auto started = std::chrono::steady_clock::now();
  hh_status first = HH_OK;
  try {
    tracer.close(300ms);
    ADD_FAILURE() << "close should report the undelivered span";
  } catch (const Error& e) {
    first = e.status();
    EXPECT_TRUE(e.status() == HH_ERR_TIMEOUT || e.status() == HH_ERR_EXPORT_FAILED) << e.status_name();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  // Closing again reports the first close's outcome (never "delivered" when it was not).
  if (first != HH_OK) expect_error(first, [&] { tracer.close(100ms); });
  expect_reported(HH_ERR_TRACER_CLOSED, [&] { EXPECT_FALSE(tracer.span("after-close")); });
  expect_error(HH_ERR_TRACER_CLOSED, [&] { tracer.create_session(); });
  expect_error(HH_ERR_TRACER_CLOSED, [&] { tracer.flush(100ms); });
  expect_reported(HH_ERR_TRACER_CLOSED, [&] { outliving.end(); });  // dropped and counted
  const auto stats = tracer.stats();  // still readable after close
  EXPECT_EQ(stats.spans_started, 4u);
  EXPECT_GE(stats.spans_dropped, 2u);
  EXPECT_GE(stats.export_failures, 1u);
  receiver.clear_fault();
}

TEST_F(TracerTest, SpanOutlivingItsTracerIsHarmless) {
  Span survivor;
  {
    Tracer tracer(config().close_timeout(2s));
    survivor = tracer.span("survivor", EventType::Tool);
  }  // ~Tracer closes; ~Span below must not throw or crash
  EXPECT_TRUE(survivor);
  survivor = Span();
  SUCCEED();
}

TEST_F(TracerTest, StatsCountWhatWasExported) {
  Tracer tracer(config());
  for (int i = 0; i < 5; ++i) {
    auto s = tracer.span("counted", EventType::Tool);
  }
  tracer.flush(10s);
  const auto stats = tracer.stats();
  EXPECT_EQ(stats.spans_started, 5u);
  EXPECT_EQ(stats.spans_ended, 5u);
  EXPECT_EQ(stats.spans_exported, 5u);
  EXPECT_EQ(stats.spans_dropped, 0u);
  EXPECT_GE(stats.export_requests, 1u);
  EXPECT_GE(stats.rest_calls, 1u);  // the default session's start
  EXPECT_EQ(stats.queue_len, 0u);
}

TEST_F(TracerTest, OneTracerSharedByThreadsKeepsSessionsApart) {
  const Tracer tracer(config());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&tracer, &ids, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto session = tracer.create_session(SessionOptions().name("thread-" + std::to_string(t)));
        ids[static_cast<size_t>(t)].push_back(session.id());
        auto root = session.span("request", EventType::Chain);
        auto child = root.child("step", EventType::Tool);
        child.set(Namespace::Metadata, "thread", t).set(Namespace::Metadata, "i", i);
      }
    });
  }
  for (auto& th : threads) th.join();
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(kThreads * kPerThread * 2);
  ASSERT_EQ(spans.size(), static_cast<size_t>(kThreads * kPerThread * 2));
  // Every child is in its parent's session and trace, and every session has its 2 spans.
  std::map<std::string, int> per_session;
  std::map<std::string, const JValue*> by_span_id;
  for (const auto& s : spans.items()) by_span_id[s["span_id"].str()] = &s;
  for (const auto& s : spans.items()) {
    const std::string& sid = s["attributes"]["honeyhive.session_id"].str();
    ++per_session[sid];
    if (s["name"].str() == "step") {
      const JValue* parent = by_span_id[s["parent_span_id"].str()];
      ASSERT_NE(parent, nullptr);
      EXPECT_EQ((*parent)["attributes"]["honeyhive.session_id"].str(), sid);
      EXPECT_EQ((*parent)["trace_id"].str(), s["trace_id"].str());
    }
  }
  for (const auto& thread_ids : ids) {
    for (const auto& id : thread_ids) EXPECT_EQ(per_session[id], 2) << id;
  }
}
