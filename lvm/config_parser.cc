#include "lvm/config_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "lvm/config_lexer.h"

namespace thinpool::lvm {
namespace {

// lvm2 writes at most five levels; anything this deep is garbage, and recursion must stay
// bounded on input read from disks.
constexpr int kMaxDepth = 64;

bool is_scalar(TokenKind kind) {
  return kind == TokenKind::kInt || kind == TokenKind::kFloat || kind == TokenKind::kString ||
         kind == TokenKind::kBareWord;
}

ConfigScalar scalar_of(Token&& token) {
  switch (token.kind) {
    case TokenKind::kInt:
      return token.int_value;
    case TokenKind::kFloat:
      return token.float_value;
    default:
      return std::move(token.text);
  }
}

class Parser {
 public:
  Parser(std::string_view text, const ClosedSectionHandler* handler,
         const SectionSizeHint* size_hint = nullptr)
      : lexer_(text), handler_(handler), size_hint_(size_hint) {}

  // The tree, or std::nullopt when a section handed over was opened again (see parse_config).
  Expected<std::optional<ConfigNode>> parse() {
    ConfigNode root;
    root.position = {1, 1};
    parents_.push_back(&root);
    Status status = parse_items(root, 0);
    if (reopened_) {
      return std::optional<ConfigNode>();
    }
    if (!status.ok()) {
      return status.error();
    }
    return std::optional<ConfigNode>(std::move(root));
  }

 private:
  // items := item* ; item := key ( '{' items '}' | '=' value )
  Status parse_items(ConfigNode& section, int depth) {
    const bool top_level = depth == 0;
    while (true) {
      Expected<Token> key = next(false);
      if (!key.ok()) {
        return key.error();
      }
      if (key->kind == TokenKind::kEnd) {
        if (top_level) {
          return {};
        }
        return error_at(*key, fmt::format("unexpected end of input: section \"{}\" opened at "
                                          "{}:{} is not closed (truncated metadata?)",
                                          escape_for_message(section.path), section.position.line,
                                          section.position.column));
      }
      if (key->kind == TokenKind::kSectionEnd) {
        if (top_level) {
          return error_at(*key, "unexpected '}' outside any section");
        }
        return {};
      }
      if (key->kind != TokenKind::kBareWord && key->kind != TokenKind::kString) {
        return error_at(*key,
                        fmt::format("expected a key or '}}', found {}", describe_token(*key)));
      }
      Expected<Token> after_key = next(false);
      if (!after_key.ok()) {
        return after_key.error();
      }
      if (after_key->kind == TokenKind::kSectionBegin) {
        if (depth + 1 >= kMaxDepth) {
          return error_at(*after_key, fmt::format("sections nested deeper than {}", kMaxDepth));
        }
        const size_t parents_before = parents_.size();
        Expected<ConfigNode*> child = find_or_make(section, *key, /*as_section=*/true);
        if (!child.ok()) {
          return child.error();
        }
        if (size_hint_ != nullptr && *size_hint_ && (*child)->children.empty()) {
          (*child)->children.reserve((*size_hint_)(parents_, **child));
        }
        parents_.push_back(*child);
        if (Status status = parse_items(**child, depth + 1); !status.ok()) {
          return status;
        }
        parents_.pop_back();
        hand_over(**child);
        parents_.resize(parents_before);
      } else if (after_key->kind == TokenKind::kEquals) {
        Expected<ConfigValue> value = parse_value(*key);
        if (!value.ok()) {
          return value.error();
        }
        const size_t parents_before = parents_.size();
        Expected<ConfigNode*> child = find_or_make(section, *key, /*as_section=*/false);
        if (!child.ok()) {
          return child.error();
        }
        parents_.resize(parents_before);
        (*child)->value = std::move(*value);
      } else {
        return error_at(*after_key,
                        fmt::format("expected '=' or '{{' after key \"{}\", found {}",
                                    escape_for_message(key->text), describe_token(*after_key)));
      }
    }
  }

