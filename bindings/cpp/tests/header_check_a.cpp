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
