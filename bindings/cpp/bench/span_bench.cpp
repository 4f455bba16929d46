// The C++ binding's span hot path, measured (not a test: it asserts nothing on time).
//
// One span = a child of a live parent in an explicit session (Span::child), three metadata
// attributes through Span::set (string, integer, double), and the end by the destructor;
// exported (JSON, batch mode) to a loopback hh-receiver. The same span through the C ABI
// directly gives the binding's overhead. Bursts of spans are timed, each followed by an
// untimed flush; a figure is the median over bursts of ns per span.
//
//   span_bench [rounds] [spans-per-round]
// Prints "@@ {json}" result lines; bindings/cpp/bench/run-bench.sh compares two builds of
// the header (e.g. main's and this branch's) in alternating runs.
#include <honeyhive/honeyhive.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace hh = honeyhive;
using Steady = std::chrono::steady_clock;

namespace {

int failures = 0;

__attribute__((noinline)) void cpp_span(const hh::Span& parent) {
  auto span = parent.child("llm.call", hh::EventType::Model);
  span.set(hh::Namespace::Metadata, "model", "gpt-4o")
      .set(hh::Namespace::Metadata, "tokens", 42)
      .set(hh::Namespace::Metadata, "temperature", 0.7);
}

__attribute__((noinline)) void c_span(hh_tracer t, hh_span parent) {
  hh_span s = 0;
  if (hh_span_start(t, "llm.call", HH_EVENT_MODEL, parent, nullptr, nullptr, &s, nullptr) != HH_OK) ++failures;
  if (hh_span_set_str(s, HH_NS_METADATA, "model", "gpt-4o") != HH_OK) ++failures;
  if (hh_span_set_i64(s, HH_NS_METADATA, "tokens", 42) != HH_OK) ++failures;
  if (hh_span_set_f64(s, HH_NS_METADATA, "temperature", 0.7) != HH_OK) ++failures;
  if (hh_span_end(s) != HH_OK) ++failures;
}

template <class F>
double burst_ns(hh::Tracer& tracer, int n, F&& one) {
  const auto start = Steady::now();
  for (int i = 0; i < n; ++i) one();
  const double ns = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now() - start).count());
  try {
    tracer.flush(std::chrono::seconds(30));
  } catch (const hh::Error&) {
    ++failures;
  }
  return ns / n;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 15;
  const int per_round = argc > 2 ? std::atoi(argv[2]) : 20000;
  if (rounds <= 0 || per_round <= 0) {
    std::fprintf(stderr, "usage: span_bench [rounds] [spans-per-round]\n");
    return 1;
  }
  hhtest::Receiver receiver;
  hh::Tracer tracer(hh::Config()
                        .api_key("bench-key")
                        .project("bench")
                        .server_url(receiver.url())
                        .exporter("honeyhive")
                        .max_queue_size(1u << 20));
  const hh::Session session = tracer.create_session(hh::SessionOptions().name("bench"));
  auto parent = session.span("request", hh::EventType::Chain);
  const hh_tracer t = tracer.handle();
  const hh_span p = parent.handle();

  // Warm-up (allocator, handle slots, connection).
  burst_ns(tracer, per_round, [&] { cpp_span(parent); });
  burst_ns(tracer, per_round, [&] { c_span(t, p); });
  std::vector<double> cpp, c;
  for (int r = 0; r < rounds; ++r) {  // alternated, so both see the same machine load
    cpp.push_back(burst_ns(tracer, per_round, [&] { cpp_span(parent); }));
    c.push_back(burst_ns(tracer, per_round, [&] { c_span(t, p); }));
    receiver.reset();
  }
  const double cpp_ns = median(cpp), c_ns = median(c);
  std::printf("C++ binding span (child + 3 set + end): %.0f ns/span; C ABI directly: %.0f ns/span; ratio %.3f\n",
              cpp_ns, c_ns, cpp_ns / c_ns);
  std::printf("@@ {\"id\":\"cpp_span_ns\",\"value\":%.1f}\n", cpp_ns);
  std::printf("@@ {\"id\":\"cpp_c_span_ns\",\"value\":%.1f}\n", c_ns);
  std::printf("@@ {\"id\":\"cpp_over_c\",\"value\":%.4f}\n", cpp_ns / c_ns);
  parent.end();
  if (failures != 0) {
    std::fprintf(stderr, "span_bench: %d calls failed\n", failures);
    return 1;
  }
  return 0;
}
