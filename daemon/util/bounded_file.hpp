#pragma once
// The one way cosync reads a whole local file it is given by name (config and mapping YAML,
// secrets, certificates, keys): only a regular file, only up to a size cap, so that
// `/dev/zero`, a FIFO or a huge file named by mistake is a clear error instead of a hang.
// A secret must also be private, as ssh demands of a key: owned by the daemon's user (or root),
// no write for group or others, no read for others (0600, 0640, 0400, 0440).
#include <cstddef>
#include <string>

#include "daemon/util/expected.hpp"

namespace cosync {

inline constexpr std::size_t kMaxSecretFileBytes = std::size_t{1} << 20;  // secrets, keys, certificates
inline constexpr std::size_t kMaxYamlFileBytes = std::size_t{4} << 20;    // config and mapping files

enum class FileAccess { plain, secret };

// The file's content, or a Failure (kind fatal) whose message names the path and says why.
Expected<std::string> read_bounded_file(const std::string& path, std::size_t max_bytes,
                                        FileAccess access = FileAccess::plain);

}  // namespace cosync
