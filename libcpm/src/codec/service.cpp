// CPM service identifiers and feature tags: the "CPM enabler usage indication".
#include "cpm/codec/service.hpp"

#include "cpm/base/text.hpp"

#include <algorithm>
#include <cctype>

namespace cpm::service {

namespace {

using text::lower;

// A list header's values, trimmed (commas inside quotes and <> do not split).
std::vector<std::string> split_list(std::string_view v)
{
  std::vector<std::string> out;
  for (auto part : text::split_list(v))
    out.emplace_back(text::trim(part));
  return out;
}

void add_unique(std::vector<std::string>& v, std::string s)
{
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end())
    v.push_back(std::move(s));
}

} // namespace

std::string encode_icsi(std::string_view icsi)
{
  std::string out;
  for (char c : icsi) {
    if (c == ':')
      out += "%3A";
    else
      out += c;
  }
  return out;
}

std::string decode_icsi(std::string_view s)
{
  std::string out;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int h = hex(s[i + 1]), l = hex(s[i + 2]);
      if (h >= 0 && l >= 0) {
        out += static_cast<char>(h * 16 + l);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string accept_contact(std::string_view icsi)
{
  return "*;+g.3gpp.icsi-ref=\"" + encode_icsi(icsi) + "\"";
}

std::string contact_feature(std::string_view icsi)
{
  return ";+g.3gpp.icsi-ref=\"" + encode_icsi(icsi) + "\"";
}

std::vector<std::string> indicated(const std::vector<std::string>& accept_contact_values,
                                   const std::vector<std::string>& preferred_service)
{
  std::vector<std::string> out;
  const std::string tag = "+g.3gpp.icsi-ref";
  for (const auto& value : accept_contact_values) {
    for (const auto& ac : split_list(value)) {
      // Parameters follow ';'; the feature tag's value is a quoted, comma-separated list.
      std::string l = lower(ac);
      size_t pos = 0;
      while ((pos = l.find(tag, pos)) != std::string::npos) {
        pos += tag.size();
        size_t p = pos;
        while (p < ac.size() && ac[p] == ' ')
          ++p;
        if (p >= ac.size() || ac[p] != '=')
          continue;
        ++p;
        while (p < ac.size() && ac[p] == ' ')
          ++p;
        std::string val;
        if (p < ac.size() && ac[p] == '"') {
          size_t end = ac.find('"', p + 1);
          if (end == std::string::npos)
            continue;
          val = ac.substr(p + 1, end - p - 1);
        } else {
          size_t end = ac.find(';', p);
          val = ac.substr(p, end == std::string::npos ? std::string::npos : end - p);
        }
        for (const auto& one : split_list(val))
          add_unique(out, decode_icsi(one));
      }
    }
  }
  for (const auto& value : preferred_service)
    for (const auto& ps : split_list(value))
      add_unique(out, ps);
  return out;
}

bool indicates_cpm(const std::vector<std::string>& accept_contact_values,
                   const std::vector<std::string>& preferred_service)
{
  for (const auto& s : indicated(accept_contact_values, preferred_service)) {
    std::string l = lower(s);
    if (l.rfind("urn:urn-7:3gpp-service.ims.icsi.oma.cpm.", 0) == 0)
      return true;
  }
  return false;
}

} // namespace cpm::service
