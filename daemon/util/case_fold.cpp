#include "daemon/util/case_fold.hpp"

namespace cosync {
namespace {

constexpr char32_t kEscapedByte = 0xDC80;  // + the invalid byte (0x80..0xFF)

// Pairs laid out upper, lower, upper, lower...: the upper one is the one with `upper_parity`.
bool is_upper_of_pair(char32_t c, char32_t upper_parity) { return (c & 1) == upper_parity; }

char32_t fold_latin(char32_t c) {
  if (c >= U'A' && c <= U'Z') return c + 32;
  if (c == 0xB5) return 0x3BC;  // micro sign -> Greek small mu
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c >= 0x100 && c <= 0x12F) return is_upper_of_pair(c, 0) ? c + 1 : c;
  // U+0130 (I with dot above) and U+0131 (dotless i) have no simple folding: Turkish is special.
  if (c >= 0x132 && c <= 0x137) return is_upper_of_pair(c, 0) ? c + 1 : c;
  if (c >= 0x139 && c <= 0x148) return is_upper_of_pair(c, 1) ? c + 1 : c;
  if (c >= 0x14A && c <= 0x177) return is_upper_of_pair(c, 0) ? c + 1 : c;
  if (c == 0x178) return 0xFF;  // Y with diaeresis
  if (c >= 0x179 && c <= 0x17E) return is_upper_of_pair(c, 1) ? c + 1 : c;
  if (c == 0x17F) return U's';  // long s
  if (c == 0x1E9E) return 0xDF;  // capital sharp s
  return c;
}

char32_t fold_greek(char32_t c) {
  if (c == 0x345) return 0x3B9;  // combining ypogegrammeni -> iota
  if (c >= 0x370 && c <= 0x373) return is_upper_of_pair(c, 0) ? c + 1 : c;
  switch (c) {
    case 0x376: return 0x377;
    case 0x37F: return 0x3F3;
    case 0x386: return 0x3AC;
    case 0x38C: return 0x3CC;
    case 0x3C2: return 0x3C3;  // final sigma
    case 0x3CF: return 0x3D7;
    case 0x3D0: return 0x3B2;
    case 0x3D1: return 0x3B8;
    case 0x3D5: return 0x3C6;
    case 0x3D6: return 0x3C0;
    case 0x3F0: return 0x3BA;
    case 0x3F1: return 0x3C1;
    case 0x3F4: return 0x3B8;
    case 0x3F5: return 0x3B5;
    case 0x3F7: return 0x3F8;
    case 0x3F9: return 0x3F2;
    case 0x3FA: return 0x3FB;
    default: break;
  }
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c >= 0x38E && c <= 0x38F) return c + 63;
  if ((c >= 0x391 && c <= 0x3A1) || (c >= 0x3A3 && c <= 0x3AB)) return c + 32;
  if (c >= 0x3D8 && c <= 0x3EF) return is_upper_of_pair(c, 0) ? c + 1 : c;
  if (c >= 0x3FD && c <= 0x3FF) return c - 130;
  return c;
}

char32_t fold_cyrillic_armenian(char32_t c) {
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x460 && c <= 0x481) return is_upper_of_pair(c, 0) ? c + 1 : c;
  if (c >= 0x48A && c <= 0x4BF) return is_upper_of_pair(c, 0) ? c + 1 : c;
  if (c == 0x4C0) return 0x4CF;
  if (c >= 0x4C1 && c <= 0x4CE) return is_upper_of_pair(c, 1) ? c + 1 : c;
  if (c >= 0x4D0 && c <= 0x52F) return is_upper_of_pair(c, 0) ? c + 1 : c;
  if (c >= 0x531 && c <= 0x556) return c + 48;  // Armenian
  return c;
}

}  // namespace

char32_t fold_code_point(char32_t c) {
  if (c < 0x80) return c >= U'A' && c <= U'Z' ? c + 32 : c;
  if (c < 0x345 || c == 0x1E9E) return fold_latin(c);
  if (c < 0x400) return fold_greek(c);
  if (c < 0x560) return fold_cyrillic_armenian(c);
  return c;
}

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char b = byte(i);
    std::size_t length = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
    char32_t c = length == 1 ? b : length == 2 ? b & 0x1F : length == 3 ? b & 0x0F : b & 0x07;
    bool valid = length > 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) {
      valid = (byte(i + k) & 0xC0) == 0x80;
      c = (c << 6) | (byte(i + k) & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either.
    if (valid && ((length == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) ||
                  (length == 4 && (c < 0x10000 || c > 0x10FFFF))))
      valid = false;
    if (!valid) {
      out.push_back(kEscapedByte + (b - 0x80));
      ++i;
      continue;
    }
    out.push_back(c);
    i += length;
  }
  return out;
}

std::string encode_utf8(std::u32string_view code_points) {
  std::string out;
  out.reserve(code_points.size());
  for (char32_t c : code_points) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c >= kEscapedByte && c <= kEscapedByte + 0x7F) {
      out += static_cast<char>(0x80 + (c - kEscapedByte));
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::string fold_case(std::string_view text) {
  auto code_points = decode_utf8(text);
  for (auto& c : code_points) c = fold_code_point(c);
  return encode_utf8(code_points);
}

}  // namespace cosync
