// Unit tests of the header's pure parts: the Json builder (escaping, numbers, nesting) and
// the Config / SessionOptions JSON they produce. No receiver, no network.
#include <gtest/gtest.h>
#include <honeyhive/honeyhive.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "support/test_support.hpp"

using honeyhive::Config;
using honeyhive::Json;
using honeyhive::SessionOptions;

TEST(Json, Scalars) {
  EXPECT_EQ(Json().str(), "null");
  EXPECT_EQ(Json(nullptr).str(), "null");
  EXPECT_EQ(Json(static_cast<const char*>(nullptr)).str(), "null");
  EXPECT_EQ(Json(true).str(), "true");
  EXPECT_EQ(Json(false).str(), "false");
  EXPECT_EQ(Json(0).str(), "0");
  EXPECT_EQ(Json(-42).str(), "-42");
  EXPECT_EQ(Json(std::numeric_limits<int64_t>::min()).str(), "-9223372036854775808");
  EXPECT_EQ(Json(std::numeric_limits<uint64_t>::max()).str(), "18446744073709551615");
  EXPECT_EQ(Json(static_cast<short>(7)).str(), "7");
  EXPECT_EQ(Json(7u).str(), "7");
}

TEST(Json, DoublesStayFloats) {
  EXPECT_EQ(Json(1.0).str(), "1.0");
  EXPECT_EQ(Json(-0.5).str(), "-0.5");
  EXPECT_EQ(Json(0.1).str(), "0.1");
  EXPECT_EQ(Json(2.5f).str(), "2.5");
  EXPECT_EQ(Json(1e300).str(), "1e+300");
  EXPECT_EQ(Json(123456789.0).str(), "123456789.0");
  // Round trip through a parser gives the same double.
  const double x = 0.30000000000000004;
  EXPECT_EQ(hhtest::parse_json(Json(x).str()).as_double(), x);
  // No JSON form for these: strings, as JavaScript's String() spells them.
  EXPECT_EQ(Json(std::nan("")).str(), "\"NaN\"");
  EXPECT_EQ(Json(std::numeric_limits<double>::infinity()).str(), "\"Infinity\"");
  EXPECT_EQ(Json(-std::numeric_limits<double>::infinity()).str(), "\"-Infinity\"");
}

TEST(Json, StringEscaping) {
  EXPECT_EQ(Json("plain").str(), R"("plain")");
  EXPECT_EQ(Json("say \"hi\"").str(), R"("say \"hi\"")");
  EXPECT_EQ(Json("C:\\path\\file").str(), R"("C:\\path\\file")");
  EXPECT_EQ(Json("a/b").str(), R"("a/b")");
  EXPECT_EQ(Json("\b\f\n\r\t").str(), R"("\b\f\n\r\t")");
  EXPECT_EQ(Json("\x01\x1f\x7f").str(), R"("\u0001\u001f\u007f")");
  EXPECT_EQ(Json(std::string("nul\0byte", 8)).str(), R"("nul\u0000byte")");
  EXPECT_EQ(Json(std::string_view("view")).str(), R"("view")");
  EXPECT_EQ(Json(std::string("std")).str(), R"("std")");
}

