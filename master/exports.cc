#include "master/exports.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "common/goal.h"
#include "common/text_file.h"

namespace hafs::master {
namespace {

// An address as 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d); false when it is neither.
bool ParseAddress(std::string_view text, std::array<uint8_t, 16>* bytes, bool* is_v4) {
  std::string address(text);
  in_addr v4{};
  if (::inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    bytes->fill(0);
    (*bytes)[10] = (*bytes)[11] = 0xff;
    std::memcpy(bytes->data() + 12, &v4, 4);
    *is_v4 = true;
    return true;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
    std::memcpy(bytes->data(), &v6, 16);
    *is_v4 = false;
    return true;
  }
  return false;
}

bool ParseNumber(std::string_view text, uint32_t* value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

// "UID:GID" of a squash option.
bool ParseIds(std::string_view text, uint32_t* uid, uint32_t* gid) {
  size_t colon = text.find(':');
  return colon != std::string_view::npos && ParseNumber(text.substr(0, colon), uid) &&
         ParseNumber(text.substr(colon + 1), gid);
}

Status ApplyOption(std::string_view option, Export* line) {
  size_t equals = option.find('=');
  std::string_view name = option.substr(0, equals);
  std::string_view value = equals == std::string_view::npos ? std::string_view() : option.substr(equals + 1);
  bool has_value = equals != std::string_view::npos;
  auto bad = [&](const std::string& why) { return Status::Error(EINVAL, "option '" + std::string(option) + "': " + why); };
  if (name == "ro" || name == "rw") {
    if (has_value) return bad("takes no value");
    line->read_only = name == "ro";
  } else if (name == "root_squash" || name == "all_squash") {
    line->squash = name == "root_squash" ? Squash::kRoot : Squash::kAll;
    if (has_value && !ParseIds(value, &line->anonymous_uid, &line->anonymous_gid)) return bad("expected UID:GID");
  } else if (name == "goal") {
    size_t dash = value.find('-');
    if (dash == std::string_view::npos || !ParseNumber(value.substr(0, dash), &line->min_goal) ||
        !ParseNumber(value.substr(dash + 1), &line->max_goal) || !ValidGoal(line->min_goal) ||
        !ValidGoal(line->max_goal) || line->min_goal > line->max_goal) {
      return bad("expected MIN-MAX with 1 <= MIN <= MAX <= " + std::to_string(kMaxGoal));
    }
  } else if (name == "from") {
    auto range = AddressRange::Parse(value);
    if (!range) return bad(range.error().message());
    line->from.push_back(*range);
  } else {
    return bad("unknown (ro, rw, root_squash, all_squash, goal, from)");
  }
  return Status::Ok();
}

Result<Export> ParseLine(std::string_view line, const std::string& where) {
  Export parsed;
  parsed.source = where;
  std::vector<std::string_view> fields;
  while (!line.empty()) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    size_t end = line.find_first_of(" \t", start);
    fields.push_back(line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    line = end == std::string_view::npos ? std::string_view() : line.substr(end);
  }
  if (fields.size() < 2 || fields.size() > 3) return Fail(EINVAL, where + ": expected CLIENT SUBTREE [OPTIONS]");
  parsed.client = std::string(fields[0]);
  auto subtree = NormalSubtreePath(fields[1]);
  if (!subtree) {
    return Fail(EINVAL, where + ": the subtree '" + std::string(fields[1]) + "' is not an absolute path");
  }
  parsed.subtree = std::move(*subtree);
  std::string_view options = fields.size() == 3 ? fields[2] : std::string_view();
  while (!options.empty()) {
    size_t comma = options.find(',');
    std::string_view option = options.substr(0, comma);
    options = comma == std::string_view::npos ? std::string_view() : options.substr(comma + 1);
    if (option.empty()) continue;
    if (Status status = ApplyOption(option, &parsed); !status.ok()) return Fail(EINVAL, where + ": " + status.message());
  }
  return parsed;
}

}  // namespace

std::optional<std::string> NormalSubtreePath(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  std::string normal;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view name = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (name.empty()) continue;
    if (name == "." || name == "..") return std::nullopt;
    normal += "/";
    normal += name;
  }
  return normal.empty() ? "/" : normal;
}

Result<AddressRange> AddressRange::Parse(std::string_view text) {
  size_t slash = text.find('/');
  AddressRange range;
  bool is_v4 = false;
  if (!ParseAddress(text.substr(0, slash), &range.prefix_, &is_v4)) {
    return Fail(EINVAL, "'" + std::string(text) + "' is not an address or ADDRESS/BITS");
  }
  uint32_t bits = is_v4 ? 32 : 128;
  if (slash != std::string_view::npos && (!ParseNumber(text.substr(slash + 1), &bits) || bits > (is_v4 ? 32u : 128u))) {
    return Fail(EINVAL, "'" + std::string(text) + "' has a bad prefix length");
  }
  range.bits_ = static_cast<int>(is_v4 ? bits + 96 : bits);
  return range;
}

bool AddressRange::Contains(std::string_view address) const {
  std::array<uint8_t, 16> bytes{};
  bool is_v4 = false;
  if (!ParseAddress(address, &bytes, &is_v4)) return false;
  for (int bit = 0; bit < bits_; ++bit) {
    uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((bytes[bit / 8] & mask) != (prefix_[bit / 8] & mask)) return false;
  }
  return true;
}

bool Export::Admits(const std::string& key, const std::string& key_name, const std::string& address) const {
  bool named = client == "*" || (!key.empty() && client == key) || (!key_name.empty() && client == key_name);
  if (!named) return false;
  if (from.empty()) return true;
  for (const AddressRange& range : from) {
    if (range.Contains(address)) return true;
  }
  return false;
}

Result<Exports> Exports::Parse(std::string_view text, const std::string& source) {
  Exports exports;
  Status parsed = ForEachConfigLine(text, source, [&exports](std::string_view line, const std::string& where) {
    auto line_parsed = ParseLine(line, where);
    if (!line_parsed) return line_parsed.error();
    exports.lines_.push_back(std::move(*line_parsed));
    return Status::Ok();
  });
  if (!parsed.ok()) return Fail(parsed);
  return exports;
}

Result<Exports> Exports::Load(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text) return Fail(text.error());
  return Parse(*text, path);
}

Exports Exports::EveryClient() {
  Exports exports;
  Export everyone;
  everyone.client = "*";
  everyone.read_only = false;
  everyone.source = "built-in";
  exports.lines_.push_back(std::move(everyone));
  return exports;
}

std::vector<const Export*> Exports::For(const std::string& key, const std::string& key_name,
                                        const std::string& address) const {
  std::vector<const Export*> admitted;
  for (const Export& line : lines_) {
    if (line.Admits(key, key_name, address)) admitted.push_back(&line);
  }
  return admitted;
}

}  // namespace hafs::master
