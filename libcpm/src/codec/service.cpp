// CPM service identifiers and feature tags: the "CPM enabler usage indication".
#include "cpm/codec/service.hpp"

#include "cpm/base/text.hpp"
#include "cpm/grammar/header.hpp"

#include <algorithm>

namespace cpm::service {

namespace {

using text::lower;

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
  return text::percent_decode(s);
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
  for (const auto& value : accept_contact_values)
    for (auto ac : sip::split_header_list(value))
      // The feature tag's value is a quoted, comma-separated list.
      if (auto icsi = sip::find_param(ac, "+g.3gpp.icsi-ref"))
        if (auto list = sip::unquote(*icsi))
          for (auto one : sip::split_header_list(*list))
            add_unique(out, decode_icsi(one));
  for (const auto& value : preferred_service)
    for (auto ps : sip::split_header_list(value))
      add_unique(out, std::string(ps));
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