TEST(Json, UnicodePassesThroughAndInvalidUtf8IsReplaced) {
  // Valid UTF-8 (2, 3 and 4 byte sequences) is kept verbatim.
  EXPECT_EQ(Json("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80").str(), "\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"");
  // Each invalid byte becomes U+FFFD: a stray continuation byte, a truncated sequence, an
  // overlong encoding, a UTF-16 surrogate, a code point above U+10FFFF.
  EXPECT_EQ(Json("a\x80z").str(), R"("a\ufffdz")");
  EXPECT_EQ(Json("\xe2\x82").str(), R"("\ufffd\ufffd")");
  EXPECT_EQ(Json("\xc0\xaf").str(), R"("\ufffd\ufffd")");
  EXPECT_EQ(Json("\xed\xa0\x80").str(), R"("\ufffd\ufffd\ufffd")");
  EXPECT_EQ(Json("\xf4\x90\x80\x80").str(), R"("\ufffd\ufffd\ufffd\ufffd")");
  EXPECT_EQ(Json("\xff").str(), R"("\ufffd")");
}

TEST(Json, EscapedTextParsesBackToTheOriginal) {
  static const char text[] = "q\"b\\s/\n\t\x01 \xc3\xa9\xf0\x9f\x98\x80 end\0!";
  const std::string original(text, sizeof text - 1);  // keeps the embedded NUL
  const auto parsed = hhtest::parse_json(Json(original).str());
  EXPECT_EQ(parsed.str(), original);
}

TEST(Json, ObjectsAndArrays) {
  const Json j = Json::object({
      {"a", 1},
      {"b", Json::object({{"c", true}})},
      {"list", Json::array({1, 2})},
      {"mixed", Json::array({"x", 2.5, nullptr, false, Json::object()})},
      {"key \"quoted\"", "v"},
  });
  EXPECT_EQ(j.str(),
            R"({"a":1,"b":{"c":true},"list":[1,2],"mixed":["x",2.5,null,false,{}],"key \"quoted\"":"v"})");
  EXPECT_TRUE(j.is_object());
  EXPECT_FALSE(j.is_array());
  EXPECT_EQ(Json::object().str(), "{}");
  EXPECT_EQ(Json::object({}).str(), "{}");
  EXPECT_EQ(Json::array().str(), "[]");
  EXPECT_EQ(Json::array({}).str(), "[]");
}

TEST(Json, IncrementalBuilding) {
  Json o = Json::object();
  o.set("x", 1).set("y", "two");
  EXPECT_EQ(o.str(), R"({"x":1,"y":"two"})");
  Json a = Json::array();
  a.push_back(1).push_back(Json::array({2}));
  EXPECT_EQ(a.str(), "[1,[2]]");
  const std::vector<std::string> words{"a", "b"};
  EXPECT_EQ(Json::array_from(words).str(), R"(["a","b"])");
  const std::vector<double> nums{1.0, 2.5};
  EXPECT_EQ(Json::array_from(nums).str(), "[1.0,2.5]");

  // Raw text is trusted and can be extended when it is an object / array.
  Json raw = Json::raw(" { \"pre\" : 1 } ");
  raw.set("post", 2);
  EXPECT_EQ(raw.str(), R"( { "pre" : 1 ,"post":2})");
  Json empty_raw = Json::raw("[ ]");
  empty_raw.push_back(3);
  EXPECT_EQ(empty_raw.str(), "[ 3]");
  EXPECT_EQ(hhtest::parse_json(raw.str())["post"].as_int(), 2);
}

TEST(Json, MisuseThrowsError) {
  Json arr = Json::array();
  try {
    arr.set("k", 1);
    FAIL() << "expected honeyhive::Error";
  } catch (const honeyhive::Error& e) {
    EXPECT_EQ(e.status(), HH_ERR_INVALID_ARGUMENT);
    EXPECT_STREQ(e.status_name(), "HH_ERR_INVALID_ARGUMENT");
  }
  Json num(5);
  EXPECT_THROW(num.push_back(1), honeyhive::Error);
  EXPECT_THROW(Json("{}").set("k", 1), honeyhive::Error);  // a JSON *string*, not an object
}

namespace {
// What every config ends with: the binding's runtime resource attributes.
const std::string kRuntime = R"("resource_attributes":{"process.runtime.name":"c++","process.runtime.version":")" +
                             std::to_string(__cplusplus) + R"("})";
}  // namespace

TEST(Config, AlwaysSendsClientLanguageCpp) {
  EXPECT_EQ(Config().to_json(), R"({"client_language":"cpp",)" + kRuntime + "}");
  const std::string json = Config()
                               .api_key("k\"ey")
                               .project("p")
                               .server_url("http://127.0.0.1:1")
                               .schedule_delay(std::chrono::milliseconds(50))
                               .disable_batch(false)
                               .metadata(Json::object({{"m", 1}}))
                               .to_json();
  EXPECT_EQ(json,
            R"({"api_key":"k\"ey","project":"p","server_url":"http://127.0.0.1:1","schedule_delay_ms":50,)"
            R"("disable_batch":false,"metadata":{"m":1},"client_language":"cpp",)" + kRuntime + "}");
  // A later value replaces an earlier one; an explicit client_language wins.
  EXPECT_EQ(Config().project("a").project("b").set("client_language", "cpp-wrapper").to_json(),
            R"({"project":"b","client_language":"cpp-wrapper",)" + kRuntime + "}");
  EXPECT_EQ(Config().close_timeout(std::chrono::seconds(2)).close_timeout(), std::chrono::milliseconds(2000));
}

