#pragma once
// What the harnesses share: the input as text, invariants whose breach is a finding (libFuzzer
// saves the input of any abort), and a private scratch directory for the YAML loaders.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace cosync::fuzz {

inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void finding(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
  std::abort();
}
#define FUZZ_REQUIRE(condition) \
  ((condition) ? (void)0 : ::cosync::fuzz::finding(#condition, __FILE__, __LINE__))

// A directory of this process's own under /tmp, removed at exit.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "cosync-fuzz-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) finding("mkdtemp", __FILE__, __LINE__);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(scratch_dir(), ignored);
    });
    return std::filesystem::path(pattern);
  }();
  return dir;
}

// Writes `text` to `path` (truncating), for the loaders that read files.
inline void write_file(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) finding("cannot write the fuzz input to the scratch directory", __FILE__, __LINE__);
}

}  // namespace cosync::fuzz
