// A minimal test harness for the native core (no Node, no third-party framework).
// Each test file defines tests with VOXQC_TEST(name) { ... } and checks with the CHECK macros;
// main.cpp runs them all (or those whose name contains argv[1]) and prints
// "N passed, N failed" as its last line.
#pragma once

#include <cmath>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace voxqc::test {

struct Case {
  const char* name;
  std::function<void()> fn;
};

std::vector<Case>& registry();

struct Register {
  Register(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

struct Failure {
  std::string message;
};

// Directory of the repository (set by CMake), so tests can find fixtures and samples.
std::string repoDir();
// ../shared/corpus next to the repository, or $VOXQC_CORPUS; empty when absent.
std::string corpusDir();

// Thrown by VOXQC_SKIP; counted apart from failures.
struct Skip {
  std::string reason;
};

}  // namespace voxqc::test

#define VOXQC_CONCAT2(a, b) a##b
#define VOXQC_CONCAT(a, b) VOXQC_CONCAT2(a, b)
#define VOXQC_TEST(name)                                                                 \
  static void VOXQC_CONCAT(test_fn_, name)();                                            \
  static ::voxqc::test::Register VOXQC_CONCAT(test_reg_, name)(#name,                    \
                                                               VOXQC_CONCAT(test_fn_, name)); \
  static void VOXQC_CONCAT(test_fn_, name)()

#define VOXQC_FAIL(msg)                                                        \
  do {                                                                         \
    std::ostringstream voxqc_os_;                                              \
    voxqc_os_ << __FILE__ << ":" << __LINE__ << ": " << msg;                   \
    throw ::voxqc::test::Failure{voxqc_os_.str()};                             \
  } while (0)

#define CHECK(cond)                                   \
  do {                                                \
    if (!(cond)) VOXQC_FAIL("CHECK(" #cond ") failed"); \
  } while (0)

#define CHECK_EQ(a, b)                                                                  \
  do {                                                                                  \
    auto voxqc_a_ = (a);                                                                \
    auto voxqc_b_ = (b);                                                                \
    if (!(voxqc_a_ == voxqc_b_))                                                        \
      VOXQC_FAIL("CHECK_EQ(" #a ", " #b ") failed: " << voxqc_a_ << " != " << voxqc_b_); \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                         \
  do {                                                                                \
    double voxqc_a_ = (a), voxqc_b_ = (b), voxqc_t_ = (tol);                          \
    if (!(std::fabs(voxqc_a_ - voxqc_b_) <= voxqc_t_))                                \
      VOXQC_FAIL("CHECK_NEAR(" #a ", " #b ") failed: " << voxqc_a_ << " vs " << voxqc_b_ \
                                                      << " (tol " << voxqc_t_ << ")");  \
  } while (0)

// Expects `stmt` to throw voxqc::Error with the given ErrorCode and a message containing `part`.
#define CHECK_THROWS_CODE(stmt, errcode, part)                                               \
  do {                                                                                       \
    bool voxqc_thrown_ = false;                                                              \
    try {                                                                                    \
      stmt;                                                                                  \
    } catch (const ::voxqc::Error& e) {                                                      \
      voxqc_thrown_ = true;                                                                  \
      if (e.code() != (errcode)) VOXQC_FAIL("wrong error code for " #stmt ": " << e.what()); \
      if (std::string(e.what()).find(part) == std::string::npos)                             \
        VOXQC_FAIL("message of " #stmt " lacks '" << part << "': " << e.what());             \
    }                                                                                        \
    if (!voxqc_thrown_) VOXQC_FAIL(#stmt " did not throw");                                  \
  } while (0)

#define VOXQC_SKIP(reason) throw ::voxqc::test::Skip{reason}