TEST(SessionOptions, Json) {
  EXPECT_EQ(SessionOptions().to_json(), "{}");
  EXPECT_EQ(SessionOptions()
                .name("req-1")
                .id("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")
                .source("worker")
                .inputs(Json::object({{"q", "hi"}}))
                .metadata(Json::object({{"tenant", "t"}}))
                .user_properties(Json::object({{"plan", "pro"}}))
                .skip_api_call(true)
                .to_json(),
            R"({"session_name":"req-1","session_id":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee","source":"worker",)"
            R"("inputs":{"q":"hi"},"metadata":{"tenant":"t"},"user_properties":{"plan":"pro"},"skip_api_call":true})");
}

TEST(Library, VersionAndStatusNames) {
  EXPECT_STREQ(honeyhive::version(), HH_VERSION_STRING);
  EXPECT_STREQ(honeyhive::status_name(HH_ERR_TIMEOUT), "HH_ERR_TIMEOUT");
  const honeyhive::Error e(HH_ERR_EXPORT_FAILED, "lost 3 spans");
  EXPECT_STREQ(e.what(), "lost 3 spans");
  EXPECT_EQ(e.status(), HH_ERR_EXPORT_FAILED);
  const std::runtime_error& base = e;  // catchable as std::runtime_error
  EXPECT_STREQ(base.what(), "lost 3 spans");
}

TEST(Types, OwnershipTraits) {
  using honeyhive::RemoteContext;
  using honeyhive::Span;
  using honeyhive::Tracer;
  static_assert(!std::is_copy_constructible_v<Tracer> && !std::is_copy_assignable_v<Tracer>);
  static_assert(std::is_nothrow_move_constructible_v<Tracer> && std::is_nothrow_move_assignable_v<Tracer>);
  static_assert(!std::is_copy_constructible_v<Span> && !std::is_copy_assignable_v<Span>);
  static_assert(std::is_nothrow_move_constructible_v<Span> && std::is_nothrow_move_assignable_v<Span>);
  static_assert(std::is_nothrow_destructible_v<Span> && std::is_nothrow_destructible_v<Tracer>);
  static_assert(!std::is_copy_constructible_v<RemoteContext>);
  static_assert(std::is_nothrow_move_constructible_v<RemoteContext>);
  static_assert(std::is_copy_constructible_v<honeyhive::Session>);
  static_assert(std::is_base_of_v<std::runtime_error, honeyhive::Error>);
  SUCCEED();
}

TEST(Config, ResourceAttributesMergeOverTheRuntimeOnes) {
  // The user's resource attributes go over the binding's (a key is written once).
  EXPECT_EQ(Config()
                .service_name("svc")
                .resource_attributes({{"deployment.environment", "prod"}, {"process.runtime.name", "mine"}})
                .resource_attribute("replicas", 3)
                .resource_attribute("deployment.environment", "staging")
                .to_json(),
            R"({"service_name":"svc","client_language":"cpp","resource_attributes":{"process.runtime.name":"mine",)"
            R"("process.runtime.version":")" +
                std::to_string(__cplusplus) + R"(","deployment.environment":"staging","replicas":3}})");
  // A whole object given with set(): its members come last, so they win in the library
  // (which keeps the last value of a repeated key).
  EXPECT_EQ(Config().set("resource_attributes", Json::object({{"process.runtime.version", "x"}})).to_json(),
            R"({"resource_attributes":{"process.runtime.name":"c++","process.runtime.version":")" +
                std::to_string(__cplusplus) + R"(","process.runtime.version":"x"},"client_language":"cpp"})");
  EXPECT_EQ(Config().set("resource_attributes", Json::object()).to_json(), "{" + kRuntime + R"(,"client_language":"cpp"})");
}

TEST(Config, LinkCarrier) {
  const std::string tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  EXPECT_EQ(Config().link_carrier(tp, "session_id=s").to_json(),
            R"({"link_carrier":{"traceparent":")" + tp + R"(","baggage":"session_id=s"},"client_language":"cpp",)" +
                kRuntime + "}");
  EXPECT_EQ(Config().link_carrier(honeyhive::TraceHeaders{tp, ""}).to_json(),
            R"({"link_carrier":{"traceparent":")" + tp + R"("},"client_language":"cpp",)" + kRuntime + "}");
}

