#pragma once
#include <string>

namespace cosync {

// A random (version 4) UUID, e.g. for MS-CorrelationId.
std::string random_uuid();

}  // namespace cosync
