// RFC 5438 IMDN documents: read with pugixml, written directly (encode).
#include "cpm/codec/imdn.hpp"
#include "cpm/base/text.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fmt/format.h>
#include <optional>
#include <pugixml.hpp>
#include <random>
#include <sstream>
#include <vector>

namespace cpm::imdn {

namespace {

std::string trim(std::string_view s)
{
  return std::string(text::trim(s));
}

std::string lower_trim(std::string_view s)
{
  return text::lower(text::trim(s));
}

// The local part of an element name ("imdn:status" -> "status").
std::string_view local(const pugi::xml_node& n)
{
  std::string_view name = n.name();
  auto c = name.find(':');
  return c == std::string_view::npos ? name : name.substr(c + 1);
}

std::string_view prefix(const pugi::xml_node& n)
{
  std::string_view name = n.name();
  auto c = name.find(':');
  return c == std::string_view::npos ? std::string_view() : name.substr(0, c);
}

// The namespace URI bound to the prefix of `n`, looking up the ancestors' xmlns attributes.
std::string_view ns_of(const pugi::xml_node& n)
{
  std::string attr = prefix(n).empty() ? "xmlns" : "xmlns:" + std::string(prefix(n));
  for (auto p = n; p; p = p.parent())
    if (auto a = p.attribute(attr.c_str()))
      return a.value();
  return {};
}

std::vector<pugi::xml_node> elements(const pugi::xml_node& parent)
{
  std::vector<pugi::xml_node> out;
  for (auto c : parent.children())
    if (c.type() == pugi::node_element)
      out.push_back(c);
  return out;
}

std::optional<Status> status_named(std::string_view name)
{
  static constexpr std::pair<std::string_view, Status> k_names[] = {
      {"delivered", Status::Delivered}, {"failed", Status::Failed},
      {"forbidden", Status::Forbidden}, {"error", Status::Error},
      {"displayed", Status::Displayed}, {"processed", Status::Processed},
      {"stored", Status::Stored}};
  for (auto [n, s] : k_names)
    if (n == name)
      return s;
  return std::nullopt;
}

bool allowed(Kind k, Status s)
{
  if (s == Status::Forbidden || s == Status::Error)
    return true;
  switch (k) {
  case Kind::Delivery:
    return s == Status::Delivered || s == Status::Failed;
  case Kind::Display:
    return s == Status::Displayed;
  case Kind::Processing:
    return s == Status::Processed || s == Status::Stored;
  }
  return false;
}

} // namespace

std::string_view to_string(Kind k)
{
  switch (k) {
  case Kind::Delivery:
    return "delivery";
  case Kind::Display:
    return "display";
  case Kind::Processing:
    return "processing";
  }
  return "?";
}

std::string_view to_string(Status s)
{
  switch (s) {
  case Status::Delivered:
    return "delivered";
  case Status::Failed:
    return "failed";
  case Status::Forbidden:
    return "forbidden";
  case Status::Error:
    return "error";
  case Status::Displayed:
    return "displayed";
  case Status::Processed:
    return "processed";
  case Status::Stored:
    return "stored";
  }
  return "?";
}

bool positive(Status s)
{
  return s == Status::Delivered || s == Status::Displayed || s == Status::Processed ||
         s == Status::Stored;
}

Result<Notification> decode(std::string_view xml)
{
  pugi::xml_document doc;
  auto r = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!r)
    return fail(fmt::format("IMDN: bad XML at offset {}: {}", r.offset, r.description()));
  auto root = doc.document_element();
  if (!root || local(root) != "imdn")
    return fail("IMDN: root element is not <imdn>");
  if (ns_of(root) != k_xml_ns)
    return fail(fmt::format("IMDN: root element not in namespace {}", k_xml_ns));
  Notification n;
  bool have_id = false, have_time = false, have_kind = false;
  for (auto e : elements(root)) {
    if (ns_of(e) != k_xml_ns)
      continue; // RFC 5438 §7.2: extension elements of other namespaces are allowed
    auto name = local(e);
    if (name == "message-id") {
      if (have_id)
        return fail("IMDN: more than one <message-id>");
      n.message_id = trim(e.text().get());
      if (n.message_id.empty())
        return fail("IMDN: empty <message-id>");
      have_id = true;
    } else if (name == "datetime") {
      if (have_time)
        return fail("IMDN: more than one <datetime>");
      n.datetime = trim(e.text().get());
      have_time = true;
    } else if (name == "recipient-uri") {
      n.recipient_uri = trim(e.text().get());
    } else if (name == "original-recipient-uri") {
      n.original_recipient_uri = trim(e.text().get());
    } else if (name == "subject") {
    } else if (name == "delivery-notification" || name == "display-notification" ||
               name == "processing-notification") {
      if (have_kind)
        return fail("IMDN: more than one notification element");
      have_kind = true;
      n.kind = name == "delivery-notification"  ? Kind::Delivery
               : name == "display-notification" ? Kind::Display
                                                : Kind::Processing;
      auto kids = elements(e);
      if (kids.size() != 1 || local(kids[0]) != "status")
        return fail(fmt::format("IMDN: <{}> must hold one <status>", name));
      auto st = elements(kids[0]);
      if (st.size() != 1)
        return fail("IMDN: <status> must hold exactly one status element");
      auto s = status_named(local(st[0]));
      if (!s || !allowed(n.kind, *s))
        return fail(fmt::format("IMDN: status <{}> not allowed in <{}>", local(st[0]), name));
      n.status = *s;
    } else {
      return fail(fmt::format("IMDN: unexpected element <{}>", name));
    }
  }
  if (!have_id)
    return fail("IMDN: missing <message-id>");
  if (!have_time)
    return fail("IMDN: missing <datetime>");
  if (!have_kind)
    return fail("IMDN: missing delivery-, display- or processing-notification");
  return n;
}

