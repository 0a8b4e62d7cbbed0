#include "daemon/util/expected.hpp"

namespace cosync {

const char* to_string(FailureKind kind) {
  switch (kind) {
    case FailureKind::transient: return "transient";
    case FailureKind::conflict: return "conflict";
    case FailureKind::rejected: return "rejected";
    case FailureKind::not_found: return "not_found";
    case FailureKind::auth: return "auth";
    case FailureKind::fatal: return "fatal";
  }
  return "unknown";
}

}  // namespace cosync
