// Runs every registered case; prints one "ok"/"not ok" line each (TAP) and exits 1 on a failure.
#include <cstdio>

#include "test/native/check.h"

namespace envoy_ts::test {
namespace {

int failures_in_case = 0;

}  // namespace

std::vector<Case>& cases() {
  static std::vector<Case> all;
  return all;
}

void fail(const char* file, int line, const std::string& what) {
  ++failures_in_case;
  std::printf("  # %s:%d: %s\n", file, line, what.c_str());
}

}  // namespace envoy_ts::test

int main() {
  using envoy_ts::test::cases;
  int failed = 0;
  std::printf("1..%zu\n", cases().size());
  for (size_t i = 0; i < cases().size(); ++i) {
    envoy_ts::test::failures_in_case = 0;
    cases()[i].run();
    const bool ok = envoy_ts::test::failures_in_case == 0;
    failed += ok ? 0 : 1;
    std::printf("%s %zu - %s\n", ok ? "ok" : "not ok", i + 1, cases()[i].name);
  }
  std::printf("# %d of %zu failed\n", failed, cases().size());
  return failed == 0 ? 0 : 1;
}
