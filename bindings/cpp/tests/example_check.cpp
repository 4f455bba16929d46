// Runs examples/cpp (honeyhive_worker_pool) against hh-receiver, configured only through HH_*
// environment variables, and checks that every request's session and spans arrived.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "support/test_support.hpp"

#ifndef HH_EXAMPLE_BIN
#error "HH_EXAMPLE_BIN must name the example binary"
#endif

namespace {

/// Runs the example with the receiver's URL in its environment; returns its exit status.
int run_example(const std::string& url, int requests, int workers) {
  const std::string n = std::to_string(requests);
  const std::string w = std::to_string(workers);
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    // Only HH_* configuration, as a user would run it; nothing inherited may redirect it.
    for (const char* var : {"HH_EXPORTER", "HH_EXPORT_FILE", "HH_TEST_MODE", "HH_SERVER_URL",
                            "HONEYHIVE_SERVER_URL", "HH_DISABLE_BATCH", "HH_OTLP_PROTOCOL",
                            "OTEL_EXPORTER_OTLP_PROTOCOL", "HONEYHIVE_API_KEY"}) {
      ::unsetenv(var);
    }
    ::setenv("HH_API_URL", url.c_str(), 1);
    ::setenv("HH_API_KEY", "test", 1);
    ::setenv("HH_PROJECT", "cpp-example", 1);
    ::setenv("HH_SOURCE", "ctest", 1);
    ::setenv("OTEL_BSP_SCHEDULE_DELAY", "100", 1);
    const char* bin = HH_EXAMPLE_BIN;
    char* const argv[] = {const_cast<char*>(bin), const_cast<char*>(n.c_str()), const_cast<char*>(w.c_str()),
                          nullptr};
    ::execv(bin, argv);
    ::_exit(127);
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -2;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -3;
}

}  // namespace

TEST(Example, WorkerPoolDeliversOneSessionPerRequest) {
  constexpr int kRequests = 12;
  hhtest::Receiver receiver;
  ASSERT_EQ(run_example(receiver.url(), kRequests, 4), 0) << "the example failed (see its stderr above)";

  // close() flushed before the example exited, so everything is already recorded.
  const hhtest::JValue requests = receiver.requests();
  const hhtest::JValue spans = receiver.spans();

  std::map<std::string, int> request_of_session;  // session id -> request number
  for (const hhtest::JValue* r : hhtest::find_requests(requests, "POST", "/session/start")) {
    const hhtest::JValue& session = (*r)["body_json"]["session"];
    const std::string& name = session["session_name"].str();
    if (name.rfind("request-", 0) == 0) {
      EXPECT_EQ(session["project"].str(), "cpp-example");
      EXPECT_EQ(session["source"].str(), "ctest");
      request_of_session[session["session_id"].str()] = std::atoi(name.c_str() + 8);
    }
  }
  ASSERT_EQ(request_of_session.size(), static_cast<size_t>(kRequests)) << requests.dump();
  std::set<int> numbers;
  for (const auto& entry : request_of_session) numbers.insert(entry.second);
  EXPECT_EQ(numbers.size(), static_cast<size_t>(kRequests));

  for (const auto& r : requests.items()) {
    EXPECT_EQ(r["headers"]["hh-client-language"].str(), "cpp") << r["path"].str();
    EXPECT_EQ(r["headers"]["authorization"].str(), "Bearer test");
  }

  // Per session: handle_request and its four children, in one trace.
  std::map<std::string, std::map<std::string, const hhtest::JValue*>> by_session;
  for (const auto& s : spans.items()) {
    by_session[s["attributes"]["honeyhive.session_id"].str()][s["name"].str()] = &s;
  }
  ASSERT_EQ(spans.size(), static_cast<size_t>(kRequests * 5)) << spans.dump();
  for (const auto& [session_id, request] : request_of_session) {
    const auto& named = by_session[session_id];
    ASSERT_EQ(named.size(), 5u) << "session of request " << request;
    const hhtest::JValue& root = *named.at("handle_request");
    EXPECT_TRUE(root["parent_span_id"].is_null());
    EXPECT_EQ(root["attributes"]["honeyhive_event_type"].str(), "chain");
    for (const char* child : {"retrieve_documents", "build_prompt", "model_call", "tool_call"}) {
      const hhtest::JValue& s = *named.at(child);
      EXPECT_EQ(s["parent_span_id"].str(), root["span_id"].str()) << child;
      EXPECT_EQ(s["trace_id"].str(), root["trace_id"].str()) << child;
    }
    const hhtest::JValue& model = *named.at("model_call");
    EXPECT_EQ(model["attributes"]["honeyhive_event_type"].str(), "model");
    EXPECT_EQ(model["attributes"]["honeyhive_config.model"].str(), "example-llm-1");
    EXPECT_TRUE(model["attributes"]["honeyhive_metrics.prompt_tokens"].is_int());
    EXPECT_EQ(named.at("retrieve_documents")->operator[]("attributes")["honeyhive_metrics.documents_found"].as_int(), 2);
    const hhtest::JValue& tool = *named.at("tool_call");
    EXPECT_EQ(tool["attributes"]["honeyhive_inputs.tool"].str(), "inventory_lookup");
    if (request % 5 == 4) {
      EXPECT_EQ(tool["status_code"].str(), "STATUS_CODE_ERROR");
      EXPECT_EQ(tool["status_message"].str(), "std::runtime_error: inventory service timed out");
      EXPECT_EQ(root["status_code"].str(), "STATUS_CODE_ERROR");
    } else {
      EXPECT_EQ(tool["status_code"].str(), "STATUS_CODE_UNSET");
      EXPECT_EQ(root["attributes"]["honeyhive_outputs.answer"].str().empty(), false);
    }
  }

  // Each session was enriched once (PUT /events).
  std::set<std::string> enriched;
  for (const hhtest::JValue* r : hhtest::find_requests(requests, "PUT", "/events")) {
    enriched.insert((*r)["body_json"]["event_id"].str());
  }
  for (const auto& entry : request_of_session) EXPECT_TRUE(enriched.count(entry.first)) << entry.second;
}