TEST(EventOptions, Json) {
  using honeyhive::EventOptions;
  using honeyhive::EventType;
  EXPECT_EQ(EventOptions("lookup").to_json(), R"({"event_name":"lookup"})");
  EXPECT_EQ(EventOptions("llm", EventType::Model)
                .session("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")
                .inputs(Json::object({{"q", "hi"}}))
                .outputs(Json::object({{"a", "yo"}}))
                .metadata(Json::object({{"m", 1}}))
                .metrics(Json::object({{"score", 0.5}}))
                .feedback(Json::object({{"ok", true}}))
                .config(Json::object({{"model", "m"}}))
                .error("none")
                .duration(std::chrono::milliseconds(1500))
                .type(EventType::Chain)  // replaces the earlier type
                .set("extra", 1)
                .to_json(),
            R"({"event_name":"llm","event_type":"chain","session_id":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",)"
            R"("inputs":{"q":"hi"},"outputs":{"a":"yo"},"metadata":{"m":1},"metrics":{"score":0.5},)"
            R"("feedback":{"ok":true},"config":{"model":"m"},"error":"none","duration":1500.0,"extra":1})");
}

TEST(Attribute, ValueTypes) {
  using honeyhive::Attribute;
  using honeyhive::Namespace;
  std::vector<const char*> ptrs;
  const auto c = [&ptrs](const Attribute& a) { return a.to_c(ptrs); };
  EXPECT_EQ(Attribute("b", true).type(), HH_ATTR_BOOL);
  EXPECT_EQ(c(Attribute("b", true)).i64, 1);
  EXPECT_EQ(Attribute("i", 7).type(), HH_ATTR_I64);
  EXPECT_EQ(c(Attribute("i", int64_t{-7})).i64, -7);
  EXPECT_EQ(Attribute("u", std::numeric_limits<uint64_t>::max()).type(), HH_ATTR_F64);  // above INT64_MAX
  EXPECT_EQ(Attribute("f", 0.5f).type(), HH_ATTR_F64);
  EXPECT_EQ(Attribute("s", "v").type(), HH_ATTR_STR);
  EXPECT_STREQ(c(Attribute("s", std::string("str"))).str, "str");
  EXPECT_EQ(Attribute("sv", std::string_view("v")).type(), HH_ATTR_STR);
  EXPECT_EQ(Attribute("as", {"a", "b"}).type(), HH_ATTR_STR_ARRAY);
  EXPECT_EQ(Attribute("ai", {1, 2}).type(), HH_ATTR_I64_ARRAY);
  EXPECT_EQ(Attribute("af", {1.5, 2.5}).type(), HH_ATTR_F64_ARRAY);
  EXPECT_EQ(Attribute("ab", {true, false}).type(), HH_ATTR_BOOL_ARRAY);
  EXPECT_EQ(Attribute("vs", std::vector<std::string>{"x"}).type(), HH_ATTR_STR_ARRAY);
  EXPECT_EQ(Attribute("vb", std::vector<bool>{true}).type(), HH_ATTR_BOOL_ARRAY);
  EXPECT_EQ(Attribute("vu", std::vector<uint64_t>{1, std::numeric_limits<uint64_t>::max()}).type(), HH_ATTR_F64_ARRAY);
  EXPECT_EQ(Attribute("vu", std::vector<uint32_t>{1, 2}).type(), HH_ATTR_I64_ARRAY);

  const Attribute arr("tags", {"x", "yz"});
  ptrs.clear();
  const hh_attr a = arr.to_c(ptrs);
  ASSERT_EQ(a.len, 2u);
  const auto* items = static_cast<const char* const*>(a.items);
  EXPECT_STREQ(items[0], "x");
  EXPECT_STREQ(items[1], "yz");
  const Attribute copy = arr;  // copies own their storage
  std::vector<const char*> copy_ptrs;
  const hh_attr b = copy.to_c(copy_ptrs);
  EXPECT_NE(static_cast<const char* const*>(b.items)[0], items[0]);
  const Attribute bools("flags", std::vector<bool>{true, false, true});
  const Attribute bools_copy = bools;
  std::vector<const char*> unused;
  const hh_attr bc = bools_copy.to_c(unused);
  ASSERT_EQ(bc.len, 3u);
  EXPECT_TRUE(static_cast<const bool*>(bc.items)[0]);
  EXPECT_FALSE(static_cast<const bool*>(bc.items)[1]);

  const Attribute ns(Namespace::Metrics, "score", 0.9);
  EXPECT_EQ(ns.ns(), Namespace::Metrics);
  EXPECT_EQ(c(ns).ns, static_cast<hh_namespace>(HH_NS_METRICS));
  EXPECT_EQ(Attribute(Namespace::Metadata, "l", {1, 2}).ns(), Namespace::Metadata);

  // Content never throws at construction: a NUL byte makes the attribute invalid.
  EXPECT_TRUE(Attribute("k", "v").valid());
  EXPECT_FALSE(Attribute(std::string_view("k\0x", 3), 1).valid());
  EXPECT_FALSE(Attribute("k", std::string("a\0b", 3)).valid());
  EXPECT_FALSE(Attribute("k", static_cast<const char*>(nullptr)).valid());
  EXPECT_FALSE(Attribute("k", std::vector<std::string>{"ok", std::string("a\0b", 3)}).valid());
}

