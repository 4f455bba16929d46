// Every ```cpp block of bindings/cpp/README.md, exactly as written: compiled on its own with
// -Wall -Wextra -Wpedantic -Werror, run with only HH_* variables pointing at hh-receiver, and
// checked for a clean exit and for what it sent.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

#if !defined(HH_README) || !defined(HH_CXX) || !defined(HH_CXX_INCLUDE) || !defined(HH_C_INCLUDE) || \
    !defined(HH_LIBRARY_DIR) || !defined(HH_WORK_DIR)
#error "HH_README, HH_CXX, HH_CXX_INCLUDE, HH_C_INCLUDE, HH_LIBRARY_DIR and HH_WORK_DIR must be defined"
#endif

namespace {

std::vector<std::string> cpp_blocks(const std::string& markdown) {
  std::vector<std::string> blocks;
  const std::string open = "```cpp\n";
  size_t pos = 0;
  while ((pos = markdown.find(open, pos)) != std::string::npos) {
    const size_t start = pos + open.size();
    const size_t end = markdown.find("\n```", start);
    if (end == std::string::npos) break;
    blocks.push_back(markdown.substr(start, end - start + 1));
    pos = end + 4;
  }
  return blocks;
}

/// Runs argv with `env` added (after removing what could redirect it); returns the exit status.
int run(const std::vector<std::string>& args, const std::vector<std::pair<std::string, std::string>>& env) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    for (const char* var : {"HH_EXPORTER", "HH_EXPORT_FILE", "HH_TEST_MODE", "HH_SERVER_URL", "HONEYHIVE_SERVER_URL",
                            "HH_DISABLE_BATCH", "HH_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL", "HONEYHIVE_API_KEY",
                            "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"}) {
      ::unsetenv(var);
    }
    for (const auto& kv : env) ::setenv(kv.first.c_str(), kv.second.c_str(), 1);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
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

TEST(Readme, EverySnippetCompilesWithoutWarningsAndRuns) {
  std::ifstream in(HH_README);
  ASSERT_TRUE(in) << HH_README;
  std::stringstream text;
  text << in.rdbuf();
  const auto blocks = cpp_blocks(text.str());
  ASSERT_GE(blocks.size(), 3u) << "the README's C++ snippets";
  for (size_t i = 0; i < blocks.size(); ++i) {
    SCOPED_TRACE("snippet " + std::to_string(i) + ":\n" + blocks[i]);
    const std::string base = std::string(HH_WORK_DIR) + "/readme_" + std::to_string(i);
    {
      std::ofstream out(base + ".cpp");
      out << blocks[i];
    }
    const std::string lib_dir = HH_LIBRARY_DIR;
    ASSERT_EQ(run({HH_CXX, "-std=c++17", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-I" HH_CXX_INCLUDE,
                   "-I" HH_C_INCLUDE, base + ".cpp", "-o", base, "-L" + lib_dir, "-lhoneyhive",
                   "-Wl,-rpath," + lib_dir},
                  {}),
              0)
        << "compiling " << base << ".cpp";
    hhtest::Receiver receiver;
    ASSERT_EQ(run({base}, {{"HH_API_URL", receiver.url()}, {"HH_API_KEY", "test"}, {"OTEL_BSP_SCHEDULE_DELAY", "50"}}),
              0)
        << "running " << base;
    // Each snippet closes its tracer, which delivers what it recorded.
    const hhtest::JValue requests = receiver.requests();
    ASSERT_GE(requests.size(), 1u);
    for (const auto& r : requests.items()) {
      EXPECT_EQ(r["headers"]["hh-client-language"].str(), "cpp") << r.dump();
      EXPECT_EQ(r["response_status"].as_int(), 200) << r.dump();
    }
  }
}
