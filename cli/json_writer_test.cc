#include "cli/json_writer.h"

#include <gtest/gtest.h>

namespace hafs::cli {
namespace {

TEST(JsonWriterTest, NestedContainersGetCommas) {
  JsonWriter json;
  json.BeginObject();
  json.Key("list");
  json.BeginArray();
  json.Uint(1);
  json.BeginObject();
  json.Field("a", "x");
  json.Field("b", int64_t{-2});
  json.EndObject();
  json.BeginArray();
  json.EndArray();
  json.EndArray();
  json.Key("empty");
  json.BeginObject();
  json.EndObject();
  json.Key("flag");
  json.Bool(true);
  json.Key("nothing");
  json.Null();
  json.EndObject();
  EXPECT_EQ(json.text(), R"({"list":[1,{"a":"x","b":-2},[]],"empty":{},"flag":true,"nothing":null})");
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonWriter::Quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(JsonWriter::Quote("line\nnext\ttab\r"), R"("line\nnext\ttab\r")");
  EXPECT_EQ(JsonWriter::Quote(std::string("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(JsonWriter::Quote("rack=r1 \xc3\xa9"), "\"rack=r1 \xc3\xa9\"");  // UTF-8 kept
  EXPECT_EQ(JsonWriter::Quote(std::string("a\0b", 3)), R"("a\u0000b")");
}

TEST(JsonWriterTest, EscapesKeys) {
  JsonWriter json;
  json.BeginObject();
  json.Field("we\"ird", uint64_t{18446744073709551615ULL});
  json.EndObject();
  EXPECT_EQ(json.text(), R"({"we\"ird":18446744073709551615})");
}

TEST(JsonWriterTest, DoublesAreFixedPointAndNonFiniteIsNull) {
  JsonWriter json;
  json.BeginArray();
  json.Double(1.25, 1);
  json.Double(3.0, 0);
  json.Double(1.0 / 0.0, 2);
  json.EndArray();
  EXPECT_EQ(json.text(), "[1.2,3,null]");
}

}  // namespace
}  // namespace hafs::cli
