// Ladders: the events of traces into arrows (one per message), filtered and labelled.
#include "cpm/base/text.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/grammar/wire.hpp"
#include "cpm/ladder/ladder.hpp"
#include "cpm/ladder/ladder_detail.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <numeric>
#include <set>

namespace cpm::ladder {

namespace wire = sip::wire;

std::vector<std::string> detail::split_ws(std::string_view s)
{
  auto words = text::split_ws(s);
  return {words.begin(), words.end()};
}

using text::iequals;
using text::trim;

namespace {

using detail::split_ws;

// The CPIM imdn.Message-ID of a body (RFC 5438 §6.3), whatever its namespace prefix.
std::string imdn_message_id(std::string_view body)
{
  size_t pos = 0;
  while (pos < body.size()) {
    auto end = body.find('\n', pos);
    if (end == std::string_view::npos)
      end = body.size();
    auto line = body.substr(pos, end - pos);
    pos = end + 1;
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    auto name = trim(line.substr(0, colon));
    auto dot = name.rfind('.');
    if (dot != std::string_view::npos && iequals(name.substr(dot + 1), "Message-ID"))
      return std::string(trim(line.substr(colon + 1)));
  }
  return {};
}

// "127.0.1.1:5060" -> "127.0.1.1", "[::1]:5060" -> "::1"; what is no address, unchanged.
std::string host_of(const std::string& addr)
{
  auto a = sip::address_of(addr);
  return a ? a->host : addr;
}

// An SMPP PDU's one-line trace text: "submit_sm seq=7 src=... dst=..." or
// "submit_sm_resp seq=7 status=0x00000058 ...".
Arrow smpp_arrow(Arrow h)
{
  h.smpp = true;
  auto words = split_ws(h.first_line);
  if (words.empty())
    return h;
  h.method = words[0];
  h.request = !detail::strip_resp(h.method);
  for (const auto& w : words) {
    if (w.rfind("seq=", 0) == 0)
      h.cseq = w.substr(4);
    if (!h.request && w.rfind("status=", 0) == 0) {
      auto code = smpp_status_code(std::string_view(w).substr(7));
      h.status = code < 0 ? -1 : static_cast<int>(code);
      h.reason = code < 0 ? w.substr(7) : smpp_status_name(static_cast<uint32_t>(code));
    }
  }
  return h;
}

Arrow to_arrow(const trace::Event& e)
{
  Arrow h;
  h.time_us = e.time_us;
  h.first_line = e.first_line.empty() ? trace::first_line(e.message) : e.first_line;
  h.transport = e.transport;
  h.message = e.message.empty() ? h.first_line : e.message;
  if (e.transport == "smpp")
    return smpp_arrow(std::move(h));
  // The parser of our own reads the fields whatever the message's verdict (a traced
  // message may be one the core refused, or MSRP): folded lines and compact forms included.
  wire::Message m;
  (void)wire::parse(e.message, m);
  auto field = [&](wire::Hdr id) {
    auto* f = m.find(id);
    return f ? std::string(f->value) : std::string();
  };
  h.call_id = e.call_id.empty() ? field(wire::Hdr::CallId) : e.call_id;
  auto cseq = split_ws(field(wire::Hdr::CSeq));
  if (!cseq.empty())
    h.cseq = cseq[0];
  if (cseq.size() > 1)
    h.method = cseq[1];
  auto words = split_ws(h.first_line);
  if (h.first_line.rfind("MSRP ", 0) == 0) {
    // "MSRP tid SEND" / "MSRP tid 200 OK": no Call-ID; keyed by the transaction id.
    h.msrp = true;
    h.call_id.clear();
    h.cseq = words.size() > 1 ? words[1] : "";
    bool code =
        words.size() > 2 && words[2].size() == 3 &&
        std::all_of(words[2].begin(), words[2].end(), [](char c) { return c >= '0' && c <= '9'; });
    h.request = !code;
    if (code) {
      h.status = std::atoi(words[2].c_str());
      for (size_t i = 3; i < words.size(); ++i)
        h.reason += (i > 3 ? " " : "") + words[i];
    } else if (words.size() > 2) {
      h.method = words[2];
    }
    return h;
  }
  if (h.first_line.rfind("SIP/", 0) == 0) {
    if (words.size() > 1)
      h.status = std::atoi(words[1].c_str());
    auto sp = h.first_line.find(' ');
    sp = sp == std::string::npos ? sp : h.first_line.find(' ', sp + 1);
    if (sp != std::string::npos)
      h.reason = std::string(trim(std::string_view(h.first_line).substr(sp + 1)));
  } else {
    h.request = true;
    if (!words.empty())
      h.method = words[0];
    if (words.size() > 1)
      h.uri = words[1];
    h.imdn_id = imdn_message_id(m.body);
    // A To tag after the URI's closing '>' (a URI parameter is no tag).
    bool tagged = false;
    if (auto* to = m.find(wire::Hdr::To))
      (void)wire::header_param(to->value, "tag", &tagged);
    h.in_dialog = tagged;
  }
  return h;
}

bool is_response(std::string_view first_line)
{
  return first_line.rfind("SIP/2.0 ", 0) == 0;
}

// "host:port" of the first Via header of a message (port 5060 when absent), or "".
std::string top_via_sent_by(std::string_view message)
{
  wire::Message m;
  (void)wire::parse(message, m);
  auto* via = m.find(wire::Hdr::Via);
  wire::Via v;
  if (!via || !wire::parse_via(via->value, v))
    return {};
  std::string out(v.sent_by);
  if (v.port == 0)
    out += ":5060";
  return out;
}

} // namespace

std::vector<Arrow> arrows(const std::vector<trace::Event>& events)
{
  // Addresses each node showed as its own.
  std::map<std::string, std::string> by_addr;
  std::map<std::string, std::set<std::string>> by_host;
  std::set<std::string> traced;
  for (const auto& e : events) {
    traced.insert(e.node);
    if (!e.local.empty()) {
      by_addr.emplace(e.local, e.node);
      by_host[host_of(e.local)].insert(e.node);
    }
  }
  // The top Via of a request a node sent names that node too: a core's libre sends its
  // INVITEs over TCP with the port of a transport of its own beside the core's listener
  // (sip::StackOptions::own_tcp), which no event shows as local, and its callee's response
  // is traced to the source IP with that port. Only at a host the node showed as its own.
  for (const auto& e : events)
    if (e.dir == "tx" && !e.message.empty() && !is_response(e.first_line))
      if (auto via = top_via_sent_by(e.message); !via.empty())
        if (auto it = by_host.find(host_of(via)); it != by_host.end() && it->second.count(e.node))
          by_addr.emplace(via, e.node);
  // An address some event showed as its own (a listen address, or the ephemeral end of a
  // node's outgoing TCP connection), or "".
  auto exact = [&](const std::string& addr) {
    auto it = by_addr.find(addr);
    return it != by_addr.end() ? it->second : std::string();
  };
  auto resolve = [&](const std::string& addr) {
    if (auto n = exact(addr); !n.empty())
      return n;
    // An ephemeral TCP port of a node whose address is its own.
    if (auto it = by_host.find(host_of(addr)); it != by_host.end() && it->second.size() == 1)
      return *it->second.begin();
    return addr.empty() ? std::string("?") : addr;
  };

  std::vector<size_t> order(events.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return events[a].time_us < events[b].time_us; });

