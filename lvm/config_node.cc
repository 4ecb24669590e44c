// ConfigNode's typed accessors and the helpers that describe nodes in error messages.
#include <fmt/format.h>

#include "lvm/config_parser.h"

namespace thinpool::lvm {

std::string escape_for_message(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if ((u < 0x20 && c != '\t') || u >= 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

std::string describe_scalar(const ConfigScalar& scalar) {
  if (const auto* i = std::get_if<int64_t>(&scalar)) {
    return fmt::format("integer {}", *i);
  }
  if (const auto* d = std::get_if<double>(&scalar)) {
    return fmt::format("number {}", *d);
  }
  return fmt::format("string \"{}\"", escape_for_message(std::get<std::string>(scalar)));
}

std::string where(const ConfigNode& node) {
  return fmt::format("{} (line {}:{})", node.path, node.position.line, node.position.column);
}

Error missing(const ConfigNode& parent, std::string_view key) {
  return Error::parse(fmt::format("{}: missing \"{}\"",
                                  parent.path.empty() ? "top level" : parent.path,
                                  escape_for_message(key)));
}

}  // namespace

std::string describe_node(const ConfigNode& node) {
  if (node.is_section()) {
    return "a section";
  }
  if (node.value->is_array) {
    return fmt::format("an array of {} items", node.value->items.size());
  }
  if (node.value->items.empty()) {
    return "nothing";
  }
  return describe_scalar(node.value->items.front());
}

const ConfigNode* ConfigNode::find(std::string_view name) const {
  for (const ConfigNode& child : children) {
    if (child.key == name) {
      return &child;
    }
  }
  return nullptr;
}

Expected<int64_t> ConfigNode::get_int(std::string_view name) const {
  const ConfigNode* node = find(name);
  if (node == nullptr) {
    return missing(*this, name);
  }
  if (!node->is_section() && !node->value->is_array && node->value->items.size() == 1) {
    if (const auto* i = std::get_if<int64_t>(&node->value->items.front())) {
      return *i;
    }
  }
  return Error::parse(
      fmt::format("{}: expected an integer, found {}", where(*node), describe_node(*node)));
}

Expected<uint64_t> ConfigNode::get_uint(std::string_view name) const {
  Expected<int64_t> number = get_int(name);
  if (!number.ok()) {
    return number.error();
  }
  if (*number < 0) {
    return Error::parse(
        fmt::format("{}: expected a non-negative integer, found {}", where(*find(name)), *number));
  }
  return static_cast<uint64_t>(*number);
}

Expected<std::string> ConfigNode::get_string(std::string_view name) const {
  const ConfigNode* node = find(name);
  if (node == nullptr) {
    return missing(*this, name);
  }
  if (!node->is_section() && !node->value->is_array && node->value->items.size() == 1) {
    if (const auto* s = std::get_if<std::string>(&node->value->items.front())) {
      return *s;
    }
  }
  return Error::parse(
      fmt::format("{}: expected a string, found {}", where(*node), describe_node(*node)));
}

Expected<std::vector<std::string>> ConfigNode::get_string_list(std::string_view name) const {
  const ConfigNode* node = find(name);
  if (node == nullptr) {
    return missing(*this, name);
  }
  if (node->is_section()) {
    return Error::parse(
        fmt::format("{}: expected an array of strings, found a section", where(*node)));
  }
  std::vector<std::string> strings;
  for (size_t i = 0; i < node->value->items.size(); ++i) {
    const auto* s = std::get_if<std::string>(&node->value->items[i]);
    if (s == nullptr) {
      return Error::parse(fmt::format("{}: item {} is {}, expected a string", where(*node), i,
                                      describe_scalar(node->value->items[i])));
    }
    strings.push_back(*s);
  }
  return strings;
}

Expected<const ConfigNode*> ConfigNode::get_section(std::string_view name) const {
  const ConfigNode* node = find(name);
  if (node == nullptr) {
    return missing(*this, name);
  }
  if (!node->is_section()) {
    return Error::parse(
        fmt::format("{}: expected a section, found {}", where(*node), describe_node(*node)));
  }
  return node;
}

}  // namespace thinpool::lvm
