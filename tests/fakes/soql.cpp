#include "tests/fakes/soql.hpp"

#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <stdexcept>

#include "daemon/util/case_fold.hpp"
#include "daemon/util/time.hpp"

namespace cosync::fakes {

using nlohmann::json;

namespace {

struct Token {
  enum class Kind { word, literal, op, comma, lparen, rparen, end };
  Kind kind = Kind::end;
  std::string text;     // words and operators as written
  SoqlLiteral literal;  // literals
};

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_date(std::string_view s) {
  return s.size() == 10 && s[4] == '-' && s[7] == '-' && parse_iso8601(std::string(s) + "T00:00:00Z").has_value();
}

// An unquoted literal that starts with a digit or '-': number, date or datetime.
SoqlLiteral classify_bare(const std::string& text) {
  SoqlLiteral lit;
  if (text.find('T') != std::string::npos) {
    auto t = parse_iso8601(text);
    if (!t) throw ParseError("invalid datetime literal '" + text + "'");
    lit.kind = SoqlLiteral::Kind::datetime;
    lit.value = text;
    lit.time = t;
    return lit;
  }
  if (is_date(text)) {
    lit.kind = SoqlLiteral::Kind::date;
    lit.value = text;
    return lit;
  }
  double number = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || p != text.data() + text.size()) throw ParseError("unexpected token '" + text + "'");
  lit.kind = SoqlLiteral::Kind::number;
  lit.value = number;
  return lit;
}

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == ',' || c == '(' || c == ')') {
      Token t;
      t.kind = c == ',' ? Token::Kind::comma : c == '(' ? Token::Kind::lparen : Token::Kind::rparen;
      t.text = std::string(1, c);
      out.push_back(t);
      ++i;
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
      Token t;
      t.kind = Token::Kind::op;
      if (i + 1 < s.size() && s[i + 1] == '=') {
        t.text = std::string(s.substr(i, 2));
        i += 2;
      } else {
        if (c == '!') throw ParseError("unexpected '!'");
        t.text = std::string(1, c);
        ++i;
      }
      out.push_back(t);
    } else if (c == '\'') {
      std::string value;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          char e = s[i + 1];
          if (e == '%' || e == '_') value += '\\';  // kept escaped: only LIKE gives them a meaning
          value += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
          i += 2;
        } else if (s[i] == '\'') {
          closed = true;
          ++i;
          break;
        } else {
          value += s[i++];
        }
      }
      if (!closed) throw ParseError("unterminated string literal");
      Token t;
      t.kind = Token::Kind::literal;
      t.literal.kind = SoqlLiteral::Kind::string;
      t.literal.value = value;
      out.push_back(t);
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+') {
      size_t start = i++;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == ':' ||
                              s[i] == '+' || s[i] == '-'))
        ++i;
      Token t;
      t.kind = Token::Kind::literal;
      t.literal = classify_bare(std::string(s.substr(start, i - start)));
      out.push_back(t);
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = i;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '.')) ++i;
      Token t;
      t.kind = Token::Kind::word;
      t.text = std::string(s.substr(start, i - start));
      std::string u = upper(t.text);
      if (u == "TODAY") {
        t.kind = Token::Kind::literal;
        t.literal.kind = SoqlLiteral::Kind::today;
        t.literal.value = "TODAY";
      } else if (u == "NULL" || u == "TRUE" || u == "FALSE") {
        t.kind = Token::Kind::literal;
        t.literal.kind = u == "NULL" ? SoqlLiteral::Kind::null : SoqlLiteral::Kind::boolean;
        t.literal.value = u == "NULL" ? json() : json(u == "TRUE");
      }
      out.push_back(t);
    } else {
      throw ParseError(std::string("unexpected character '") + c + "'");
    }
  }
  out.push_back(Token{});
  return out;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  SoqlQuery parse() {
    SoqlQuery q;
    expect_keyword("SELECT");
    do {
      if (accept(Token::Kind::lparen)) q.children.push_back(child_query());
      else q.fields.push_back(field_name());
    } while (accept(Token::Kind::comma));
    expect_keyword("FROM");
    q.object = field_name();
    if (accept_keyword("WHERE")) q.where = or_expr();
    if (accept_keyword("ORDER")) {
      expect_keyword("BY");
      do {
        SoqlOrder order;
        order.field = field_name();
        if (accept_keyword("DESC")) order.descending = true;
        else accept_keyword("ASC");
        if (accept_keyword("NULLS")) {
          if (accept_keyword("FIRST")) order.nulls_first = true;
          else if (accept_keyword("LAST")) order.nulls_first = false;
          else throw ParseError("expected FIRST or LAST after NULLS");
        }
        q.order_by.push_back(order);
      } while (accept(Token::Kind::comma));
    }
    if (accept_keyword("LIMIT")) q.limit = integer("LIMIT");
    if (accept_keyword("OFFSET")) q.offset = integer("OFFSET");
    if (peek().kind != Token::Kind::end) throw ParseError("unexpected token '" + describe(peek()) + "'");
    return q;
  }

 private:
  // After its '(': SELECT fields FROM Relationship [WHERE cond] ).
  SoqlChildQuery child_query() {
    SoqlChildQuery c;
    expect_keyword("SELECT");
    do c.fields.push_back(field_name());
    while (accept(Token::Kind::comma));
    expect_keyword("FROM");
    c.relationship = field_name();
    if (accept_keyword("WHERE")) c.where = or_expr();
    if (!accept(Token::Kind::rparen)) throw ParseError("expected ')' to close the subquery but found '" + describe(peek()) + "'");
    return c;
  }

  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

  static std::string describe(const Token& t) {
    if (t.kind == Token::Kind::end) return "end of query";
    if (t.kind == Token::Kind::literal) return t.literal.value.dump();
    return t.text;
  }

  bool is_keyword(const Token& t, std::string_view kw) const { return t.kind == Token::Kind::word && upper(t.text) == kw; }
  bool accept_keyword(std::string_view kw) {
    if (!is_keyword(peek(), kw)) return false;
    ++pos_;
    return true;
  }
  void expect_keyword(std::string_view kw) {
    if (!accept_keyword(kw))
      throw ParseError("expected " + std::string(kw) + " but found '" + describe(peek()) + "'");
  }
  bool accept(Token::Kind kind) {
    if (peek().kind != kind) return false;
    ++pos_;
    return true;
  }
  std::string field_name() {
    static const char* reserved[] = {"SELECT", "FROM", "WHERE", "AND", "OR",     "NOT",
                                     "ORDER",  "BY",   "LIMIT", "OFFSET", "IN", "LIKE"};
    const Token& t = peek();
    if (t.kind != Token::Kind::word) throw ParseError("expected a name but found '" + describe(t) + "'");
    for (auto* r : reserved)
      if (upper(t.text) == r) throw ParseError("unexpected keyword '" + t.text + "'");
    return next().text;
  }
  long integer(std::string_view what) {
    const Token& t = next();
    if (t.kind != Token::Kind::literal || t.literal.kind != SoqlLiteral::Kind::number || t.literal.value.get<double>() < 0)
      throw ParseError(std::string(what) + " needs a non-negative integer");
    return static_cast<long>(t.literal.value.get<double>());
  }
  SoqlLiteral literal() {
    const Token& t = next();
    if (t.kind != Token::Kind::literal) throw ParseError("expected a value but found '" + describe(t) + "'");
    return t.literal;
  }

  SoqlExpr or_expr() { return joined("OR", SoqlExpr::Kind::any_of, &Parser::and_expr); }
  SoqlExpr and_expr() { return joined("AND", SoqlExpr::Kind::all_of, &Parser::factor); }
  // `operand` (keyword operand)*: one operand alone, or a `kind` node over them all.
  SoqlExpr joined(const char* keyword, SoqlExpr::Kind kind, SoqlExpr (Parser::*operand)()) {
    SoqlExpr first = (this->*operand)();
    if (!is_keyword(peek(), keyword)) return first;
    SoqlExpr node{kind, {}, {}, {}, {std::move(first)}};
    while (accept_keyword(keyword)) node.children.push_back((this->*operand)());
    return node;
  }
  SoqlExpr factor() {
    if (accept(Token::Kind::lparen)) {
      SoqlExpr inner = or_expr();
      if (!accept(Token::Kind::rparen)) throw ParseError("expected ')'");
      return inner;
    }
    if (accept_keyword("NOT")) return SoqlExpr{SoqlExpr::Kind::negate, {}, {}, {}, {factor()}};
    SoqlExpr cond;
    cond.field = field_name();
    bool negated = accept_keyword("NOT");
    if (accept_keyword("IN")) {
      cond.kind = negated ? SoqlExpr::Kind::not_in : SoqlExpr::Kind::in;
      if (!accept(Token::Kind::lparen)) throw ParseError("expected '(' after IN");
      do cond.values.push_back(literal());
      while (accept(Token::Kind::comma));
      if (!accept(Token::Kind::rparen)) throw ParseError("expected ')' after the IN list");
      return cond;
    }
    if (negated) throw ParseError("expected IN after NOT");
    if (accept_keyword("LIKE")) {
      cond.op = "LIKE";
      cond.values.push_back(literal());
      if (cond.values.back().kind != SoqlLiteral::Kind::string) throw ParseError("LIKE needs a string");
      return cond;
    }
    const Token& op = next();
    if (op.kind != Token::Kind::op) throw ParseError("expected an operator after " + cond.field);
    cond.op = op.text;
    cond.values.push_back(literal());
    return cond;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Salesforce: "For all other fields, comparisons are case-insensitive and use the locale of the
// user who executes the query" (SOQL and SOSL Reference, Comparison Operators,
// https://developer.salesforce.com/docs/platform/salesforce-soql-sosl/guide/sforce-api-calls-soql-select-comparisonoperators.html).
// The fake's user has an English locale: each character compares as the lower case of its upper
// case in glibc's C.UTF-8 (all of Unicode: fullwidth Latin, Deseret, Georgian too), which is not
// the daemon's own fold_case, so a test can show where the two differ.
char32_t fold_like_salesforce(char32_t c) {
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
  if (!utf8) return fold_code_point(c);  // no C.UTF-8 locale on this machine: the nearest we have
  return static_cast<char32_t>(towlower_l(towupper_l(static_cast<wint_t>(c), utf8), utf8));
}

std::u32string folded(std::string_view text) {
  auto code_points = decode_utf8(text);
  for (auto& c : code_points) c = fold_like_salesforce(c);
  return code_points;
}

int icompare(const std::string& a, const std::string& b) {
  if (!is_ascii(a) || !is_ascii(b)) {
    auto fa = folded(a), fb = folded(b);
    return fa == fb ? 0 : fa < fb ? -1 : 1;
  }
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    int ca = std::tolower(static_cast<unsigned char>(a[i]));
    int cb = std::tolower(static_cast<unsigned char>(b[i]));
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : a.size() < b.size() ? -1 : 1;
}

// Three-way comparison of two JSON values of the same kind; nullopt when not comparable.
// Strings compare as times when both are timestamps, otherwise case-insensitively (as SOQL does).
std::optional<int> compare_json(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_boolean() && b.is_boolean()) return a == b ? 0 : a.get<bool>() ? 1 : -1;
  if (a.is_string() && b.is_string()) {
    auto sa = a.get<std::string>(), sb = b.get<std::string>();
    auto ta = parse_iso8601(sa), tb = parse_iso8601(sb);
    if (ta && tb) return *ta < *tb ? -1 : *ta > *tb ? 1 : 0;
    return icompare(sa, sb);
  }
  return std::nullopt;
}

