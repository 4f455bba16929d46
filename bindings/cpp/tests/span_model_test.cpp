// The OpenTelemetry span model, events by id, session inject, link_carrier and resource
// attributes through the C++ binding, against the loopback receiver (hh-receiver): every
// assertion is on what arrived over the wire.
#include <gtest/gtest.h>
#include <honeyhive/honeyhive.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_support.hpp"

using namespace std::chrono_literals;
using honeyhive::Attribute;
using honeyhive::Clock;
using honeyhive::Config;
using honeyhive::EventOptions;
using honeyhive::EventType;
using honeyhive::Json;
using honeyhive::Link;
using honeyhive::Namespace;
using honeyhive::SessionOptions;
using honeyhive::Span;
using honeyhive::SpanContext;
using honeyhive::SpanKind;
using honeyhive::SpanOptions;
using honeyhive::StatusCode;
using honeyhive::TimePoint;
using honeyhive::Tracer;
using hhtest::find_requests;
using hhtest::find_span;
using hhtest::JValue;

namespace {

class SpanModelTest : public ::testing::Test {
 protected:
  Config config() const {
    return Config()
        .api_key("test-key")
        .project("p")
        .server_url(receiver.url())
        .exporter("honeyhive")  // explicit, so an HH_EXPORTER in the environment cannot interfere
        .schedule_delay(50ms);
  }
  static const JValue& attr(const JValue& span, const char* key) { return span["attributes"][key]; }
  static int64_t ns(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  /// The first span named `name`; fails the test when missing.
  static const JValue& span_named(const JValue& spans, const char* name) {
    const JValue& s = find_span(spans, name);
    EXPECT_TRUE(s.is_object()) << "no span " << name << " in " << spans.dump();
    return s;
  }

  hhtest::Receiver receiver;
};

// A fixed time well in the past, with nanoseconds that a microsecond clock would lose.
const TimePoint kT0 = TimePoint(std::chrono::duration_cast<Clock::duration>(1700000000123456789ns));

const char* const kTraceId = "0af7651916cd43dd8448eb211c80319c";
const char* const kSpanId = "b7ad6b7169203331";

}  // namespace

TEST_F(SpanModelTest, KindStartEndTimesStatusAndName) {
  Tracer tracer(config());
  const TimePoint t1 = kT0 + 1500ms;
  {
    auto server = tracer.span("GET /users/{id}", SpanOptions().type(EventType::Chain).kind(SpanKind::Server).start_time(kT0));
    EXPECT_TRUE(server.set_name("GET /users/42"));
    EXPECT_TRUE(server.set_status(StatusCode::Ok));
    EXPECT_TRUE(server.set_status(StatusCode::Error, "too late: Ok is final"));
    EXPECT_TRUE(server.end_at(t1));
    EXPECT_TRUE(server.ended());
    EXPECT_FALSE(server.end_at(t1)) << "a second end does nothing";
  }
  {
    auto failed = tracer.span("failed", SpanOptions().kind(SpanKind::Client));
    EXPECT_TRUE(failed.set_status(StatusCode::Error, "upstream said 503"));
    auto producer = failed.child("produce", SpanOptions().kind(SpanKind::Producer));
    auto consumer = tracer.span("consume", SpanOptions().kind(SpanKind::Consumer));
    auto internal = tracer.span("internal", SpanOptions());
  }
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(5);
  ASSERT_EQ(spans.size(), 5u) << spans.dump();

  const JValue& server = span_named(spans, "GET /users/42");
  EXPECT_EQ(server["kind"].str(), "SPAN_KIND_SERVER");
  EXPECT_EQ(server["start_time_unix_nano"].as_int(), ns(kT0));
  EXPECT_EQ(server["end_time_unix_nano"].as_int(), ns(t1));
  EXPECT_EQ(server["status_code"].str(), "STATUS_CODE_OK");
  EXPECT_EQ(attr(server, "honeyhive_event_type").str(), "chain");
  EXPECT_TRUE(find_span(spans, "GET /users/{id}").is_null()) << "renamed, not exported twice";

  const JValue& failed = span_named(spans, "failed");
  EXPECT_EQ(failed["kind"].str(), "SPAN_KIND_CLIENT");
  EXPECT_EQ(failed["status_code"].str(), "STATUS_CODE_ERROR");
  EXPECT_EQ(failed["status_message"].str(), "upstream said 503");
  EXPECT_TRUE(failed["events"].size() == 0) << "set_status is not record_error: " << failed.dump();
  const JValue& producer = span_named(spans, "produce");
  EXPECT_EQ(producer["kind"].str(), "SPAN_KIND_PRODUCER");
  EXPECT_EQ(producer["parent_span_id"].str(), failed["span_id"].str());
  EXPECT_EQ(span_named(spans, "consume")["kind"].str(), "SPAN_KIND_CONSUMER");
  EXPECT_EQ(span_named(spans, "internal")["kind"].str(), "SPAN_KIND_INTERNAL");
  // A start time "now" is a real wall-clock time.
  EXPECT_GT(span_named(spans, "internal")["start_time_unix_nano"].as_int(), ns(kT0));
}

TEST_F(SpanModelTest, EventsCarryTypedAttributesAndTimestamps) {
  Tracer tracer(config());
  const TimePoint before = Clock::now();
  {
    auto span = tracer.span("with-events", EventType::Tool);
    EXPECT_TRUE(span.add_event("cache.miss",
                               {{"cache.key", "user:42"},
                                {"size", 3},
                                {"ratio", 0.5},
                                {"hit", false},
                                {"tags", {"a", "b"}},
                                {"ids", {7, 8, 9}}},
                               kT0));
    EXPECT_TRUE(span.add_event("now"));
    EXPECT_TRUE(span.add_event("at", kT0 + 1s));
    const std::vector<Attribute> attrs = {{"from.vector", true}};
    EXPECT_TRUE(span.add_event("vector", attrs));
  }
  const TimePoint after = Clock::now();
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(1);
  const JValue& s = span_named(spans, "with-events");
  const JValue& events = s["events"];
  ASSERT_EQ(events.size(), 4u) << s.dump();

  const JValue& miss = events[0];
  EXPECT_EQ(miss["name"].str(), "cache.miss");
  EXPECT_EQ(miss["time_unix_nano"].as_int(), ns(kT0));
  const JValue& a = miss["attributes"];
  EXPECT_EQ(a["cache.key"].str(), "user:42");
  EXPECT_TRUE(a["size"].is_int());
  EXPECT_EQ(a["size"].as_int(), 3);
  EXPECT_TRUE(a["ratio"].is_double());
  EXPECT_EQ(a["ratio"].as_double(), 0.5);
  EXPECT_TRUE(a["hit"].is_bool());
  EXPECT_FALSE(a["hit"].as_bool());
  ASSERT_EQ(a["tags"].size(), 2u) << a.dump();
  EXPECT_EQ(a["tags"][1].str(), "b");
  ASSERT_EQ(a["ids"].size(), 3u) << a.dump();
  EXPECT_EQ(a["ids"][2].as_int(), 9);

  EXPECT_EQ(events[1]["name"].str(), "now");
  EXPECT_GE(events[1]["time_unix_nano"].as_int(), ns(before) - 1000);  // the clock may round to µs
  EXPECT_LE(events[1]["time_unix_nano"].as_int(), ns(after) + 1000);
  EXPECT_EQ(events[2]["time_unix_nano"].as_int(), ns(kT0 + 1s));
  EXPECT_TRUE(events[3]["attributes"]["from.vector"].as_bool());
}

TEST_F(SpanModelTest, TypedAttributesUnderAnyKeyWithArrays) {
  Tracer tracer(config());
  {
    auto span = tracer.span("typed", SpanOptions()
                                         .type(EventType::Tool)
                                         .attributes({{"http.request.method", "GET"}, {"initial.list", {1.5, 2.5}}})
                                         .attribute({Namespace::Config, "model", "gpt-4o"}));
    EXPECT_TRUE(span.set_attributes({
        {"http.response.status_code", 200},
        {"db.statement.params", std::vector<std::string>{"x", "y\"z"}},
        {"flags", std::vector<bool>{true, false}},
        {"scores", {0.25, 1.0}},
        {"counts", std::vector<int>{1, -2}},
        {"big", std::numeric_limits<uint64_t>::max()},
        {Namespace::Metadata, "tenant", "t1"},
        {Namespace::Metrics, "latencies", {12, 15}},
    }));
    const std::vector<Attribute> more = {{"more", "yes"}};
    EXPECT_TRUE(span.set_attributes(more));
  }
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(1);
  const JValue& s = span_named(spans, "typed");
  EXPECT_EQ(attr(s, "http.request.method").str(), "GET");
  ASSERT_EQ(attr(s, "initial.list").size(), 2u) << s.dump();
  EXPECT_TRUE(attr(s, "initial.list")[0].is_double());
  EXPECT_EQ(attr(s, "honeyhive_config.model").str(), "gpt-4o");
  EXPECT_TRUE(attr(s, "http.response.status_code").is_int());
  EXPECT_EQ(attr(s, "http.response.status_code").as_int(), 200);
  ASSERT_TRUE(attr(s, "db.statement.params").is_array()) << s.dump();
  EXPECT_EQ(attr(s, "db.statement.params")[1].str(), "y\"z");
  ASSERT_EQ(attr(s, "flags").size(), 2u);
  EXPECT_TRUE(attr(s, "flags")[0].as_bool());
  EXPECT_FALSE(attr(s, "flags")[1].as_bool());
  EXPECT_TRUE(attr(s, "scores")[1].is_double()) << "1.0 stays a double";
  EXPECT_EQ(attr(s, "counts")[1].as_int(), -2);
  EXPECT_TRUE(attr(s, "big").is_double());
  EXPECT_EQ(attr(s, "honeyhive_metadata.tenant").str(), "t1");
  ASSERT_TRUE(attr(s, "honeyhive_metrics.latencies").is_array()) << s.dump();
  EXPECT_EQ(attr(s, "honeyhive_metrics.latencies")[1].as_int(), 15);
  EXPECT_EQ(attr(s, "more").str(), "yes");
}

TEST_F(SpanModelTest, RefusalsReturnFalseApplyNothingAndNeverThrow) {
  Tracer tracer(config());
  // (The arguments are declval'd: std::chrono::time_point's constructors are not noexcept.)
  static_assert(noexcept(std::declval<Span&>().add_event("e", {}, std::declval<const TimePoint&>())));
  static_assert(noexcept(std::declval<Span&>().add_event("e", std::declval<const TimePoint&>())));
  static_assert(noexcept(std::declval<Span&>().set_status(StatusCode::Ok)));
  static_assert(noexcept(std::declval<Span&>().set_attributes({})));
  static_assert(noexcept(std::declval<Span&>().add_link(std::declval<const Link&>())));
  static_assert(noexcept(std::declval<Span&>().set_name("n")));
  static_assert(noexcept(std::declval<Span&>().end_at(std::declval<const TimePoint&>())));
  static_assert(noexcept(std::declval<const Span&>().context()));
  {
    auto span = tracer.span("refusals", EventType::Tool);
    // All or none: one invalid attribute (a NUL byte) and none of the call is applied.
    EXPECT_FALSE(span.set_attributes({{"good", 1}, {std::string_view("bad\0key", 7), 2}}));
    EXPECT_FALSE(span.set_attributes({{"good2", 1}, {"", 2}}));  // the library refuses an empty key
    EXPECT_FALSE(span.add_event(std::string_view("ev\0", 3)));
    EXPECT_FALSE(span.add_event("bad-attr", {{"k", std::string("a\0b", 3)}}));
    EXPECT_FALSE(span.add_event("before-epoch", TimePoint(-1s)));
    EXPECT_FALSE(span.set_name(std::string_view("a\0b", 3)));
    EXPECT_FALSE(span.set_status(StatusCode::Error, std::string_view("a\0b", 3)));
    EXPECT_FALSE(span.set_status(static_cast<StatusCode>(9)));
    EXPECT_FALSE(span.end_at(TimePoint(-1s)));
    EXPECT_FALSE(span.ended()) << "a refused end leaves the span open";
    span.end();
    EXPECT_FALSE(span.set_attributes({{"late", 1}}));
    EXPECT_FALSE(span.add_event("late"));
    EXPECT_FALSE(span.add_link(Link(span.context())));
    EXPECT_FALSE(span.set_status(StatusCode::Error, "late"));
    EXPECT_FALSE(span.set_name("late"));
    EXPECT_FALSE(span.end_at(Clock::now()));
    EXPECT_TRUE(span.context().is_valid()) << "an ended span still has its ids";
  }
  Span empty;
  EXPECT_FALSE(empty.add_event("e"));
  EXPECT_FALSE(empty.set_status(StatusCode::Ok));
  EXPECT_FALSE(empty.context().is_valid());
  // Refused starts give empty spans (reported to the log handler, never thrown).
  EXPECT_FALSE(tracer.span("x", SpanOptions().attributes({{"k", std::string("a\0b", 3)}})));
  EXPECT_FALSE(tracer.span("x", SpanOptions().start_time(TimePoint(-1s))));
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(1);
  ASSERT_EQ(spans.size(), 1u) << spans.dump();
  const JValue& s = span_named(spans, "refusals");
  for (const char* key : {"good", "good2", "late"}) EXPECT_FALSE(s["attributes"].has(key)) << key << s.dump();
  EXPECT_EQ(s["events"].size(), 0u) << s.dump();
  EXPECT_EQ(s["status_code"].str(), "STATUS_CODE_UNSET");
}

TEST_F(SpanModelTest, IdsAreReadableWithoutInjecting) {
  Tracer tracer(config());
  SpanContext root_ctx, child_ctx, ended_ctx;
  honeyhive::TraceHeaders headers;
  {
    auto root = tracer.span("root", EventType::Chain);
    auto child = root.child("child", EventType::Tool);
    root_ctx = root.context();
    child_ctx = child.context();
    headers = child.inject();
    child.end();
    ended_ctx = child.context();
  }
  EXPECT_TRUE(root_ctx.is_valid());
  EXPECT_FALSE(root_ctx.is_remote());
  EXPECT_TRUE(root_ctx.sampled());
  EXPECT_EQ(child_ctx.trace_id_hex(), root_ctx.trace_id_hex());
  EXPECT_NE(child_ctx.span_id_hex(), root_ctx.span_id_hex());
  EXPECT_EQ(ended_ctx, child_ctx);
  EXPECT_EQ(headers.traceparent, "00-" + child_ctx.trace_id_hex() + "-" + child_ctx.span_id_hex() + "-01");

  // A remote parent from headers reports the remote ids.
  const auto remote = tracer.extract("00-" + std::string(kTraceId) + "-" + kSpanId + "-01");
  const SpanContext rc = remote.context();
  EXPECT_TRUE(rc.is_remote());
  EXPECT_EQ(rc.trace_id_hex(), kTraceId);
  EXPECT_EQ(rc.span_id_hex(), kSpanId);

  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(2);
  const JValue& root = span_named(spans, "root");
  const JValue& child = span_named(spans, "child");
  EXPECT_EQ(root["trace_id"].str(), root_ctx.trace_id_hex());
  EXPECT_EQ(root["span_id"].str(), root_ctx.span_id_hex());
  EXPECT_EQ(child["span_id"].str(), child_ctx.span_id_hex());
}

TEST_F(SpanModelTest, RemoteParentGivenByIds) {
  Tracer tracer(config());
  const auto session = tracer.create_session(SessionOptions().name("by-ids"));
  const SpanContext remote = SpanContext::from_hex(kTraceId, kSpanId);
  {
    auto in_default = tracer.span("remote-child", SpanOptions().parent(remote).kind(SpanKind::Server));
    auto grandchild = in_default.child("grandchild", EventType::Tool);
    auto in_session = session.span("remote-child-in-session", SpanOptions().parent(remote));
  }
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(3);
  const JValue& child = span_named(spans, "remote-child");
  EXPECT_EQ(child["trace_id"].str(), kTraceId);
  EXPECT_EQ(child["parent_span_id"].str(), kSpanId);
  EXPECT_EQ(attr(child, "honeyhive.session_id").str(), tracer.session_id()) << "the tracer's own session";
  const JValue& grandchild = span_named(spans, "grandchild");
  EXPECT_EQ(grandchild["trace_id"].str(), kTraceId);
  EXPECT_EQ(grandchild["parent_span_id"].str(), child["span_id"].str());
  const JValue& in_session = span_named(spans, "remote-child-in-session");
  EXPECT_EQ(in_session["parent_span_id"].str(), kSpanId);
  EXPECT_EQ(attr(in_session, "honeyhive.session_id").str(), session.id());
}

TEST_F(SpanModelTest, LinksAtStartAndLater) {
  Tracer tracer(config());
  SpanContext first_ctx;
  {
    auto first = tracer.span("first", EventType::Tool);
    first_ctx = first.context();
  }
  const SpanContext other = SpanContext::from_hex(kTraceId, kSpanId);
  {
    auto linked = tracer.span("linked", SpanOptions()
                                            .type(EventType::Tool)
                                            .link(Link(first_ctx, {{"link.reason", "retry"}, {"attempt", 2}}))
                                            .link(other));
    EXPECT_TRUE(linked.add_link({other, {{"late", true}}}));
  }
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(2);
  const JValue& s = span_named(spans, "linked");
  const JValue& links = s["links"];
  ASSERT_EQ(links.size(), 3u) << s.dump();
  EXPECT_EQ(links[0]["trace_id"].str(), first_ctx.trace_id_hex());
  EXPECT_EQ(links[0]["span_id"].str(), first_ctx.span_id_hex());
  EXPECT_EQ(links[0]["attributes"]["link.reason"].str(), "retry");
  EXPECT_EQ(links[0]["attributes"]["attempt"].as_int(), 2);
  EXPECT_EQ(links[1]["trace_id"].str(), kTraceId);
  EXPECT_EQ(links[1]["span_id"].str(), kSpanId);
  EXPECT_EQ(links[2]["span_id"].str(), kSpanId);
  EXPECT_TRUE(links[2]["attributes"]["late"].as_bool());
  EXPECT_NE(s["trace_id"].str(), kTraceId) << "a link is not a parent";
}

TEST_F(SpanModelTest, RecordErrorCarriesTheStackTraceAndEscaped) {
  Tracer tracer(config());
  const std::string stack = "#0 parse(std::string) at parser.cpp:12\n#1 main at main.cpp:3";
  {
    auto span = tracer.span("with-stack", EventType::Tool);
    span.record_error("ParseError", "unexpected '}'", stack, true, kT0);
  }
  {
    auto span = tracer.span("exception-with-stack", EventType::Tool);
    try {
      throw std::invalid_argument("bad id");
    } catch (const std::exception& e) {
      span.record_exception(e, stack);
    }
  }
  try {
    auto span = tracer.span("escaped-by-unwinding", EventType::Tool);
    throw std::runtime_error("left the scope");
  } catch (const std::runtime_error&) {
  }
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(3);

  const JValue& with = span_named(spans, "with-stack");
  ASSERT_EQ(with["events"].size(), 1u) << with.dump();
  const JValue& ev = with["events"][0];
  EXPECT_EQ(ev["name"].str(), "exception");
  EXPECT_EQ(ev["time_unix_nano"].as_int(), ns(kT0));
  EXPECT_EQ(ev["attributes"]["exception.type"].str(), "ParseError");
  EXPECT_EQ(ev["attributes"]["exception.message"].str(), "unexpected '}'");
  EXPECT_EQ(ev["attributes"]["exception.stacktrace"].str(), stack);
  // The reference SDK sends escaped as the text str(bool).
  EXPECT_EQ(ev["attributes"]["exception.escaped"].str(), "True") << ev.dump();
  EXPECT_EQ(with["status_code"].str(), "STATUS_CODE_ERROR");

  const JValue& exc = span_named(spans, "exception-with-stack");
  const JValue& ea = exc["events"][0]["attributes"];
  EXPECT_EQ(ea["exception.type"].str(), "std::invalid_argument");
  EXPECT_EQ(ea["exception.stacktrace"].str(), stack);
  EXPECT_EQ(ea["exception.escaped"].str(), "False") << exc.dump();

  const JValue& unwound = span_named(spans, "escaped-by-unwinding");
  const JValue& ua = unwound["events"][0]["attributes"];
  EXPECT_EQ(ua["exception.type"].str(), Span::kUnwindErrorType);
  EXPECT_EQ(ua["exception.escaped"].str(), "True") << unwound.dump();
  EXPECT_FALSE(ua.has("exception.stacktrace")) << "none given";
}

TEST_F(SpanModelTest, InjectASessionWithoutASpan) {
  Tracer tracer(config().source("svc-a"));
  const auto session = tracer.create_session(SessionOptions().name("handoff"));
  const auto headers = session.inject();
  EXPECT_TRUE(headers.traceparent.empty());
  EXPECT_NE(headers.baggage.find("session_id=" + session.id()), std::string::npos) << headers.baggage;
  EXPECT_NE(headers.baggage.find("project=p"), std::string::npos) << headers.baggage;
  EXPECT_NE(headers.baggage.find("source=svc-a"), std::string::npos) << headers.baggage;
  EXPECT_NE(tracer.inject(session).baggage.find("session_id=" + session.id()), std::string::npos);
  const auto by_default = tracer.inject();
  EXPECT_NE(by_default.baggage.find("session_id=" + tracer.session_id()), std::string::npos) << by_default.baggage;
  EXPECT_THROW(tracer.inject("not-a-session-id"), honeyhive::Error);

  // Another service continues the session from the baggage alone (its own new trace).
  Tracer downstream(config().source("svc-b"));
  {
    const auto remote = downstream.extract("00-" + std::string(kTraceId) + "-" + kSpanId + "-01", headers.baggage);
    auto span = downstream.span("downstream", EventType::Tool, remote);
  }
  downstream.flush(10s);
  const JValue spans = receiver.wait_spans(1);
  EXPECT_EQ(attr(span_named(spans, "downstream"), "honeyhive.session_id").str(), session.id());
}

TEST_F(SpanModelTest, CreateAndEnrichEventsById) {
  Tracer tracer(config());
  const auto session = tracer.create_session(SessionOptions().name("events"));
  const std::string id = session.create_event(EventOptions("vector_lookup", EventType::Tool)
                                                  .inputs(Json::object({{"query", "refund policy"}}))
                                                  .outputs(Json::object({{"docs", Json::array({"d1", "d2"})}}))
                                                  .metadata(Json::object({{"index", "v2"}}))
                                                  .metrics(Json::object({{"hits", 2}}))
                                                  .duration(42ms));
  ASSERT_EQ(id.size(), 36u) << id;
  const std::string in_default = tracer.create_event(EventOptions("standalone", EventType::Model));
  EXPECT_NE(in_default, id);
  const std::string chosen = "dddddddd-eeee-4fff-8000-111111111111";
  EXPECT_EQ(tracer.create_event(EventOptions("chosen-id").id(chosen)), chosen);
  tracer.enrich_event(id, Json::object({{"feedback", Json::object({{"rating", 5}})},
                                        {"metrics", Json::object({{"relevance", 0.9}})}}));
  {
    // An enrichment refused is reported to the log handler, never thrown.
    std::vector<std::string> lines;
    honeyhive::set_log_handler([&lines](honeyhive::LogLevel, std::string_view l) { lines.emplace_back(l); });
    EXPECT_NO_THROW(tracer.enrich_event("not-an-id", Json::object({{"feedback", Json::object({{"a", 1}})}})));
    honeyhive::set_log_handler({});
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("Tracer::enrich_event"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("[HH_ERR_INVALID_ARGUMENT]"), std::string::npos) << lines[0];
  }
  EXPECT_THROW(tracer.create_event(Json::raw("{oops")), honeyhive::Error);
  {
    // update_event_id in span enrichment: the span carries that event id.
    auto span = session.span("enriched-span", EventType::Tool);
    span.enrich(Json::object({{"update_event_id", id}}));
  }
  tracer.flush(10s);

  const JValue requests = receiver.requests();
  const auto posts = find_requests(requests, "POST", "/events");
  ASSERT_EQ(posts.size(), 3u) << requests.dump();
  const JValue* mine = nullptr;
  const JValue* other = nullptr;
  for (const JValue* r : posts) {
    const JValue& e = (*r)["body_json"]["event"];
    EXPECT_EQ((*r)["headers"]["hh-client-language"].str(), "cpp");
    if (e["event_name"].str() == "vector_lookup") mine = r;
    if (e["event_name"].str() == "standalone") other = r;
    if (e["event_name"].str() == "chosen-id") {
      EXPECT_EQ(e["event_id"].str(), chosen);
    }
  }
  ASSERT_NE(mine, nullptr) << requests.dump();
  ASSERT_NE(other, nullptr) << requests.dump();
  const JValue& e = (*mine)["body_json"]["event"];
  EXPECT_EQ(e["event_type"].str(), "tool");
  EXPECT_EQ(e["session_id"].str(), session.id());
  EXPECT_EQ(e["project"].str(), "p");
  EXPECT_EQ(e["inputs"]["query"].str(), "refund policy");
  EXPECT_EQ(e["outputs"]["docs"][1].str(), "d2");
  EXPECT_EQ(e["metadata"]["index"].str(), "v2");
  EXPECT_EQ(e["metrics"]["hits"].as_int(), 2);
  EXPECT_EQ(e["duration"].as_double(), 42.0);
  EXPECT_EQ(e["event_id"].str(), id) << "the id returned is the one sent";
  const JValue& o = (*other)["body_json"]["event"];
  EXPECT_EQ(o["event_type"].str(), "model");
  EXPECT_EQ(o["session_id"].str(), tracer.session_id());

  bool enriched = false;
  for (const JValue* r : find_requests(requests, "PUT", "/events")) {
    const JValue& b = (*r)["body_json"];
    if (b["event_id"].str() == id) enriched = b["feedback"]["rating"].as_int() == 5;
  }
  EXPECT_TRUE(enriched) << requests.dump();

  const JValue spans = receiver.wait_spans(1);
  EXPECT_EQ(attr(span_named(spans, "enriched-span"), "honeyhive_event_id").str(), id);
}

TEST_F(SpanModelTest, LinkCarrierContinuesARemoteTraceAndSession) {
  const std::string session_id = "cccccccc-dddd-4eee-8fff-000000000000";
  Tracer tracer(config().link_carrier("00-" + std::string(kTraceId) + "-" + kSpanId + "-01",
                                      "session_id=" + session_id + ",project=p,source=upstream"));
  EXPECT_EQ(tracer.session_id(), session_id);
  {
    auto root = tracer.span("continued", EventType::Chain);
    auto child = root.child("continued-child", EventType::Tool);
  }
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(2);
  const JValue& root = span_named(spans, "continued");
  EXPECT_EQ(root["trace_id"].str(), kTraceId);
  EXPECT_EQ(root["parent_span_id"].str(), kSpanId);
  EXPECT_EQ(attr(root, "honeyhive.session_id").str(), session_id);
  EXPECT_EQ(attr(span_named(spans, "continued-child"), "honeyhive.session_id").str(), session_id);
}

TEST_F(SpanModelTest, ResourceAttributes) {
  {
    Tracer tracer(config().service_name("checkout").resource_attributes(
        {{"deployment.environment", "test"}, {"replicas", 3}, {"process.runtime.version", "custom"}}));
    { auto s = tracer.span("with-resource", EventType::Tool); }
    tracer.flush(10s);
  }
  {
    Tracer tracer(config());
    { auto s = tracer.span("default-resource", EventType::Tool); }
    tracer.flush(10s);
  }
  const JValue spans = receiver.wait_spans(2);
  const JValue& r = span_named(spans, "with-resource")["resource"];
  EXPECT_EQ(r["service.name"].str(), "checkout") << r.dump();
  EXPECT_EQ(r["deployment.environment"].str(), "test");
  EXPECT_EQ(r["replicas"].as_int(), 3);
  EXPECT_EQ(r["process.runtime.name"].str(), "c++");
  EXPECT_EQ(r["process.runtime.version"].str(), "custom") << "the user's value wins";
  const JValue& d = span_named(spans, "default-resource")["resource"];
  EXPECT_EQ(d["process.runtime.name"].str(), "c++") << d.dump();
  EXPECT_EQ(d["process.runtime.version"].str(), std::to_string(__cplusplus));
}

TEST_F(SpanModelTest, SpansWithoutASessionAreCountedNotExported) {
  // Session auto-create mode with no session id: the tracer has no default session; a span
  // with no session is counted, not exported, except a SERVER root, which gets its own.
  Tracer tracer(config().skip_backend_session_creation(true));
  const auto session = tracer.create_session(SessionOptions().name("auto-created"));
  { auto orphan = tracer.span("no-session", EventType::Tool); }
  { auto in_session = session.span("in-session", EventType::Tool); }
  {
    // Each incoming request (a SERVER root) gets a fresh session, which its children take.
    auto request1 = tracer.span("request-1", SpanOptions().kind(SpanKind::Server));
    auto handler = request1.child("handler", EventType::Tool);
    auto request2 = tracer.span("request-2", SpanOptions().kind(SpanKind::Server));
  }
  EXPECT_THROW(tracer.inject(), honeyhive::Error) << "no default session to continue";
  tracer.flush(10s);
  const JValue spans = receiver.wait_spans(4);
  ASSERT_EQ(spans.size(), 4u) << spans.dump();
  const JValue& s = span_named(spans, "in-session");
  EXPECT_EQ(attr(s, "honeyhive.session_id").str(), session.id());
  EXPECT_TRUE(attr(s, "honeyhive.session_auto_create").as_bool()) << s.dump();
  const std::string& s1 = attr(span_named(spans, "request-1"), "honeyhive.session_id").str();
  const std::string& s2 = attr(span_named(spans, "request-2"), "honeyhive.session_id").str();
  EXPECT_EQ(s1.size(), 36u) << spans.dump();
  EXPECT_NE(s1, s2);
  EXPECT_NE(s1, session.id());
  EXPECT_EQ(attr(span_named(spans, "handler"), "honeyhive.session_id").str(), s1);
  const auto stats = tracer.stats();
  EXPECT_EQ(stats.spans_no_session, 1u);
  EXPECT_EQ(stats.spans_exported, 4u);
  EXPECT_EQ(stats.spans_dropped, 0u);
}