TEST(SpanContext, HexRoundTripAndValidity) {
  using honeyhive::SpanContext;
  const SpanContext invalid;
  EXPECT_FALSE(invalid.is_valid());
  EXPECT_EQ(invalid.trace_id_hex(), std::string(32, '0'));
  const SpanContext c = SpanContext::from_hex("0AF7651916CD43DD8448EB211C80319C", "b7ad6b7169203331", false, true);
  EXPECT_TRUE(c.is_valid());
  EXPECT_EQ(c.trace_id_hex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(c.span_id_hex(), "b7ad6b7169203331");
  EXPECT_FALSE(c.sampled());
  EXPECT_TRUE(c.is_remote());
  EXPECT_EQ(c.trace_id()[0], 0x0a);
  EXPECT_EQ(c.span_id()[7], 0x31);
  const SpanContext same(c.trace_id(), c.span_id(), false, true);
  EXPECT_EQ(same, c);
  EXPECT_NE(SpanContext(c.trace_id(), c.span_id(), true, true), c);
  EXPECT_EQ(SpanContext(c.c_struct()), c);
  for (const auto& bad : {std::pair<const char*, const char*>{"0af7", "b7ad6b7169203331"},
                          {"0af7651916cd43dd8448eb211c80319g", "b7ad6b7169203331"},
                          {"0af7651916cd43dd8448eb211c80319c", "b7ad6b716920333"}}) {
    EXPECT_THROW(SpanContext::from_hex(bad.first, bad.second), honeyhive::Error) << bad.first << " " << bad.second;
  }
}

TEST(SpanOptions, Fields) {
  using honeyhive::SpanContext;
  using honeyhive::SpanKind;
  using honeyhive::SpanOptions;
  const SpanOptions none;
  EXPECT_EQ(none.kind(), SpanKind::Internal);
  EXPECT_EQ(none.start_time(), honeyhive::TimePoint{});
  EXPECT_EQ(none.remote_parent(), nullptr);
  EXPECT_FALSE(none.session().has_value());
  SpanOptions o;
  std::string sid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
  o.session(sid).parent(SpanContext::from_hex("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"));
  sid.assign(sid.size(), 'x');  // the options keep their own copy of the id
  EXPECT_EQ(o.session().id(), "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
  ASSERT_NE(o.remote_parent(), nullptr);
  o.parent(honeyhive::Parent::from_handle(5));  // a handle parent replaces the remote one
  EXPECT_EQ(o.remote_parent(), nullptr);
  EXPECT_EQ(o.parent().handle(), 5u);
  o.attributes({{"a", 1}}).attribute({"b", 2}).attributes(std::vector<honeyhive::Attribute>{{"c", 3}});
  EXPECT_EQ(o.attributes().size(), 3u);
  o.link(SpanContext()).links({SpanContext(), SpanContext()});
  EXPECT_EQ(o.links().size(), 2u);
}
