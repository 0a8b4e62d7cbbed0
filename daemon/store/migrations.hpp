#pragma once
// Numbered schema migrations: migration N brings the schema from version N-1 to N. Append only:
// a released migration is never edited.
#include <vector>

namespace cosync {

const std::vector<const char*>& schema_migrations();

}  // namespace cosync
