// Renders docs/runbook.md into the page the exporter serves at /runbook, at build time: a C++ file
// that defines runbook_page() (exporter/http_server.h) as the whole HTML page.
//
// Usage: make_runbook_page RUNBOOK.md OUTPUT.cc VERSION
//
// Markdown through cmark (the CommonMark reference implementation), with its defaults: raw HTML is
// left out (the runbook's only HTML is its `<!-- runbook-test: NAME -->` markers), code blocks are
// written verbatim. Every heading gets the id GitHub gives it, so an alert's section is
// #<alert name in lower case> (what every runbook_url ends with) and the runbook's own #links
// resolve. A link that leaves the page (a repository file such as ../alerts/thinpool_alerts.yml, a
// web address) cannot be assumed to open where the exporter runs, air-gapped sites included: it
// becomes its text, followed by the target in <code>.
#include <cmark.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "base/text.h"

namespace {

using thinpool::html_escape;

constexpr std::string_view kSelf = "docs/runbook.md";

using NodePtr = std::unique_ptr<cmark_node, decltype(&cmark_node_free)>;

// The text of a node and its descendants, as a heading's slug or a link's label sees it.
std::string text_of(cmark_node* node) {
  std::string text;
  for (cmark_node* child = cmark_node_first_child(node); child != nullptr;
       child = cmark_node_next(child)) {
    switch (cmark_node_get_type(child)) {
      case CMARK_NODE_TEXT:
      case CMARK_NODE_CODE:
        text += cmark_node_get_literal(child);
        break;
      case CMARK_NODE_SOFTBREAK:
      case CMARK_NODE_LINEBREAK:
        text += ' ';
        break;
      default:
        text += text_of(child);
    }
  }
  return text;
}

// GitHub's heading anchors: lower case; letters, digits, '-' and '_' kept (bytes of non-ASCII
// letters too), spaces become '-', other punctuation is dropped; the second "Meaning" is
// "meaning-1".
std::string github_slug(const std::string& heading, std::map<std::string, int>& seen) {
  std::string slug;
  for (unsigned char c : heading) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c >= 0x80) {
      slug += static_cast<char>(std::tolower(c));
    } else if (c == ' ') {
      slug += '-';
    }
  }
  int& count = seen[slug];
  std::string unique = count == 0 ? slug : slug + "-" + std::to_string(count);
  ++count;
  return unique;
}

// A link's target as a path in the repository, for a relative one (the runbook is in docs/):
// "deployment.md" -> "docs/deployment.md", "../alerts/x.yml" -> "alerts/x.yml". Addresses with a
// scheme stay as they are.
std::string target_text(const std::string& url) {
  if (url.find("://") != std::string::npos || url.starts_with("mailto:") || url.starts_with("/")) {
    return url;
  }
  std::vector<std::string> parts = {"docs"};
  std::stringstream segments(url);
  for (std::string segment; std::getline(segments, segment, '/');) {
    if (segment == "..") {
      if (!parts.empty()) {
        parts.pop_back();
      }
    } else if (!segment.empty() && segment != ".") {
      parts.push_back(segment);
    }
  }
  std::string path;
  for (const std::string& part : parts) {
    path += (path.empty() ? "" : "/") + part;
  }
  return path;
}

// cmark writes a heading as <hN>, without attributes: the ids go in afterwards, in document order.
// Nothing else in the output can read "<hN>": text and code are escaped, raw HTML is left out.
std::string with_heading_ids(const std::string& html, const std::vector<std::string>& ids) {
  std::string out;
  size_t next = 0;
  size_t pos = 0;
  for (size_t at; (at = html.find("<h", pos)) != std::string::npos;) {
    out.append(html, pos, at + 2 - pos);
    pos = at + 2;
    if (pos + 1 < html.size() && html[pos] >= '1' && html[pos] <= '6' && html[pos + 1] == '>' &&
        next < ids.size()) {
      out += html[pos++];
      out += " id=\"" + html_escape(ids[next++]) + "\"";
    }
  }
  out.append(html, pos);
  if (next != ids.size()) {
    std::cerr << "make_runbook_page: " << ids.size() << " headings but " << next
              << " <hN> tags in cmark's output\n";
    std::exit(1);
  }
  return out;
}

// A link out of the page becomes its label followed by " (<code>target</code>)", or only the
// target in <code> when the label is the target already.
void unlink(cmark_node* link) {
  const std::string url = cmark_node_get_url(link);
  const std::string target = target_text(url);
  const std::string label = text_of(link);
  if (label.empty() || label == url || label == target) {
    cmark_node* code = cmark_node_new(CMARK_NODE_CODE);
    cmark_node_set_literal(code, target.c_str());
    cmark_node_replace(link, code);
    cmark_node_free(link);
    return;
  }
  while (cmark_node* child = cmark_node_first_child(link)) {
    cmark_node_insert_before(link, child);
  }
  cmark_node* open = cmark_node_new(CMARK_NODE_TEXT);
  cmark_node_set_literal(open, " (");
  cmark_node* code = cmark_node_new(CMARK_NODE_CODE);
  cmark_node_set_literal(code, target.c_str());
  cmark_node* close = cmark_node_new(CMARK_NODE_TEXT);
  cmark_node_set_literal(close, ")");
  for (cmark_node* node : {open, code, close}) {
    cmark_node_insert_before(link, node);
  }
  cmark_node_free(link);
}

