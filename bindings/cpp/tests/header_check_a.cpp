// Compiled with extra warnings (-Wconversion -Wsign-conversion -Wshadow -Wold-style-cast ...)
// together with header_check_b.cpp: the header must be clean and ODR-safe (everything inline).
#include <honeyhive/honeyhive.hpp>

#include <cstdio>
#include <cstdint>
#include <string>

int use_header_from_b();  // header_check_b.cpp

int main() {
  using namespace honeyhive;
  // Instantiate the templates with many types.
  const Json j = Json::object({{"i8", static_cast<int8_t>(1)}, {"u16", static_cast<uint16_t>(2)},
                               {"i64", int64_t{-3}}, {"u64", uint64_t{4}}, {"f", 0.5f}, {"d", 0.25},
                               {"ld", 1.5L}, {"b", true}, {"s", std::string("x")}, {"sv", std::string_view("y")},
                               {"c", "z"}, {"n", nullptr}, {"a", Json::array({1, 2})}});
  if (j.str().empty()) return 1;

  try {
    Tracer tracer(Config().test_mode(true).close_timeout(std::chrono::milliseconds(1000)));
    Span span = tracer.span("header-check", EventType::Tool);
    span.set(Namespace::Metadata, "i8", static_cast<int8_t>(1))
        .set(Namespace::Metadata, "u32", 2u)
        .set(Namespace::Metadata, "u64", uint64_t{3})
        .set(Namespace::Metadata, "u64max", UINT64_MAX)
        .set(Namespace::Metadata, "long", 4L)
        .set(Namespace::Metadata, "f", 1.5f)
        .set(Namespace::Metadata, "d", 2.5)
        .set(Namespace::Metadata, "b", false)
        .set(Namespace::Metadata, "cstr", "s")
        .set(Namespace::Metadata, "str", std::string("s"))
        .set(Namespace::Metadata, "sv", std::string_view("s"))
        .set(Namespace::Metadata, "json", Json::object({{"k", 1}}));
    const char* dynamic = "dyn";
    span.set(Namespace::Metadata, "ptr", dynamic);
    // The span model, with every attribute value type.
    const bool applied = span.set_attributes(
        {{"b", true}, {"i8", static_cast<int8_t>(1)}, {"u16", static_cast<uint16_t>(2)}, {"u64", UINT64_MAX},
         {"f", 0.5f}, {"ld", 1.5L}, {"s", "x"}, {"str", std::string("y")}, {"sv", std::string_view("z")},
         {"as", {"a", "b"}}, {"ai", {1, 2}}, {"af", {0.5, 1.5}}, {"ab", {true, false}},
         {"vu8", std::vector<uint8_t>{1, 2}}, {"vu64", std::vector<uint64_t>{1, UINT64_MAX}},
         {"vf", std::vector<float>{0.5f}}, {"vb", std::vector<bool>{true}}, {"vs", std::vector<std::string>{"s"}},
         {"vsv", std::vector<std::string_view>{"s"}}, {Namespace::Metrics, "m", 1},
         {Namespace::Metadata, "l", {1, 2}}});
    const TimePoint now = Clock::now();
    span.add_event("event", {{"k", 1}}, now);
    span.add_event("event-at", now);
    span.add_link(Link(span.context(), {{"k", "v"}}));
    span.set_status(StatusCode::Error, "description");
    span.set_name("header-check-renamed");
    const SpanContext ctx = SpanContext::from_hex(span.context().trace_id_hex(), span.context().span_id_hex());
    Span child = tracer.span("child", SpanOptions()
                                          .type(EventType::Model)
                                          .kind(SpanKind::Client)
                                          .start_time(now)
                                          .parent(ctx)
                                          .link(ctx)
                                          .attributes({{"a", 1}})
                                          .json_attributes(Json::object({{"j", 1}})));
    child.record_error("E", "m", "stack", true, now);
    child.end_at(Clock::now());
    const std::string event_id = tracer.create_event(EventOptions("ev", EventType::Tool).duration(std::chrono::milliseconds(3)));
    tracer.enrich_event(event_id, Json::object({{"feedback", Json::object({{"ok", applied}})}}));
    std::printf("%s %zu\n", tracer.inject().baggage.c_str(), event_id.size());
    span.enrich(j);
    const TraceHeaders h = span.inject();
    std::printf("%s %s %d\n", h.traceparent.c_str(), h.baggage.c_str(), use_header_from_b());
    tracer.flush(std::chrono::seconds(1));
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s\n", e.status_name(), e.what());
    return 1;
  }
  return 0;
}
