#pragma once
// Case-insensitive comparison of UTF-8 text the way a CRM compares names: Unicode simple case
// folding (CaseFolding.txt, status C and S), so that "MÜLLER GMBH" and "Müller GmbH" are one name.
#include <string>
#include <string_view>

namespace cosync {

// The simple case folding of one code point, for ASCII, Latin-1 Supplement, Latin Extended-A,
// Greek and Coptic, Cyrillic and Cyrillic Supplement, Armenian and the capital sharp s (U+1E9E).
// Other code points are returned unchanged.
char32_t fold_code_point(char32_t c);

// The code points of UTF-8 text. A byte that is not part of a valid sequence becomes U+DC80 +
// the byte (a lone surrogate, never a real character), so that decoding loses nothing.
std::u32string decode_utf8(std::string_view text);
// The inverse of decode_utf8: U+DC80..U+DCFF are written back as the single byte they stand for.
std::string encode_utf8(std::u32string_view code_points);

// `text` with every code point folded (invalid bytes kept as they are).
std::string fold_case(std::string_view text);

}  // namespace cosync
