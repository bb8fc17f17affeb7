// libFuzzer target for the grammar routing reads (URIs, transport addresses, name-addrs,
// parameters, header lists), odi tokens and Accept-Contact.
// Build: cmake -DCPM_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 ...; run: ./fuzz_route_uri
// -max_total_time=60
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cpm/core/location.hpp"
#include "cpm/core/route.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/grammar/header.hpp"
#include "cpm/grammar/uri.hpp"

namespace {

// Abort (a finding) when an invariant does not hold.
void require(bool ok)
{
  if (!ok)
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string in(reinterpret_cast<const char*>(data), size);

  // URI helpers: total on any input, and canonical_aor is idempotent.
  auto aor = cpm::sip::canonical_aor(in);
  require(cpm::sip::canonical_aor(aor) == aor);
  (void)cpm::sip::uri_host(in);
  (void)cpm::sip::uri_user(in);
  (void)cpm::sip::to_sip_uri(in);
  // The allocation-free reads agree with the parsed Uri.
  if (auto u = cpm::sip::parse_uri(in)) {
    require(u->aor() == aor);
    require(cpm::sip::uri_host(in) == u->host);
    require(cpm::sip::uri_user(in) == u->user);
    (void)u->str();
    (void)u->param("transport");
    (void)cpm::sip::hop_of(*u);
  } else {
    require(aor.empty());
  }

  // Transport addresses: total, and a --listen value formats back to what it parsed.
  (void)cpm::sip::parse_proxy(in);
  (void)cpm::sip::address_of(in);
  if (auto l = cpm::sip::parse_listen(in)) {
    auto again = cpm::sip::parse_listen(cpm::sip::format_listen(*l));
    require(again && again->host == l->host && again->port == l->port &&
            again->transport == l->transport);
  }

  // Name-addrs and parameters: every view lies inside the input.
  auto inside = [&](std::string_view v) {
    return v.empty() || (v.data() >= in.data() && v.data() + v.size() <= in.data() + in.size());
  };
  if (auto na = cpm::sip::parse_name_addr(in, "To"))
    require(inside(na->display) && inside(na->uri) && inside(na->params));
  require(inside(cpm::sip::addr_spec(in)));
  for (const auto& p : cpm::sip::split_params(in))
    require(inside(p.name) && inside(p.value));
  for (auto e : cpm::sip::split_header_list(in))
    require(!e.empty() && inside(e));

  // odi tokens: whatever parses prints back the same.
  cpm::config::SessionCase c;
  int index = 0;
  if (cpm::route::parse_odi(in, c, index))
    require(cpm::route::make_odi(c, index) == in);

  // Header lists and caller preferences.
  cpm::sip::Request req;
  req.method = "MESSAGE";
  req.ruri = in;
  req.from_uri = in;
  req.odi = in.substr(0, 8);
  req.headers = {{"Accept-Contact", in}, {"P-Preferred-Service", in}};
  auto ac = req.values("accept-contact");
  cpm::location::Binding b1;
  b1.aor = "sip:bob@b.example";
  b1.contact = "sip:bob@127.0.0.1:5060";
  b1.params = in;
  b1.seq = 1;
  cpm::location::Binding b2 = b1;
  b2.contact = in;
  b2.params = ";+g.oma.sip-im";
  b2.seq = 2;
  auto chosen = cpm::location::select({b1, b2}, ac);
  require(chosen.size() <= 2);

  // The whole decision on a tiny config, with the input as request URI, From and odi.
  cpm::config::File f;
  cpm::config::Node n;
  n.name = "core";
  n.domains = {"b.example"};
  n.listen = {"udp:127.0.0.1:5060"};
  n.peers["a.example"] = "udp:127.0.0.2:5060";
  f.nodes = {n};
  cpm::config::Trigger t;
  t.node = "core";
  t.server = "sip:127.0.0.3:5060";
  t.headers = {{"Accept-Contact", "oma"}};
  f.triggers = {t};
  t.session_case = cpm::config::SessionCase::Terminating;
  f.triggers.push_back(t);
  cpm::location::Store store;
  store.upsert(b1);
  cpm::route::Context ctx;
  ctx.file = &f;
  ctx.node = &f.nodes[0];
  ctx.location = &store;
  ctx.self_uri = "sip:127.0.0.1:5060";
  ctx.odi_key = "fuzz"; // exercise signing and checking too
  auto d = cpm::route::decide(req, ctx);
  require(d.action == cpm::route::Action::Reject ? d.status >= 300 : !d.next_hop.empty());
  (void)cpm::route::format_explain(req, d);
  return 0;
}
