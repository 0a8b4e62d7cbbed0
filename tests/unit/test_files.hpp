#pragma once
// Temporary directories and files for tests; removed when the object goes out of scope.
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace cosync::testing {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("cosync-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << content;
    return p.string();
  }
  // A secret (client secret, private key) as cosyncd accepts one: readable by its owner only.
  std::string write_secret(const std::string& name, const std::string& content) const {
    auto p = write(name, content);
    std::filesystem::permissions(p, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return p;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace cosync::testing