std::optional<int> compare_literal(const json& value, const SoqlLiteral& lit) {
  if (lit.kind == SoqlLiteral::Kind::today && !lit.time) return std::nullopt;  // not resolved: no match
  if (lit.kind == SoqlLiteral::Kind::datetime || lit.kind == SoqlLiteral::Kind::today) {
    if (!value.is_string()) return std::nullopt;
    auto t = parse_iso8601(value.get<std::string>());
    if (!t) return std::nullopt;
    return *t < *lit.time ? -1 : *t > *lit.time ? 1 : 0;
  }
  return compare_json(value, lit.value);
}

// SOQL LIKE: case-insensitive as `=` is, % any run, _ one character, backslash escapes either.
// Works on folded code points, so that _ matches one character, not one byte of it.
bool like_matches(std::u32string_view text, std::u32string_view pattern) {
  if (pattern.empty()) return text.empty();
  if (pattern[0] == U'%') {
    for (size_t skip = 0; skip <= text.size(); ++skip)
      if (like_matches(text.substr(skip), pattern.substr(1))) return true;
    return false;
  }
  if (text.empty()) return false;
  if (pattern[0] == U'_') return like_matches(text.substr(1), pattern.substr(1));
  size_t width = pattern[0] == U'\\' && pattern.size() > 1 ? 2 : 1;
  if (pattern[width - 1] != text[0]) return false;
  return like_matches(text.substr(1), pattern.substr(width));
}

