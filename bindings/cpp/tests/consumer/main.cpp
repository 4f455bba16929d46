#include <honeyhive/honeyhive.hpp>

#include <cstdio>
#include <cstring>

int main() {
  try {
    honeyhive::Tracer tracer(honeyhive::Config().test_mode(true));
    {
      auto span = tracer.span("consumer", honeyhive::EventType::Tool);
      span.set(honeyhive::Namespace::Metadata, "ok", true);
    }
    tracer.close(std::chrono::seconds(2));
    std::printf("consumer ok: libhoneyhive %s, spans ended %llu\n", honeyhive::version(),
                static_cast<unsigned long long>(tracer.stats().spans_ended));
    return std::strcmp(honeyhive::version(), HH_VERSION_STRING) == 0 ? 0 : 1;
  } catch (const honeyhive::Error& e) {
    std::fprintf(stderr, "%s: %s\n", e.status_name(), e.what());
    return 1;
  }
}
