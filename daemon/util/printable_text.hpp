#pragma once
// Remote ids are hostile: a control character in one would reach URLs, headers, the state store
// and messages. One test for it, and one printable form for reasons and quarantine keys.
#include <string>
#include <string_view>

namespace cosync {

// True when `text` holds a C0 control character or DEL.
bool has_control_character(std::string_view text);
// `text` on one printable line: control characters and backslashes as \xNN (so the form is
// unambiguous), everything else as it is.
std::string printable_id(std::string_view text);

}  // namespace cosync
