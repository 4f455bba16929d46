// libhoneyhive C++ example: a pool of worker threads serving requests from a queue, with one
// HoneyHive session per request. Each request is traced as
//
//   handle_request (chain)
//   ├── retrieve_documents (tool)
//   ├── build_prompt (tool)
//   ├── model_call (model)
//   └── tool_call (tool)        every 5th request's tool fails: its span records the error
//
// Configuration comes from the environment (the C library reads it): HH_API_KEY, HH_PROJECT,
// HH_SOURCE, HH_API_URL; HH_EXPORTER=console (or =file with HH_EXPORT_FILE=<path>) runs
// without an account.
//
//   usage: honeyhive_worker_pool [REQUESTS=8] [WORKERS=4]
//   exit:  0 processed everything and delivered it; 1 bad usage/config; 2 telemetry not delivered
#include <honeyhive/honeyhive.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace hh = honeyhive;
using namespace std::chrono_literals;

namespace {

struct Request {
  int id;
  std::string question;
};

/// A minimal blocking queue: pop() waits for work and returns nothing once closed and empty.
class RequestQueue {
 public:
  void push(Request r) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(std::move(r));
    }
    cv_.notify_one();
  }
  void close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }
  std::optional<Request> pop() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    Request r = std::move(items_.front());
    items_.pop_front();
    return r;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> items_;
  bool closed_ = false;
};

// ---- Pretend application steps (no network): retrieval, prompting, an LLM, a tool. ----

std::vector<std::string> retrieve(const std::string& question) {
  return {"doc about " + question, "faq entry #" + std::to_string(question.size())};
}

std::string complete(const std::string& prompt) {
  return "Answer (" + std::to_string(prompt.size()) + " prompt chars): look it up in the docs.";
}

std::string run_tool(int request_id) {
  if (request_id % 5 == 4) throw std::runtime_error("inventory service timed out");
  return "in stock: " + std::to_string(request_id * 3);
}

/// Traces one request in its own session. Returns false when the request failed.
bool handle(const hh::Tracer& tracer, const Request& req, int worker) {
  const auto started = std::chrono::steady_clock::now();
  hh::Session session = tracer.create_session(
      hh::SessionOptions()
          .name("request-" + std::to_string(req.id))
          .inputs(hh::Json::object({{"question", req.question}}))
          .metadata(hh::Json::object({{"worker", worker}, {"request_id", req.id}})));

  hh::Span root = session.span("handle_request", hh::EventType::Chain);
  root.set(hh::Namespace::Inputs, "question", req.question);
  try {
    std::vector<std::string> docs;
    {
      hh::Span span = root.child("retrieve_documents", hh::EventType::Tool);
      docs = retrieve(req.question);
      span.enrich(hh::Json::object({
          {"inputs", hh::Json::object({{"query", req.question}, {"top_k", 2}})},
          {"outputs", hh::Json::object({{"documents", hh::Json::array_from(docs)}})},
          {"metrics", hh::Json::object({{"documents_found", docs.size()}})},
      }));
    }
    std::string prompt;
    {
      hh::Span span = root.child("build_prompt", hh::EventType::Tool);
      prompt = "Context:\n" + docs[0] + "\n" + docs[1] + "\n\nQuestion: \"" + req.question + "\"";
      span.set(hh::Namespace::Inputs, "template", "context+question")
          .set(hh::Namespace::Outputs, "prompt", prompt);
    }
    std::string answer;
    {
      hh::Span span = root.child("model_call", hh::EventType::Model);
      span.set(hh::Namespace::Config, "model", "example-llm-1")
          .set(hh::Namespace::Config, "temperature", 0.2)
          .set(hh::Namespace::Inputs, "prompt", prompt);
      answer = complete(prompt);
      span.set(hh::Namespace::Outputs, "completion", answer)
          .set(hh::Namespace::Metrics, "prompt_tokens", static_cast<int64_t>(prompt.size() / 4))
          .set(hh::Namespace::Metrics, "completion_tokens", static_cast<int64_t>(answer.size() / 4));
    }
    {
      // If run_tool throws, this span is destroyed during stack unwinding and records the
      // error itself; we also record the exception's type and message explicitly.
      hh::Span span = root.child("tool_call", hh::EventType::Tool);
      span.enrich(R"({"inputs":{"tool":"inventory_lookup"},"metadata":{"retries":0}})");
      try {
        const std::string result = run_tool(req.id);
        span.enrich(hh::Json::object({{"outputs", hh::Json::object({{"result", result}})}}));
      } catch (const std::exception& e) {
        span.record_exception(e);
        throw;
      }
    }
    root.set(hh::Namespace::Outputs, "answer", answer);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    session.enrich(hh::Json::object({
        {"outputs", hh::Json::object({{"answer", answer}})},
        {"metrics", hh::Json::object({{"latency_ms", ms}})},
    }));
    return true;
  } catch (const hh::Error&) {
    throw;  // a tracing failure, not an application one
  } catch (const std::exception& e) {
    root.record_exception(e);
    session.enrich(hh::Json::object({{"metadata", hh::Json::object({{"failed", true}, {"error", e.what()}})}}));
    return false;
  }
}

int parse_count(const char* text, const char* what) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 1 || v > 100000) {
    std::fprintf(stderr, "invalid %s: %s\n", what, text);
    std::exit(1);
  }
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  const int requests = argc > 1 ? parse_count(argv[1], "REQUESTS") : 8;
  const int workers = argc > 2 ? parse_count(argv[2], "WORKERS") : 4;

  std::optional<hh::Tracer> tracer;
  try {
    tracer.emplace(hh::Config().close_timeout(10s));  // everything else from HH_* variables
  } catch (const hh::Error& e) {
    std::fprintf(stderr, "cannot create the tracer (%s): %s\n", e.status_name(), e.what());
    return 1;
  }

  RequestQueue queue;
  std::atomic<int> ok{0}, failed{0}, tracing_errors{0};
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      while (auto req = queue.pop()) {
        try {
          (handle(*tracer, *req, w) ? ok : failed)++;
        } catch (const hh::Error& e) {
          ++tracing_errors;
          std::fprintf(stderr, "request %d: tracing error %s: %s\n", req->id, e.status_name(), e.what());
        }
      }
    });
  }
  const char* topics[] = {"shipping times", "return policy", "gift cards", "store hours", "warranty"};
  for (int i = 0; i < requests; ++i) queue.push(Request{i, topics[i % 5]});
  queue.close();
  for (auto& t : pool) t.join();

  int rc = 0;
  try {
    tracer->close(10s);
  } catch (const hh::Error& e) {
    std::fprintf(stderr, "close: not everything was delivered (%s): %s\n", e.status_name(), e.what());
    rc = 2;
  }
  const hh::Stats s = tracer->stats();
  std::fprintf(stderr,
               "processed %d requests (%d ok, %d failed) on %d workers; spans started %llu, exported %llu, "
               "dropped %llu; session calls %llu\n",
               ok.load() + failed.load(), ok.load(), failed.load(), workers,
               static_cast<unsigned long long>(s.spans_started), static_cast<unsigned long long>(s.spans_exported),
               static_cast<unsigned long long>(s.spans_dropped), static_cast<unsigned long long>(s.rest_calls));
  if (tracing_errors.load() != 0) rc = 2;
  return rc;
}
