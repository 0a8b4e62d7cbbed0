#include <catch2/catch.hpp>

#include "daemon/util/case_fold.hpp"

using cosync::fold_case;

TEST_CASE("case fold: Latin-1, Latin Extended-A, Greek, Cyrillic and Armenian fold like the CRM compares") {
  CHECK(fold_case("MÜLLER GMBH") == fold_case("Müller GmbH"));
  CHECK(fold_case("MÜLLER GMBH") == "müller gmbh");
  CHECK(fold_case("ÆØÅ ÀÉÎÕÞ") == "æøå àéîõþ");
  CHECK(fold_case("ŁÓDŹ ŻUBRÓWKA ČEŠKÝ ŐRSÉG") == "łódź żubrówka češký őrség");
  CHECK(fold_case("ŸVES") == "ÿves");
  CHECK(fold_case("STRAẞE") == "straße");
  CHECK(fold_case("ΑΘΗΝΑ ΆΣΤΥ") == "αθηνα άστυ");
  CHECK(fold_case("ΟΔΟΣ") == fold_case("οδος"));  // final sigma folds to sigma
  CHECK(fold_case("ООО РОМАШКА ЁЖ ЇЖАК ҐАНОК") == "ооо ромашка ёж їжак ґанок");
  CHECK(fold_case("ԱՐԱՐԱՏ") == "արարատ");
  CHECK(fold_case("µ") == "μ");  // micro sign and Greek mu are one letter when folded
  // No simple folding: the Turkish dotted capital I, sharp s, characters without case.
  CHECK(fold_case("İ") == "İ");
  CHECK(fold_case("ß") == "ß");
  CHECK(fold_case("×÷ 株式会社 €") == "×÷ 株式会社 €");
}

TEST_CASE("case fold: invalid UTF-8 survives unchanged and decodes losslessly") {
  std::string bad = "A\xff\xc3(B\xe2\x82";  // a stray byte, a broken pair, a truncated triple
  CHECK(fold_case(bad) == "a\xff\xc3(b\xe2\x82");
  CHECK(cosync::encode_utf8(cosync::decode_utf8(bad)) == bad);
  std::string overlong = "\xc0\xaf\xed\xa0\x80";  // overlong '/', an encoded surrogate
  CHECK(cosync::decode_utf8(overlong).size() == 5);
  CHECK(cosync::encode_utf8(cosync::decode_utf8(overlong)) == overlong);
  CHECK(cosync::decode_utf8("Ü€😀") == U"Ü€😀");
}
