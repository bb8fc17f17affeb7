#pragma once
// A fresh directory under the system temp dir for a unit test, removed at scope exit.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace cpm::test {

struct TempDir {
  std::filesystem::path path;
  // `prefix` names the directory ("cpm-outbox" -> /tmp/cpm-outbox-XXXXXX).
  explicit TempDir(const std::string& prefix = "cpm-test")
  {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir()
  {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

} // namespace cpm::test
