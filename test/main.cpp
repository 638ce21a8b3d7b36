// test/main.cpp: the one Catch2 main shared by every test executable.
//
// Tests write their fixtures under std::filesystem::temp_directory_path(), often with fixed names
// ("gptcu_test_nan"). Two test processes at once (ctest -j, or two builds' suites on one machine)
// would then write into each other's folders, so each process first points TMPDIR at a folder of
// its own under the real temporary directory, and removes it at the end.
#define CATCH_CONFIG_RUNNER
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <system_error>

int main(int argc, char* argv[]) {
  const std::string base = std::filesystem::temp_directory_path().string();
  std::string dir = base + "/gptcu-test-XXXXXX";
  const bool own = mkdtemp(dir.data()) != nullptr;
  if (own) setenv("TMPDIR", dir.c_str(), 1);
  const int result = Catch::Session().run(argc, argv);
  if (own) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return result;
}
