// A, AAAA and SRV lookups on libre's DNS client (rt/resolve.hpp).
#include "cpm/rt/resolve.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cpm/rt/guard.hpp"
#include "cpm/rt/loop.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/re_ptr.hpp"

namespace cpm::sip {

namespace {

const char* type_name(uint16_t type)
{
  return type == DNS_TYPE_A ? "A" : type == DNS_TYPE_AAAA ? "AAAA" : "SRV";
}

} // namespace

struct HostLookup::Impl {
  struct Ask {
    std::string name;
    uint16_t type;
  };
  struct ::dnsc* dnsc = nullptr;
  std::string name;
  Kind kind = Kind::Host;
  Done done;
  std::deque<Ask> asks; // the queries still to make, the first one in flight
  std::vector<std::string> asked_hosts;
  std::vector<std::string> found;
  bool nxdomain = false;
  re_slot<struct dns_query> query;
  Timer later; // an answer known at once (an IP literal, a refused query) still comes later
  Result<std::vector<std::string>> result;

  void finish(Result<std::vector<std::string>> r)
  {
    asks.clear();
    result = std::move(r);
    later.start(0, [this] {
      Done d = std::move(done);
      if (d)
        d(std::move(result));
    });
  }

  void add_host(const std::string& host, bool both)
  {
    if (std::find(asked_hosts.begin(), asked_hosts.end(), host) != asked_hosts.end())
      return;
    asked_hosts.push_back(host);
    asks.push_back({host, DNS_TYPE_A});
    if (both)
      asks.push_back({host, DNS_TYPE_AAAA});
  }

  // Make the next query, or give what was found.
  void next()
  {
    if (asks.empty()) {
      if (!found.empty())
        finish(std::move(found));
      else if (nxdomain && kind == Kind::Host)
        finish(fail(fmt::format("cannot resolve '{}': no such name (NXDOMAIN)", name)));
      else
        finish(fail(fmt::format("cannot resolve '{}': no {} record", name,
                                kind == Kind::Host ? "A or AAAA" : "A, AAAA or SIP SRV")));
      return;
    }
    const Ask& a = asks.front();
    int err =
        dnsc_query(query.out(), dnsc, a.name.c_str(), a.type, DNS_CLASS_IN, true, &answer_h, this);
    if (err == EINVAL)
      finish(fail(fmt::format("cannot resolve '{}': no DNS server (give --dns HOST:PORT, the "
                              "node's dns key, or a nameserver in /etc/resolv.conf)",
                              name)));
    else if (err)
      finish(fail(fmt::format("cannot resolve '{}': {}", name, std::strerror(err))));
  }

  struct Collect {
    Impl* self;
    uint16_t type;
  };

  static bool collect(struct dnsrr* rr, void* arg)
  {
    auto* c = static_cast<Collect*>(arg);
    if (rr->type == DNS_TYPE_SRV) {
      if (rr->rdata.srv.target && *rr->rdata.srv.target && std::strcmp(rr->rdata.srv.target, "."))
        c->self->add_host(rr->rdata.srv.target, true);
      return false;
    }
    struct sa a;
    if (rr->type == DNS_TYPE_A)
      sa_set_in(&a, rr->rdata.a.addr, 0);
    else if (rr->type == DNS_TYPE_AAAA)
      sa_set_in6(&a, rr->rdata.aaaa.addr, 0);
    else
      return false;
    char text[64] = "";
    auto& found = c->self->found;
    if (sa_ntop(&a, text, sizeof text) == 0 &&
        std::find(found.begin(), found.end(), text) == found.end())
      found.emplace_back(text);
    return false;
  }

  static void answer_h(int err, const struct dnshdr* hdr, struct list* ansl, struct list*,
                       struct list*, void* arg)
  {
    auto* self = static_cast<Impl*>(arg);
    guarded({}, "the DNS answer handler", [&] { self->answer(err, hdr, ansl); });
  }