  std::vector<Arrow> out;
  std::set<std::pair<std::string, std::string>> seen; // (sender, bytes)
  for (auto i : order) {
    const auto& e = events[i];
    std::string from, to;
    if (e.dir == "tx") {
      from = e.node;
      to = exact(e.peer);
      // libre names the destination of a response on an inbound TCP connection by the
      // source IP and the Via port (notes/libre-1.1.md §8); outgoing TCP connections are
      // not bound to the node's address. The top Via's sent-by still names the node, and
      // it goes before a guess by host: 127.0.0.1 is every node's unbound TCP source, and
      // a guess names whichever one node happened to open a connection.
      if (to.empty() && is_response(e.first_line))
        if (auto via = top_via_sent_by(e.message); !via.empty())
          to = exact(via);
      if (to.empty())
        to = resolve(e.peer);
    } else if (e.dir == "rx") {
      from = resolve(e.peer);
      if (traced.count(from))
        continue; // the sender's own tx event stands for it
      to = e.node;
    } else {
      continue;
    }
    if (!e.message.empty() && !seen.emplace(from, e.message).second)
      continue; // a retransmission
    auto h = to_arrow(e);
    if (h.smpp) // a request and its response share the link's two ends (as a Call-ID)
      h.call_id = h.request ? "smpp " + from + " > " + to : "smpp " + to + " > " + from;
    h.from = std::move(from);
    h.to = std::move(to);
    out.push_back(std::move(h));
  }
  return out;
}

Result<std::vector<Arrow>> read_arrows(const std::vector<std::string>& paths)
{
  std::vector<trace::Event> all;
  for (const auto& p : paths) {
    auto ev = trace::read_file(p);
    if (!ev)
      return tl::unexpected(ev.error());
    all.insert(all.end(), std::make_move_iterator(ev->begin()), std::make_move_iterator(ev->end()));
  }
  return arrows(all);
}

std::vector<Arrow> filter(const std::vector<Arrow>& in, const Filter& f)
{
  std::vector<Arrow> out;
  for (const auto& h : in) {
    if (f.trying && h.status == 100)
      continue;
    if (f.register_ && h.method == "REGISTER")
      continue;
    if (h.smpp && f.smpp_session &&
        (h.method.rfind("bind_", 0) == 0 || h.method == "unbind" || h.method == "enquire_link"))
      continue;
    if (f.ack && h.method == "ACK")
      continue;
    if (h.msrp) {
      if (!f.msrp)
        out.push_back(h);
      continue;
    }
    bool hidden = false;
    for (const auto& m : f.more)
      // A method hides its requests and their responses (CSeq method); a code its responses.
      if (iequals(m, h.method) || (!h.request && m == std::to_string(h.status)))
        hidden = true;
    if (!hidden)
      out.push_back(h);
  }
  return out;
}

std::string label(const Arrow& h, bool with_uri)
{
  if (h.msrp)
    return h.request ? "MSRP " + h.method
                     : fmt::format("MSRP {}{}{}", h.status, h.reason.empty() ? "" : " ", h.reason);
  if (h.smpp) {
    if (h.request)
      return h.method;
    auto name = h.reason.empty() && h.status != 0 ? fmt::format("0x{:08x}", h.status) : h.reason;
    return h.status == 0 ? h.method + "_resp" : h.method + "_resp " + name;
  }
  if (h.request) {
    auto method = h.in_dialog && h.method == "INVITE" ? std::string("re-INVITE") : h.method;
    return with_uri && !h.uri.empty() ? method + " " + h.uri : method;
  }
  return h.reason.empty() ? std::to_string(h.status) : fmt::format("{} {}", h.status, h.reason);
}

std::vector<std::string> nodes(const std::vector<Arrow>& hs, const std::vector<std::string>& first)
{
  std::vector<std::string> out;
  auto add = [&](const std::string& n) {
    if (std::find(out.begin(), out.end(), n) == out.end())
      out.push_back(n);
  };
  for (const auto& n : first)
    add(n);
  for (const auto& h : hs) {
    add(h.from);
    add(h.to);
  }
  return out;
}

} // namespace cpm::ladder