bool like_matches(const std::string& text, const std::string& pattern) {
  return like_matches(std::u32string_view(folded(text)), std::u32string_view(folded(pattern)));
}

bool compare_holds(const json& value, const std::string& op, const SoqlLiteral& lit) {
  if (op == "LIKE") return value.is_string() && like_matches(value.get<std::string>(), lit.value.get<std::string>());
  bool is_null = value.is_null();
  if (lit.kind == SoqlLiteral::Kind::null) {
    if (op == "=") return is_null;
    if (op == "!=") return !is_null;
    return false;
  }
  if (is_null) return op == "!=";
  auto c = compare_literal(value, lit);
  if (!c) return op == "!=";
  if (op == "=") return *c == 0;
  if (op == "!=") return *c != 0;
  if (op == "<") return *c < 0;
  if (op == "<=") return *c <= 0;
  if (op == ">") return *c > 0;
  if (op == ">=") return *c >= 0;
  return false;
}

const json& field_of(const json& record, const std::string& field) {
  static const json null_value;
  auto it = record.find(field);
  return it == record.end() ? null_value : *it;
}

}  // namespace

std::vector<std::string*> SoqlQuery::field_refs() {
  std::vector<std::string*> refs;
  for (auto& f : fields) refs.push_back(&f);
  std::function<void(SoqlExpr&)> walk = [&](SoqlExpr& e) {
    if (!e.field.empty()) refs.push_back(&e.field);
    for (auto& c : e.children) walk(c);
  };
  if (where) walk(*where);
  for (auto& o : order_by) refs.push_back(&o.field);
  return refs;
}

