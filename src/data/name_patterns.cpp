// Labels and speakers from file names by regular expression. std::regex (ECMAScript) has no named
// groups, so "(?<speaker>...)" and Python's "(?P<speaker>...)" are rewritten to plain groups here
// and the wanted group is found by counting capturing groups.
#include <map>

// GCC 12 reports std::function members inside libstdc++'s regex automaton as "may be used
// uninitialized" when this file is built at -O1 with the sanitizers (`make sanitize`); the warning
// is about the library's code, not this file's, and no other build gives it.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <fmt/core.h>

#include "data/data_internal.hpp"
#include "dkws/error.hpp"

namespace dkws::data {
namespace {

// The pattern with named groups made plain, and each name's group number.
struct Rewritten {
  std::string pattern;
  std::map<std::string, size_t> named;
  size_t groups = 0;
};

Rewritten rewrite_named_groups(const std::string& p, const std::string& where) {
  Rewritten r;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      r.pattern += p.substr(i, 2);
      ++i;
      continue;
    }
    if (in_class) {
      in_class = c != ']';
      r.pattern += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      r.pattern += c;
      if (i + 1 < p.size() && p[i + 1] == '^') r.pattern += p[++i];
      continue;
    }
    if (c != '(') {
      r.pattern += c;
      continue;
    }
    if (i + 1 >= p.size() || p[i + 1] != '?') {
      ++r.groups;
      r.pattern += c;
      continue;
    }
    // "(?<name>" or "(?P<name>", but not the look-behinds "(?<=" and "(?<!".
    size_t open = std::string::npos;
    if (p.compare(i + 2, 1, "<") == 0) open = i + 2;
    if (p.compare(i + 2, 2, "P<") == 0) open = i + 3;
    if (open == std::string::npos || p.compare(open + 1, 1, "=") == 0 ||
        p.compare(open + 1, 1, "!") == 0) {
      r.pattern += c;  // (?: (?= (?! and the rest: not capturing, left to std::regex
      continue;
    }
    const size_t close = p.find('>', open);
    if (close == std::string::npos)
      throw Error(fmt::format("{}: unterminated group name at offset {}", where, i));
    const std::string name = p.substr(open + 1, close - open - 1);
    if (name.empty()) throw Error(fmt::format("{}: empty group name at offset {}", where, i));
    if (!r.named.emplace(name, ++r.groups).second)
      throw Error(fmt::format("{}: group name '{}' used twice", where, name));
    r.pattern += '(';
    i = close;
  }
  return r;
}

}  // namespace

NamePattern::NamePattern(const std::string& pattern, const std::string& group,
                         const std::string& option) {
  const std::string where = fmt::format("{} '{}'", option, pattern);
  const Rewritten r = rewrite_named_groups(pattern, where);
  if (const auto it = r.named.find(group); it != r.named.end()) {
    group_ = it->second;
  } else if (r.named.empty() && r.groups == 1) {
    group_ = 1;
  } else {
    throw Error(
        fmt::format("{}: needs a (?<{}>...) group, or exactly one capturing group", where, group));
  }
  try {
    re_ = std::regex(r.pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw Error(fmt::format("{}: invalid regular expression ({})", where, e.what()));
  }
}

std::string NamePattern::find(const std::string& name) const {
  std::smatch m;
  if (!std::regex_search(name, m, re_) || group_ >= m.size()) return "";
  return m[group_].str();
}

}  // namespace dkws::data
