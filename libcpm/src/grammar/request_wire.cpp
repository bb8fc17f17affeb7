// A Request filled from the views of a parsed message.
#include "cpm/grammar/request.hpp"
#include "cpm/grammar/uri.hpp"

#include <charconv>

namespace cpm::sip {

void fill_request(const wire::Message& m, std::string_view source, const IsLocal& is_local,
                  Request& out)
{
  out.method.assign(m.method);
  out.ruri.assign(m.ruri);
  out.from_uri.assign(m.from_uri());
  out.to_uri.assign(m.to_uri());
  out.source.assign(source);
  out.asserted.clear();
  out.odi.clear();
  out.own_route_params.clear();
  out.from_peer = false;
  out.body_size = m.body.size();
  // Keep the strings of the vectors' elements: resize, then assign in place.
  size_t n_routes = 0;
  bool leading = true;
  wire::for_each_value(m, wire::Hdr::Route, [&](const wire::Field&, std::string_view element) {
    if (leading && is_local) {
      auto uri = parse_uri(addr_spec(element));
      uint16_t port = 0;
      if (uri && !uri->port.empty())
        std::from_chars(uri->port.data(), uri->port.data() + uri->port.size(), port);
      if (uri && is_local(uri->host, port)) {
        if (out.own_route_params.empty())
          out.own_route_params = uri->params;
        if (out.odi.empty())
          if (auto odi = uri->param("odi"))
            out.odi.assign(*odi);
        return true;
      }
    }
    leading = false;
    if (n_routes < out.routes.size())
      out.routes[n_routes].assign(element);
    else
      out.routes.emplace_back(element);
    ++n_routes;
    return true;
  });
  out.routes.resize(n_routes);
  if (const auto* pai = m.find(wire::Hdr::PAssertedIdentity))
    out.asserted.assign(addr_spec(pai->value));
  if (out.headers.size() > m.fields.size())
    out.headers.resize(m.fields.size());
  for (size_t i = 0; i < m.fields.size(); ++i) {
    const auto& f = m.fields[i];
    if (i == out.headers.size())
      out.headers.emplace_back();
    out.headers[i].name.assign(long_name(f.name));
    out.headers[i].value.assign(f.value);
  }
}

} // namespace cpm::sip