  // value := '[' (scalar ','?)* ']' | scalar
  Expected<ConfigValue> parse_value(const Token& key) {
    Expected<Token> token = next(true);
    if (!token.ok()) {
      return token.error();
    }
    ConfigValue value;
    if (is_scalar(token->kind)) {
      value.items.push_back(scalar_of(std::move(*token)));
      return value;
    }
    if (token->kind != TokenKind::kArrayBegin) {
      return error_at(*token, fmt::format("expected a value after \"{} =\", found {}",
                                          escape_for_message(key.text), describe_token(*token)));
    }
    value.is_array = true;
    const Token open = *token;
    bool comma_allowed = false;
    while (true) {
      token = next(true);
      if (!token.ok()) {
        return token.error();
      }
      if (token->kind == TokenKind::kArrayEnd) {
        return value;
      }
      if (token->kind == TokenKind::kComma && comma_allowed) {
        comma_allowed = false;
        continue;
      }
      if (is_scalar(token->kind)) {
        value.items.push_back(scalar_of(std::move(*token)));
        comma_allowed = true;
        continue;
      }
      if (token->kind == TokenKind::kEnd) {
        return error_at(*token, fmt::format("unexpected end of input: array \"{}\" opened at "
                                            "{}:{} is not closed (truncated metadata?)",
                                            escape_for_message(key.text), open.position.line,
                                            open.position.column));
      }
      return error_at(*token, fmt::format("expected an array item or ']' in \"{}\", found {}",
                                          escape_for_message(key.text), describe_token(*token)));
    }
  }

  // Offers a section that just closed to the handler; frees its items if the handler took them.
  void hand_over(ConfigNode& section) {
    if (handler_ == nullptr || (*handler_)(parents_, section) != SectionHandover::kTaken) {
      return;
    }
    indexes_.erase(section.path);
    std::vector<ConfigNode>().swap(section.children);
    std::string().swap(section.path);
    section.handed_over = true;
  }

  // The node `key` names below `section` (a key "a/b" names b in section a), made if missing.
  // Sections named on the way (a) are added to parents_, for the handler.
  Expected<ConfigNode*> find_or_make(ConfigNode& section, const Token& key, bool as_section) {
    std::string_view rest = key.text;
    ConfigNode* parent = &section;
    bool found_component = false;
    while (true) {
      while (!rest.empty() && rest.front() == '/') {
        rest.remove_prefix(1);
      }
      if (rest.empty()) {
        break;
      }
      const size_t slash = rest.find('/');
      const std::string_view name = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
      const bool last = rest.find_first_not_of('/') == std::string_view::npos;
      const bool want_section = as_section || !last;
      found_component = true;

      if (parent != &section) {
        parents_.push_back(parent);
      }
      ConfigNode* child = find_child(*parent, name);
      if (child == nullptr) {
        ConfigNode made;
        made.key = std::string(name);
        made.path = parent->path.empty() ? made.key : parent->path + "/" + made.key;
        made.position = key.position;
        parent->children.push_back(std::move(made));
        child = &parent->children.back();
        if (parent->children.size() >= kIndexFrom) {
          index_of(*parent);
        }
        if (!want_section) {
          child->value = ConfigValue{};  // filled in by the caller
        }
      } else if (child->is_section() != want_section) {
        // The path of a section handed over is gone; the parent's is still there.
        const std::string path =
            parent->path.empty() ? child->key : fmt::format("{}/{}", parent->path, child->key);
        return error_at(key, fmt::format("\"{}\" is used both as a section (name {{ ... }}) and "
                                         "as a setting (name = value)",
                                         escape_for_message(path)));
      } else if (child->handed_over) {
        reopened_ = true;  // its items are gone: parse() gives up, the caller parses it whole
        return error_at(key, "a section handed over is opened again");
      } else if (!want_section) {
        child->position = key.position;  // a repeated setting: the last one wins, as in lvm2
      }
      parent = child;
    }
    if (!found_component) {
      return error_at(key, "empty key");
    }
    return parent;
  }

