// A tiny JSON writer for the CLI's --json output: no library is installed, and the
// CLI only ever writes objects, arrays, strings and numbers. The caller keeps the
// structure balanced; the writer adds commas, quotes and escapes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hafs::cli {

class JsonWriter {
 public:
  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // The name of the next member of the current object.
  void Key(std::string_view name);

  void String(std::string_view value);
  void Int(int64_t value);
  void Uint(uint64_t value);
  // Fixed-point with `decimals` digits after the point (JSON has no NaN/Inf: those become null).
  void Double(double value, int decimals);
  void Bool(bool value);
  void Null();

  // Shorthands for "key": value.
  void Field(std::string_view name, std::string_view value) {
    Key(name);
    String(value);
  }
  void Field(std::string_view name, const char* value) {
    Key(name);
    String(value);
  }
  void Field(std::string_view name, uint64_t value) {
    Key(name);
    Uint(value);
  }
  void Field(std::string_view name, uint32_t value) {
    Key(name);
    Uint(value);
  }
  void Field(std::string_view name, int64_t value) {
    Key(name);
    Int(value);
  }

  const std::string& text() const { return text_; }

  // `value` as a JSON string literal, quotes included.
  static std::string Quote(std::string_view value);

 private:
  // Writes the separating comma when a value follows another in the same container.
  void BeforeValue();

  std::string text_;
  std::vector<bool> container_has_values_;  // one per open object/array
  bool after_key_ = false;
};

}  // namespace hafs::cli
