#include "master/directory.h"

#include <cstdlib>

namespace hafs::master {

CompactName::CompactName(std::string_view name) : length_(static_cast<uint8_t>(name.size())) {
  if (!on_heap()) {
    std::memcpy(bytes_, name.data(), name.size());
    return;
  }
  char* copy = static_cast<char*>(std::malloc(name.size()));
  std::memcpy(copy, name.data(), name.size());
  std::memcpy(bytes_, &copy, sizeof copy);
}

CompactName::CompactName(CompactName&& other) noexcept : length_(other.length_) {
  std::memcpy(bytes_, other.bytes_, kInlineBytes);
  other.length_ = 0;  // the heap block, if any, now belongs to this name
}

CompactName::~CompactName() {
  if (on_heap()) std::free(heap());
}

char* CompactName::heap() const {
  char* pointer;
  std::memcpy(&pointer, bytes_, sizeof pointer);
  return pointer;
}

std::string_view CompactName::view() const {
  return on_heap() ? std::string_view(heap(), length_) : std::string_view(bytes_, length_);
}

}  // namespace hafs::master
