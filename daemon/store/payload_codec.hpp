#pragma once
// How the state database keeps an outbox event's payload (README "Notifications"): JSON deflated
// against a preset dictionary of an event payload's usual keys and values. A payload holds both
// records whole (the templates may read any field), about 1.4 KB of JSON for a new lead: deflated
// it is about 200 bytes, and the outbox was two thirds of what a bulk wrote to disk.
#include <string>
#include <string_view>

namespace cosync::payload_codec {

// `json` packed: a format byte, then the raw deflate stream.
std::string pack(std::string_view json);

// The JSON text of a stored payload: packed ones unpacked, text (rows written before packing
// existed) as it is. Throws std::runtime_error for a packed payload that does not inflate.
std::string unpack(std::string_view stored);

}  // namespace cosync::payload_codec
