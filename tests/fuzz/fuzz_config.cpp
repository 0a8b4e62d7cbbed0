// The daemon's configuration file (load_config), with the example mapping files and a private
// secret file beside it. A refused config is a ConfigError by design (exit 78); anything else
// escaping the loader (another exception, a sanitizer report, a hang) is a finding.
#include <sys/stat.h>

#include "daemon/cli/config.hpp"
#include "daemon/util/yaml_reader.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace fs = std::filesystem;

namespace {

// The files the seeds name (config/examples/sandbox*.yaml with paths relative to the scratch
// directory): mappings/*.yaml, client_secret (0600), state/.
fs::path prepare() {
  const fs::path& dir = cosync::fuzz::scratch_dir();
  fs::copy(fs::path(COSYNC_SOURCE_DIR) / "config/examples/mappings", dir / "mappings", fs::copy_options::recursive);
  cosync::fuzz::write_file(dir / "client_secret", "fuzz-secret\n");
  ::chmod((dir / "client_secret").c_str(), 0600);
  fs::create_directory(dir / "state");
  ::chmod((dir / "state").c_str(), 0700);
  return dir / "cosync.yaml";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path config_file = prepare();
  cosync::fuzz::write_file(config_file, cosync::fuzz::text_of(data, size));
  try {
    auto config = cosync::app::load_config(config_file.string());
    FUZZ_REQUIRE(!config.state_dir.empty());
  } catch (const cosync::ConfigError& e) {
    FUZZ_REQUIRE(*e.what() != '\0');
  }
  return 0;
}
