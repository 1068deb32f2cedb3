#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "harness.h"

#ifndef VOXQC_REPO_DIR
#define VOXQC_REPO_DIR "."
#endif

namespace voxqc::test {

std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

std::string repoDir() { return VOXQC_REPO_DIR; }

std::string corpusDir() {
  if (const char* env = std::getenv("VOXQC_CORPUS")) {
    if (std::filesystem::is_directory(env)) return env;
    return "";
  }
  auto dir = std::filesystem::path(VOXQC_REPO_DIR) / ".." / "shared" / "corpus";
  return std::filesystem::is_directory(dir) ? dir.lexically_normal().string() : "";
}

}  // namespace voxqc::test

int main(int argc, char** argv) {
  using namespace voxqc::test;
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0, skipped = 0;
  for (const auto& c : registry()) {
    if (filter && std::strstr(c.name, filter) == nullptr) continue;
    try {
      c.fn();
      ++passed;
      std::cout << "  ok    " << c.name << "\n";
    } catch (const Skip& s) {
      ++skipped;
      std::cout << "  skip  " << c.name << ": " << s.reason << "\n";
    } catch (const Failure& f) {
      ++failed;
      std::cout << "  FAIL  " << c.name << "\n        " << f.message << "\n";
    } catch (const std::exception& e) {
      ++failed;
      std::cout << "  FAIL  " << c.name << "\n        unexpected exception: " << e.what() << "\n";
    }
  }
  std::cout << "native: " << passed << " passed, " << failed << " failed, " << skipped << " skipped"
            << std::endl;
  return failed == 0 ? 0 : 1;
}
