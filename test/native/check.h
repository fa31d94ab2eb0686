// The native unit tests' harness: TEST(name) { ... } registers a case; CHECK and CHECK_EQ record a
// failure (file:line and what failed) and the case goes on. main.cc runs every case.
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace envoy_ts::test {

struct Case {
  const char* name;
  void (*run)();
};

std::vector<Case>& cases();
void fail(const char* file, int line, const std::string& what);

struct Registration {
  Registration(const char* name, void (*run)()) { cases().push_back({name, run}); }
};

template <class A, class B>
void checkEqual(const A& actual, const B& expected, const char* file, int line, const char* text) {
  if (!(actual == expected)) {
    std::ostringstream what;
    what << text << ": got " << actual << ", expected " << expected;
    fail(file, line, what.str());
  }
}

}  // namespace envoy_ts::test

#define TEST(name)                                                                   \
  static void name();                                                                \
  static const ::envoy_ts::test::Registration name##_registration(#name, name);      \
  static void name()

#define CHECK(condition)                                      \
  do {                                                        \
    if (!(condition)) {                                       \
      ::envoy_ts::test::fail(__FILE__, __LINE__, #condition); \
    }                                                         \
  } while (0)

#define CHECK_EQ(actual, expected) \
  ::envoy_ts::test::checkEqual((actual), (expected), __FILE__, __LINE__, #actual " == " #expected)