std::variant<SoqlQuery, std::string> parse_soql(std::string_view text) {
  try {
    return Parser(tokenize(text)).parse();
  } catch (const ParseError& e) {
    return std::string(e.what());
  }
}

void soql_resolve_today(SoqlExpr& expr, TimePoint midnight) {
  for (auto& v : expr.values)
    if (v.kind == SoqlLiteral::Kind::today) v.time = midnight;
  for (auto& c : expr.children) soql_resolve_today(c, midnight);
}

bool soql_matches(const SoqlExpr& expr, const json& record) {
  switch (expr.kind) {
    case SoqlExpr::Kind::compare:
      return compare_holds(field_of(record, expr.field), expr.op, expr.values.front());
    case SoqlExpr::Kind::in:
    case SoqlExpr::Kind::not_in: {
      bool found = false;
      for (const auto& v : expr.values) found = found || compare_holds(field_of(record, expr.field), "=", v);
      return expr.kind == SoqlExpr::Kind::in ? found : !found;
    }
    case SoqlExpr::Kind::all_of:
      for (const auto& c : expr.children)
        if (!soql_matches(c, record)) return false;
      return true;
    case SoqlExpr::Kind::any_of:
      for (const auto& c : expr.children)
        if (soql_matches(c, record)) return true;
      return false;
    case SoqlExpr::Kind::negate:
      return !soql_matches(expr.children.front(), record);
  }
  return false;
}

bool soql_before(const std::vector<SoqlOrder>& order, const json& a, const json& b) {
  for (const auto& o : order) {
    const json& va = field_of(a, o.field);
    const json& vb = field_of(b, o.field);
    bool nulls_first = o.nulls_first.value_or(!o.descending);
    if (va.is_null() != vb.is_null()) return va.is_null() == nulls_first;
    if (va.is_null()) continue;
    auto c = compare_json(va, vb);
    if (!c || *c == 0) continue;
    return o.descending ? *c > 0 : *c < 0;
  }
  return false;
}

}  // namespace cosync::fakes
