// Ladders that teach: what each hop's message is and why the hop happens, read from the
// message itself (Content-Type, CPIM and IMDN headers, SDP, Route with odi, the SMPP PDU)
// and from the nodes' roles.
#include "cpm/base/text.hpp"
#include "cpm/grammar/header.hpp"
#include "cpm/grammar/wire.hpp"
#include "cpm/ladder/ladder.hpp"
#include "cpm/ladder/ladder_detail.hpp"

#include <fmt/format.h>
#include <set>

namespace cpm::ladder {

namespace {

namespace wire = sip::wire;

using detail::split_ws;
using text::iequals;
using text::lower;
using text::trim;

constexpr std::string_view k_core = "core";
constexpr std::string_view k_cs = "conversation-server";
constexpr std::string_view k_client = "client";
constexpr std::string_view k_iwf = "iwf";
constexpr std::string_view k_smsc = "smsc";

// The lines of `s`, CR removed, calling `f(line)` until it returns false.
template <class F> void each_line(std::string_view s, F f)
{
  size_t pos = 0;
  while (pos < s.size()) {
    auto end = s.find('\n', pos);
    if (end == std::string_view::npos)
      end = s.size();
    auto line = s.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    pos = end + 1;
    if (!f(line, pos))
      return;
  }
}

using text::media_type;

// A CPIM message (RFC 3862): its message headers, then MIME headers, then the content.
struct Cpim {
  std::string content_type;
  std::string disposition; // imdn.Disposition-Notification (RFC 5438 §6.2)
  std::string_view content;
};

Cpim read_cpim(std::string_view body)
{
  Cpim c;
  int part = 0; // 0 message headers, 1 MIME headers
  each_line(body, [&](std::string_view line, size_t next) {
    if (trim(line).empty()) {
      if (++part == 2) {
        c.content = next < body.size() ? body.substr(next) : std::string_view{};
        return false;
      }
      return true;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      return true;
    auto name = trim(line.substr(0, colon));
    auto value = trim(line.substr(colon + 1));
    auto dot = name.rfind('.');
    auto bare = dot == std::string_view::npos ? name : name.substr(dot + 1);
    if (part == 0 && iequals(bare, "Disposition-Notification"))
      c.disposition = std::string(value);
    if (part == 1 && iequals(name, "Content-Type"))
      c.content_type = media_type(value);
    return true;
  });
  return c;
}

// Whether XML text has an element `name`, with or without a namespace prefix.
bool has_element(std::string_view xml, std::string_view name)
{
  for (auto lt = xml.find('<'); lt != std::string_view::npos; lt = xml.find('<', lt + 1)) {
    auto rest = xml.substr(lt + 1);
    auto end = rest.find_first_of("/> \t\r\n");
    auto tag = rest.substr(0, end);
    if (auto colon = tag.find(':'); colon != std::string_view::npos)
      tag = tag.substr(colon + 1);
    if (tag == name)
      return true;
  }
  return false;
}

// "IMDN delivered", "IMDN displayed", "IMDN delivery failed" (RFC 5438 §7.2.1).
std::string imdn_what(std::string_view xml)
{
  std::string_view noun = "delivery", ok = "delivered";
  if (has_element(xml, "display-notification"))
    noun = "display", ok = "displayed";
  else if (has_element(xml, "processing-notification"))
    noun = "processing", ok = "processed";
  for (std::string_view bad : {"failed", "forbidden", "error", "stored"})
    if (has_element(xml, bad))
      return fmt::format("IMDN {} {}", noun, bad);
  return fmt::format("IMDN {}", ok);
}

// The media of an SDP body: "message, audio"; a line at port 0 is "audio off".
std::string sdp_media(std::string_view sdp)
{
  std::string out;
  each_line(sdp, [&](std::string_view line, size_t) {
    if (line.rfind("m=", 0) == 0) {
      auto words = split_ws(line.substr(2));
      if (!words.empty()) {
        out += out.empty() ? "" : ", ";
        out += words[0];
        if (words.size() > 1 && words[1] == "0")
          out += " off";
      }
    }
    return true;
  });
  return out;
}

// Whether a body of `type` carries SDP (application/sdp, or a multipart with an SDP part).
bool has_sdp(const std::string& type, std::string_view body)
{
  if (type == "application/sdp")
    return true;
  return type.rfind("multipart/", 0) == 0 &&
         lower(body).find("application/sdp") != std::string::npos;
}

// What a CPIM body is: a message (with the notifications it asks for) or an IMDN.
std::string cpim_what(std::string_view body)
{
  auto c = read_cpim(body);
  if (c.content_type == "message/imdn+xml")
    return imdn_what(c.content);
  if (c.content_type == "application/im-iscomposing+xml")
    return "CPIM is-composing";
  std::string out = "CPIM message";
  if (!c.content_type.empty() && c.content_type != "text/plain")
    out += " (" + c.content_type + ")";
  if (!c.disposition.empty())
    out += ", asks " + c.disposition;
  return out;
}

// One hop's message read once by the parser of our own, as the trace reader reads it
// (arrows.cpp): its fields whatever its verdict, compact forms and folded lines included.
// An MSRP message has the same shape (fields, an empty line, a body), so it is read so too.
struct Parsed {
  wire::Message m;
  std::string_view body; // all that follows the empty line, as traced
  std::string type;      // the body's media type, "" without a body
};

// The value of the first field `id` or `name`, "" when there is none.
std::string_view field(const Parsed& p, wire::Hdr id)
{
  auto* f = p.m.find(id);
  return f ? f->value : std::string_view{};
}

std::string_view field(const Parsed& p, std::string_view name)
{
  auto* f = p.m.find(name);
  return f ? f->value : std::string_view{};
}

Parsed parse(const Arrow& h)
{
  Parsed p;
  (void)wire::parse(h.message, p.m);
  // The body as the trace holds it: a Content-Length that disagrees does not cut it here.
  if (p.m.head.data())
    p.body = std::string_view(h.message).substr(
        size_t(p.m.head.data() + p.m.head.size() - h.message.data()));
  if (!trim(p.body).empty())
    p.type = media_type(field(p, wire::Hdr::ContentType));
  return p;
}

// What a SIP or MSRP body is, or "" when there is none.
std::string body_what(const Arrow& h, const Parsed& p, bool offer_before)
{
  if (p.type.empty())
    return {};
  auto coding = field(p, "Content-Encoding");
  if (!coding.empty() && !iequals(coding, "identity"))
    return fmt::format("{}, {}-coded", p.type == "message/cpim" ? "CPIM" : p.type, coding);
  if (p.type == "message/cpim")
    return cpim_what(p.body);
  if (p.type == "message/imdn+xml")
    return imdn_what(p.body);
  if (p.type == "application/im-iscomposing+xml")
    return "is-composing";
  if (p.type == "text/plain")
    return "plain text (no CPIM)";
  if (has_sdp(p.type, p.body)) {
    auto media = sdp_media(p.body);
    std::string kind;
    if (h.request && h.method == "ACK")
      kind = "SDP answer"; // RFC 3264 §4: an ACK carries the answer to an offer in a 2xx
    else if (!h.request)
      kind = offer_before ? "SDP answer" : "SDP offer";
    else
      kind = h.in_dialog ? "SDP re-offer" : "SDP offer";
    auto out = media.empty() ? kind : kind + ": " + media;
    if (lower(p.body).find("application/resource-lists+xml") != std::string::npos)
      out += " + resource list";
    return out;
  }
  return p.type;
}

// What an SMPP PDU is, from its one-line description ("submit_sm seq=7 ... sar=1/2").
std::string smpp_what(const Arrow& h)
{
  auto words = split_ws(h.message);
  auto word = [&](std::string_view prefix) -> std::string {
    for (const auto& w : words)
      if (w.rfind(prefix, 0) == 0)
        return w.substr(prefix.size());
    return {};
  };
  bool receipt = std::find(words.begin(), words.end(), "receipt") != words.end();
  bool ack = std::find(words.begin(), words.end(), "delivery_ack") != words.end();
  if (h.method.rfind("bind_", 0) == 0)
    return h.request ? "SMPP bind" : "SMPP bound";
  if (h.method == "enquire_link")
    return "SMPP keep-alive";
  if (h.method == "unbind")
    return "SMPP unbind";
  if (!h.request) {
    if (h.status != 0)
      return "refused: " + (h.reason.empty() ? std::to_string(h.status) : h.reason);
    auto id = word("message_id=");
    return id.empty() ? "accepted" : "accepted, SMSC id " + id;
  }
  if (receipt)
    return "SMS delivery receipt" + (word("stat=").empty() ? "" : " " + word("stat="));
  if (ack)
    return "SME delivery acknowledgement";
  std::string out = h.method == "deliver_sm" ? "SMS from a phone" : "SMS to a phone";
  if (auto sar = word("sar="); !sar.empty())
    out += ", part " + sar;
  if (!word("registered_delivery=").empty())
    out += ", receipt asked";
  return out;
}

// What a SIP request without a body, or a response, is when the body says nothing.
std::string sip_what(const Arrow& h, const Parsed& p)
{
  if (h.request) {
    if (h.method == "INVITE")
      return h.in_dialog ? "re-INVITE, no offer" : "no SDP offer";
    if (h.method == "BYE")
      return "ends the session";
    if (h.method == "CANCEL")
      return "cancels the INVITE";
    if (h.method == "REGISTER")
      return field(p, wire::Hdr::Authorization).empty() ? "registration"
                                                        : "registration with credentials";
    if (h.method == "OPTIONS")
      return "capability query";
    return {};
  }
  if (h.status == 401 || h.status == 407)
    return "digest challenge";
  if (h.status == 202)
    return "accepted, delivered later";
  return {};
}

// The served user and case of a trigger's Route params (core::route_params).
std::string served_of(std::string_view route)
{
  auto uri = sip::addr_spec(route);
  auto served = sip::find_param(uri, "cpm-served");
  return served ? text::percent_decode(*served) : std::string();
}

// The Route set with an odi (a core's trigger, core::fire): its position and case.
struct Odi {
  int at = -1; // index in the Route set, -1 when none
  std::string token;
  std::string served;
};

Odi find_odi(const Parsed& p)
{
  Odi o;
  int i = 0;
  std::string_view top;
  wire::for_each_value(p.m, wire::Hdr::Route, [&](const wire::Field&, std::string_view route) {
    if (i == 0)
      top = route;
    if (auto odi = sip::find_param(sip::addr_spec(route), "odi")) {
      o.at = i;
      o.token = std::string(*odi);
      o.served = i > 0 ? served_of(top) : std::string();
      return false;
    }
    ++i;
    return true;
  });
  return o;
}

std::string case_of(const std::string& token)
{
  return token.rfind("t", 0) == 0 ? "terminating" : "originating";
}

// The URI of a From, To or P-Served-User header, parameters of the header dropped.
std::string uri_of(const Parsed& p, wire::Hdr id)
{
  return std::string(sip::addr_spec(field(p, id)));
}

std::string host_of_uri(std::string_view uri)
{
  auto at = uri.find('@');
  auto host = at == std::string_view::npos ? uri.substr(uri.find(':') + 1) : uri.substr(at + 1);
  return std::string(host.substr(0, host.find_first_of(";:>?")));
}

// Roles the run shows: REGISTER's sender is a client, its receiver a core; a trigger's
// sender (a Route with odi below the top) is a core, its receiver a Conversation Server; the
// sender of an SMPP bind or submit_sm is an IWF (an ESME) and its receiver an SMSC, the
// sender of a deliver_sm an SMSC and its receiver an IWF (SMPP 3.4 §4.1, §4.4, §4.6). A run
// whose bind is not among the traces (Figure 8 of a lab after Figure 7) still shows one.
Roles infer(const std::vector<Arrow>& hs, const std::vector<Parsed>& ps, Roles roles)
{
  for (size_t i = 0; i < hs.size(); ++i) {
    const auto& h = hs[i];
    if (!h.request)
      continue;
    auto give = [&](const std::string& node, std::string_view role) {
      roles.emplace(node, std::string(role));
    };
    if (h.method == "REGISTER") {
      give(h.from, k_client);
      give(h.to, k_core);
    } else if (h.smpp && (h.method.rfind("bind_", 0) == 0 || h.method == "submit_sm")) {
      give(h.from, k_iwf);
      give(h.to, k_smsc);
    } else if (h.smpp && h.method == "deliver_sm") {
      give(h.from, k_smsc);
      give(h.to, k_iwf);
    } else if (!h.smpp && !h.msrp) {
      auto odi = find_odi(ps[i]);
      if (odi.at > 0) {
        give(h.from, k_core);
        give(h.to, k_cs);
      }
    }
  }
  return roles;
}

// Why a SIP request hop happens.
class Why {
public:
  Why(const std::vector<Arrow>& hs, const std::vector<Parsed>& ps, Roles roles)
      : m_hs(hs), m_ps(ps), m_roles(std::move(roles))
  {
    fanned();
  }
  std::string operator()(size_t i);

private:
  bool is(const std::string& node, std::string_view role) const
  {
    auto it = m_roles.find(node);
    return it != m_roles.end() && it->second == role;
  }
  // The copies of one CPIM message that a node sends on two or more Call-IDs of its own.
  void fanned();

  const std::vector<Arrow>& m_hs;
  const std::vector<Parsed>& m_ps;
  Roles m_roles;
  std::set<size_t> m_fanned;
  std::map<std::string, std::set<std::string>> m_received_ids;  // node -> Call-IDs in
  std::map<std::string, std::set<std::string>> m_received_uris; // node -> request URIs in
};

void Why::fanned()
{
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> by_sender; // (node, id)
  std::map<std::string, std::set<std::string>> in;
  for (size_t i = 0; i < m_hs.size(); ++i) {
    const auto& h = m_hs[i];
    if (!h.request || h.smpp || h.msrp)
      continue;
    in[h.to].insert(h.call_id);
    if (!h.imdn_id.empty() && !in[h.from].count(h.call_id))
      by_sender[{h.from, h.method + " " + h.imdn_id}].push_back(i);
  }
  for (const auto& [k, v] : by_sender) {
    std::set<std::string> ids;
    for (auto i : v)
      ids.insert(m_hs[i].call_id);
    if (ids.size() >= 2)
      m_fanned.insert(v.begin(), v.end());
  }
}

std::string Why::operator()(size_t i)
{
  const auto& h = m_hs[i];
  const auto& p = m_ps[i];
  bool fresh = !m_received_ids[h.from].count(h.call_id);
  auto from_uri = uri_of(p, wire::Hdr::From);
  bool as_group = fresh && !from_uri.empty() && m_received_uris[h.from].count(from_uri);
  m_received_ids[h.to].insert(h.call_id);
  if (!h.uri.empty())
    m_received_uris[h.to].insert(h.uri.substr(0, h.uri.find(';')));

  auto odi = find_odi(p);
  if (odi.at == 0)
    return fmt::format("return with odi {} ({} case)", odi.token, case_of(odi.token));
  if (odi.at > 0 && odi.served.empty()) // RFC 5502: the served user and session case
    odi.served = uri_of(p, wire::Hdr::PServedUser);
  if (odi.at > 0)
    return fmt::format("{} trigger to the Conversation Server{}", case_of(odi.token),
                       odi.served.empty() ? "" : ", served user " + odi.served);
  if (m_fanned.count(i) || (as_group && !is(h.from, k_iwf) && !is(h.from, k_client)))
    return as_group ? "group fan-out as " + from_uri : "group fan-out";
  if (h.in_dialog) // RFC 3261 §12.2: a request inside a dialog follows its route set
    return "inside the dialog, by its route set";
  if (is(h.to, k_iwf))
    return "interworking: to the IWF, on to SMS";
  if (is(h.from, k_iwf))
    return "interworking: from the IWF (SMS side)";
  if (is(h.from, k_core) && is(h.to, k_core))
    return "to the network of " + host_of_uri(h.uri);
  if (is(h.from, k_core) && is(h.to, k_client))
    return "to the registered contact";
  if (is(h.from, k_client) && is(h.to, k_core))
    return "from the client to its core";
  if (is(h.from, k_core) && is(h.to, k_cs))
    return "to the Conversation Server of the request URI";
  if (is(h.from, k_cs) && fresh)
    return "sent by the Conversation Server";
  return {};
}

// The Warning of a response, as "Warning: 399 csB ..." says it.
std::string warning_of(const Parsed& p)
{
  auto w = std::string(field(p, "Warning"));
  if (w.empty())
    return {};
  auto q = w.find('"');
  if (q == std::string::npos)
    return "Warning: " + w;
  auto agent = split_ws(w.substr(0, q));
  auto textv = sip::unquote(trim(std::string_view(w).substr(q)));
  return fmt::format("{}{}", agent.size() > 1 ? agent[1] + ": " : "",
                     textv ? std::string(*textv) : w.substr(q));
}

} // namespace

void annotate(std::vector<Arrow>& hs, const Roles& given)
{
  std::vector<Parsed> ps;
  ps.reserve(hs.size());
  for (const auto& h : hs)
    ps.push_back(h.smpp ? Parsed{} : parse(h));
  Why why(hs, ps, infer(hs, ps, given));
  std::set<std::string> offered; // "Call-ID CSeq" of INVITEs that carried an offer
  std::set<std::string> told;    // "Call-ID CSeq what" of requests already described in full
  for (size_t i = 0; i < hs.size(); ++i) {
    auto& h = hs[i];
    const auto& p = ps[i];
    if (h.smpp) {
      h.what = smpp_what(h);
      h.why = "interworking: SMS over SMPP";
      continue;
    }
    if (h.msrp) {
      if (h.request && h.method == "REPORT")
        h.what = "MSRP delivery report";
      else if (h.request)
        h.what = p.type.empty() ? "empty SEND (opens the session)" : body_what(h, p, false);
      continue;
    }
    auto key = h.call_id + " " + h.cseq;
    bool offer_before = offered.count(key) > 0;
    if (h.request && h.method == "INVITE" && has_sdp(p.type, p.body))
      offered.insert(key);
    h.what = body_what(h, p, offer_before);
    if (h.what.empty())
      h.what = sip_what(h, p);
    // The next hops of a request say what it is without repeating the details ("CPIM
    // message", not again which notifications it asks for).
    if (h.request && !told.insert(key + " " + h.what).second)
      if (auto comma = h.what.find(", "); comma != std::string::npos)
        h.what.resize(comma);
    if (h.request && !h.msrp)
      h.why = why(i);
    else if (!h.request)
      h.why = warning_of(p);
  }
}

std::string note(const Arrow& h)
{
  if (h.what.empty() || h.why.empty())
    return h.what + h.why;
  return h.what + "; " + h.why;
}

} // namespace cpm::ladder