  void answer(int err, const struct dnshdr* hdr, struct list* ansl)
  {
    if (asks.empty())
      return;
    const Ask a = asks.front();
    asks.pop_front();
    if (err == ETIMEDOUT) {
      finish(fail(fmt::format("cannot resolve '{}': the DNS server did not answer ({} {})", name,
                              type_name(a.type), a.name)));
      return;
    }
    if (err) {
      finish(fail(fmt::format("cannot resolve '{}': {} {}: {}", name, type_name(a.type), a.name,
                              std::strerror(err))));
      return;
    }
    if (hdr && hdr->rcode == DNS_RCODE_NAME_ERR) {
      if (a.name == name)
        nxdomain = true;
    } else if (hdr && hdr->rcode != DNS_RCODE_OK) {
      finish(fail(fmt::format("cannot resolve '{}': the DNS server answered {} {}: {}", name,
                              type_name(a.type), a.name, dns_hdr_rcodename(hdr->rcode))));
      return;
    } else {
      const size_t before = found.size();
      Collect c{this, a.type};
      dns_rrlist_apply(ansl, a.name.c_str(), a.type, DNS_CLASS_IN, true, &collect, &c);
      // A host's AAAA records are asked only when it has no A record.
      if (kind == Kind::Host && a.type == DNS_TYPE_A && found.size() == before)
        asks.push_front({a.name, DNS_TYPE_AAAA});
    }
    if (kind == Kind::Host && a.type == DNS_TYPE_A && nxdomain)
      asks.clear();
    next();
  }
};

std::unique_ptr<HostLookup> HostLookup::start(struct ::dnsc* dnsc, const std::string& name,
                                              Done done, Kind kind)
{
  std::unique_ptr<HostLookup> l(new HostLookup());
  l->m = std::make_unique<Impl>();
  Impl& m = *l->m;
  m.dnsc = dnsc;
  m.name = name;
  m.kind = kind;
  m.done = std::move(done);
  struct sa a;
  if (sa_set_str(&a, name.c_str(), 0) == 0) {
    m.finish(std::vector<std::string>{name});
    return l;
  }
  if (!dnsc) {
    m.finish(fail(fmt::format("cannot resolve '{}': no DNS client", name)));
    return l;
  }
  if (kind == Kind::SipDomain)
    for (const char* service : {"_sip._udp.", "_sip._tcp.", "_sips._tcp."})
      m.asks.push_back({service + name, DNS_TYPE_SRV});
  m.add_host(name, kind == Kind::SipDomain);
  m.next();
  return l;
}

HostLookup::~HostLookup() = default;

struct NameWatch::Impl {
  struct Name {
    std::string name;
    std::unique_ptr<HostLookup> lookup;
    std::vector<std::string> addresses;
    bool failing = false;
  };
  struct ::dnsc* dnsc = nullptr;
  std::vector<Name> names;
  uint64_t every_ms = 60000;
  OnAddresses on_addresses;
  std::function<void(const std::string&)> diag;
  Timer again;

  void ask_all()
  {
    for (auto& n : names)
      n.lookup = HostLookup::start(
          dnsc, n.name, [this, &n](auto r) { answered(n, std::move(r)); },
          HostLookup::Kind::SipDomain);
    again.start(every_ms, [this] { ask_all(); });
  }

  void answered(Name& n, Result<std::vector<std::string>> r)
  {
    if (!r) {
      if (!n.failing && diag)
        diag(r.error().message + (n.addresses.empty() ? "" : " (its old addresses kept)"));
      n.failing = true;
      return;
    }
    n.failing = false;
    if (*r == n.addresses)
      return;
    n.addresses = std::move(*r);
    if (diag)
      diag(fmt::format("{} is {}", n.name, fmt::join(n.addresses, ", ")));
    if (on_addresses)
      on_addresses(n.name, n.addresses);
  }
};

NameWatch::NameWatch(struct ::dnsc* dnsc, std::vector<std::string> names, uint64_t every_ms,
                     OnAddresses on_addresses, std::function<void(const std::string&)> diag)
    : m(std::make_unique<Impl>())
{
  m->dnsc = dnsc;
  m->every_ms = every_ms;
  m->on_addresses = std::move(on_addresses);
  m->diag = std::move(diag);
  m->names.reserve(names.size());
  for (auto& n : names)
    m->names.push_back({std::move(n), nullptr, {}, false});
  if (!m->names.empty())
    m->ask_all();
}

NameWatch::~NameWatch() = default;

std::vector<std::string> NameWatch::addresses(const std::string& name) const
{
  for (const auto& n : m->names)
    if (n.name == name)
      return n.addresses;
  return {};
}

} // namespace cpm::sip