// The ids of the headings, in document order; links out of the page are unlinked; a link to this
// runbook by its file name ("runbook.md#grow-data") becomes the in-page "#grow-data". Warns about a
// #link that no heading has (the browser test fails on it).
std::vector<std::string> prepare(cmark_node* document) {
  std::vector<cmark_node*> headings;
  std::vector<cmark_node*> links;
  cmark_iter* iter = cmark_iter_new(document);
  for (cmark_event_type event; (event = cmark_iter_next(iter)) != CMARK_EVENT_DONE;) {
    cmark_node* node = cmark_iter_get_node(iter);
    if (event != CMARK_EVENT_ENTER) {
      continue;
    }
    if (cmark_node_get_type(node) == CMARK_NODE_HEADING) {
      headings.push_back(node);
    } else if (cmark_node_get_type(node) == CMARK_NODE_LINK ||
               cmark_node_get_type(node) == CMARK_NODE_IMAGE) {
      links.push_back(node);
    }
  }
  cmark_iter_free(iter);
  std::map<std::string, int> seen;
  std::vector<std::string> ids;
  ids.reserve(headings.size());
  for (cmark_node* heading : headings) {
    ids.push_back(github_slug(text_of(heading), seen));
  }
  const std::set<std::string> known(ids.begin(), ids.end());
  for (cmark_node* link : links) {
    std::string url = cmark_node_get_url(link);
    const size_t hash = url.find('#');
    if (hash != std::string::npos && hash != 0 && target_text(url.substr(0, hash)) == kSelf) {
      url = url.substr(hash);
      cmark_node_set_url(link, url.c_str());
    }
    if (!url.starts_with("#") || cmark_node_get_type(link) == CMARK_NODE_IMAGE) {
      unlink(link);
    } else if (known.count(url.substr(1)) == 0) {
      std::cerr << "make_runbook_page: warning: no heading has the id of the link " << url << "\n";
    }
  }
  return ids;
}

// `text` as the body of a C++ string literal: octal escapes for everything but printable ASCII
// (three digits, so a digit that follows cannot extend one).
std::string cxx_literal(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f || c == '?') {
      char escaped[5];
      std::snprintf(escaped, sizeof(escaped), "\\%03o", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

constexpr std::string_view kStyle =
    R"(body { font: 16px/1.5 system-ui, sans-serif; color: #1f2328; max-width: 62rem;
  margin: 0 auto; padding: 0 1rem 4rem; }
nav { padding: .75rem 0; border-bottom: 1px solid #d0d7de; }
a { color: #0969da; }
h1, h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
h2 { margin-top: 2.5rem; }
:target { background: #fff8c5; }
code, pre { font: 14px/1.45 ui-monospace, monospace; background: #f6f8fa; border-radius: 4px; }
code { padding: .1em .3em; }
pre { padding: .75rem 1rem; overflow-x: auto; }
pre code { padding: 0; }
)";

std::string page(const std::string& body, const std::string& version) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>thinpool_exporter runbook</title>\n<style>\n" +
         std::string(kStyle) +
         "</style>\n</head>\n<body>\n<nav><a href=\"/\">thinpool_exporter</a> " +
         html_escape(version) + " &rsaquo; runbook (as built into this binary)</nav>\n<main>\n" +
         body + "</main>\n</body>\n</html>\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: make_runbook_page RUNBOOK.md OUTPUT.cc VERSION\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream markdown;
  markdown << in.rdbuf();
  if (!in) {
    std::cerr << "make_runbook_page: cannot read " << argv[1] << "\n";
    return 1;
  }
  const std::string text = markdown.str();
  NodePtr document(cmark_parse_document(text.data(), text.size(), CMARK_OPT_DEFAULT),
                   cmark_node_free);
  const std::vector<std::string> ids = prepare(document.get());
  char* html = cmark_render_html(document.get(), CMARK_OPT_DEFAULT);
  const std::string body = with_heading_ids(html, ids);
  std::free(html);

  std::string literal;
  std::stringstream lines(page(body, argv[3]));
  for (std::string line; std::getline(lines, line);) {
    literal += "    \"" + cxx_literal(line + "\n") + "\"\n";
  }
  std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
  out << "// Generated from docs/runbook.md by exporter/runbook_page/make_runbook_page.cc.\n"
      << "#include \"exporter/http_server.h\"\n\nnamespace thinpool {\n\n"
      << "std::string_view runbook_page() {\n  static constexpr std::string_view kPage =\n"
      << literal << "      ;\n  return kPage;\n}\n\n}  // namespace thinpool\n";
  out.close();
  if (!out) {
    std::cerr << "make_runbook_page: cannot write " << argv[2] << "\n";
    return 1;
  }
  return 0;
}