  // A section's children are found by a linear search while it has few, by an index once it has
  // many: a VG with 10,000 LVs has 10,000 children in logical_volumes, and a search per new LV
  // made the parse quadratic (0.23 s at 10,000 thin LVs, 5.6 ms at 1,000).
  static constexpr size_t kIndexFrom = 16;

  // The positions of a section's children in a table probed by the hash of their keys (open
  // addressing, at most half full): a 4-byte slot per child and no copy of its key, where a map
  // of the keys held about 140 bytes per child at the parse's peak (1.4 MB at 10,000 LVs).
  class ChildIndex {
   public:
    // Indexes the children of `children` not indexed yet.
    void catch_up(const std::vector<ConfigNode>& children) {
      if (children.size() * 2 > slots_.size()) {
        size_t size = std::max<size_t>(64, slots_.size());
        while (children.size() * 2 > size) {
          size *= 2;
        }
        std::vector<uint32_t>(size, kEmpty).swap(slots_);
        indexed_ = 0;
      }
      for (; indexed_ < children.size(); ++indexed_) {
        size_t slot = first_slot(children[indexed_].key);
        while (slots_[slot] != kEmpty) {
          slot = (slot + 1) & (slots_.size() - 1);
        }
        slots_[slot] = static_cast<uint32_t>(indexed_);
      }
    }
    // The position of the child called `key`, or nullopt.
    std::optional<size_t> find(const std::vector<ConfigNode>& children,
                               std::string_view key) const {
      for (size_t slot = first_slot(key);; slot = (slot + 1) & (slots_.size() - 1)) {
        if (slots_[slot] == kEmpty) {
          return std::nullopt;
        }
        if (children[slots_[slot]].key == key) {
          return slots_[slot];
        }
      }
    }

   private:
    static constexpr uint32_t kEmpty = UINT32_MAX;
    size_t first_slot(std::string_view key) const {
      return std::hash<std::string_view>()(key) & (slots_.size() - 1);
    }
    std::vector<uint32_t> slots_;  // positions in children, or kEmpty; a power of two in size
    size_t indexed_ = 0;           // children[0, indexed_) are in slots_
  };

  // The index of `section`'s children by key, made on first use and brought up to date with its
  // children. Keyed by the section's path, which names one node of the tree (sections named
  // twice are merged).
  const ChildIndex& index_of(const ConfigNode& section) {
    ChildIndex& index = indexes_[section.path];
    index.catch_up(section.children);
    return index;
  }

  ConfigNode* find_child(ConfigNode& section, std::string_view name) {
    if (section.children.size() < kIndexFrom) {
      for (ConfigNode& candidate : section.children) {
        if (candidate.key == name) {
          return &candidate;
        }
      }
      return nullptr;
    }
    const std::optional<size_t> found = index_of(section).find(section.children, name);
    return found ? &section.children[*found] : nullptr;
  }

  Expected<Token> next(bool value_context) { return lexer_.next(value_context); }
  Error error_at(const Token& token, std::string_view message) const {
    return lexer_.error_at(token, message);
  }

  ConfigLexer lexer_;
  const ClosedSectionHandler* handler_;
  const SectionSizeHint* size_hint_;
  // The open sections, the root first, and those named on the way by a key "a/b".
  std::vector<const ConfigNode*> parents_;
  bool reopened_ = false;
  std::unordered_map<std::string, ChildIndex> indexes_;
};

}  // namespace

Expected<ConfigNode> parse_config(std::string_view text) {
  Expected<std::optional<ConfigNode>> tree = Parser(text, nullptr).parse();
  if (!tree.ok()) {
    return tree.error();
  }
  return std::move(**tree);  // never std::nullopt: nothing is handed over
}

Expected<std::optional<ConfigNode>> parse_config(std::string_view text,
                                                 const ClosedSectionHandler& handler,
                                                 const SectionSizeHint& size_hint) {
  return Parser(text, &handler, &size_hint).parse();
}

}  // namespace thinpool::lvm