namespace {

// PCDATA as pugixml writes it (its format_default): &, < and > as entities, a control
// character other than tab, CR and LF as a two-digit character reference; the text ends at
// a NUL, as a C string would.
void append_text(std::string& out, std::string_view s)
{
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0)
      return;
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (u < 32 && c != '\t' && c != '\r' && c != '\n') {
      out += "&#";
      out += char('0' + u / 10);
      out += char('0' + u % 10);
      out += ';';
    } else
      out += c;
  }
}

void append_element(std::string& out, std::string_view name, std::string_view text)
{
  out += "  <";
  out += name;
  out += '>';
  append_text(out, text);
  out += "</";
  out += name;
  out += ">\n";
}

} // namespace

// Written directly rather than built as a pugixml document: a receiver writes one per
// message it is asked to notify, and the document and stream it took were a tenth of a
// busy receiver's CPU. The bytes are the ones pugixml's save() gives (a unit test holds the
// two side by side); decode() still reads documents with pugixml.
std::string encode(const Notification& n)
{
  std::string out;
  out.reserve(256 + n.message_id.size() + n.datetime.size() + n.recipient_uri.size() +
              n.original_recipient_uri.size());
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<imdn xmlns=\"";
  out += k_xml_ns;
  out += "\">\n";
  append_element(out, "message-id", n.message_id);
  append_element(out, "datetime", n.datetime);
  if (!n.recipient_uri.empty())
    append_element(out, "recipient-uri", n.recipient_uri);
  if (!n.original_recipient_uri.empty())
    append_element(out, "original-recipient-uri", n.original_recipient_uri);
  out += "  <";
  out += to_string(n.kind);
  out += "-notification>\n    <status>\n      <";
  out += to_string(n.status);
  out += " />\n    </status>\n  </";
  out += to_string(n.kind);
  out += "-notification>\n</imdn>\n";
  return out;
}

Result<Requested> parse_requested(std::string_view value)
{
  Requested r;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    auto tok = lower_trim(
        value.substr(start, comma == std::string_view::npos ? value.npos : comma - start));
    if (tok == "positive-delivery")
      r.positive_delivery = true;
    else if (tok == "negative-delivery")
      r.negative_delivery = true;
    else if (tok == "display")
      r.display = true;
    else if (tok == "processing")
      r.processing = true;
    else
      return fail(fmt::format("unknown disposition notification '{}'", tok));
    if (comma == std::string_view::npos)
      break;
    start = comma + 1;
  }
  return r;
}

std::string format_requested(const Requested& r)
{
  std::string out;
  auto add = [&](bool on, const char* s) {
    if (on)
      out += (out.empty() ? "" : ", ") + std::string(s);
  };
  add(r.positive_delivery, "positive-delivery");
  add(r.negative_delivery, "negative-delivery");
  add(r.display, "display");
  add(r.processing, "processing");
  return out;
}

Result<Requested> parse_notify_option(std::string_view value)
{
  Requested r;
  size_t start = 0;
  for (;;) {
    size_t comma = value.find(',', start);
    auto tok = lower_trim(
        value.substr(start, comma == std::string_view::npos ? value.npos : comma - start));
    if (tok == "delivery") {
      r.positive_delivery = true;
      r.negative_delivery = true;
    } else if (tok == "display") {
      r.display = true;
    } else {
      return fail(fmt::format("--notify: unknown notification '{}' (want delivery, display)", tok));
    }
    if (comma == std::string_view::npos)
      break;
    start = comma + 1;
  }
  return r;
}

std::string make_message_id()
{
  static constexpr char k_chars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<size_t> d(0, sizeof(k_chars) - 2);
  std::string id(16, ' ');
  for (auto& c : id)
    c = k_chars[d(rng)];
  return id;
}

} // namespace cpm::imdn
