#pragma once
// What the owner of a Proxy decides for each request it receives (the proxy's hook).
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cpm/grammar/request.hpp"

struct sip_msg;

namespace cpm::proxy {

// A second target of a forwarded non-INVITE request, tried once instead of relaying the
// first target's final answer when that answer is one of `on_status` (RFC 3261 §16.5-16.7:
// a proxy may recurse on a final answer and relays the best one it gets; here the second
// target's answer is the one relayed). The request is rewritten from the received one as
// for the first target, with these edits.
struct Retry {
  std::vector<int> on_status;
  std::string ruri;                        // empty: unchanged
  std::vector<std::string> push_routes;    // on top, in order
  std::vector<std::string> remove_headers; // names (Route too: then push_routes is the set)
  std::vector<std::string> add_headers;    // whole lines
  std::string why;                         // stderr and trace note: "SMS fallback"
};

// What to do with one request.
struct Action {
  enum class Kind {
    Forward, // relay it (statefully, except ACK)
    Reply,   // answer it here with `status` (a reject, or a registrar's 200)
    Pass,    // not ours: let later libre listeners (sipsess, a UAS) take it
    Drop,    // ignore it silently
  };
  Kind kind = Kind::Forward;

  // Reply: status line and extra header lines ("Contact: <sip:...>;expires=60").
  int status = 0;
  std::string reason;
  std::vector<std::string> reply_headers;
  std::string reply_body; // with a Content-Type line in reply_headers

  // Forward: the request URI to send (empty: unchanged).
  std::string ruri;
  // Forward: where to send it, a SIP URI ("sip:127.0.1.2:5060;transport=tcp"). Empty: the
  // first remaining Route (after `push_routes`), else the request URI.
  std::string next_hop;
  // Forward: Route values put on top, in order ("<sip:127.0.1.2:5060;lr>").
  std::vector<std::string> push_routes;
  // Forward: where to send it instead, once, when `next_hop` refuses the connection (a TCP
  // flow that is gone; its registered Contact). Empty: none.
  std::string alternate_hop;
  // Forward: header names to remove (case-insensitive, every instance), then lines to add
  // ("P-Served-User: <sip:alice@a.example>;sescase=orig").
  std::vector<std::string> remove_headers;
  std::vector<std::string> add_headers;
  // Forward: add our Record-Route (ignored for REGISTER, ACK and CANCEL).
  bool record_route = true;
  // Forward: URI parameters appended to our Record-Route(s) (";cpm-served=...;cpm-case=orig");
  // they come back on our Route in the dialog's requests (Request::own_route_params).
  std::string record_route_params;
  // Forward: non-answer timeout for this transaction in ms (0: Options::timeout_ms).
  int timeout_ms = 0;
  // Forward (not INVITE): a second target for some final answers; null: none.
  std::shared_ptr<const Retry> retry;

  static Action forward() { return Action{}; }
  // Back to forward(), the strings and lists keeping their storage (Incoming::reuse).
  void clear()
  {
    kind = Kind::Forward;
    status = 0;
    reason.clear();
    reply_headers.clear();
    reply_body.clear();
    ruri.clear();
    next_hop.clear();
    push_routes.clear();
    alternate_hop.clear();
    remove_headers.clear();
    add_headers.clear();
    record_route = true;
    record_route_params.clear();
    timeout_ms = 0;
    retry.reset();
  }
  static Action reply(int status, std::string reason, std::vector<std::string> headers = {})
  {
    Action a;
    a.kind = Kind::Reply;
    a.status = status;
    a.reason = std::move(reason);
    a.reply_headers = std::move(headers);
    return a;
  }
  static Action drop()
  {
    Action a;
    a.kind = Kind::Drop;
    return a;
  }
  static Action pass()
  {
    Action a;
    a.kind = Kind::Pass;
    return a;
  }
};

// A request as the hook sees it. `req` is sip::fill_request() of the message: our own top
// Route(s) are already gone (their odi is in req.odi). The hook may annotate it (e.g.
// Request::from_peer) rather than copy it; the proxy forwards from the received bytes. `msg` is
// libre's message when libre received it (INVITE and dialogs on a node whose UDP is libre's,
// TLS), null otherwise; valid only during the call (for a B2BUA that wants to sipsess_accept it
// after returning Pass).
struct Incoming {
  sip::Request& req;
  const struct ::sip_msg* msg = nullptr;
  bool in_dialog = false; // To has a tag
  bool ack = false;       // an ACK (forwarded statelessly; Reply is treated as Drop)
  // The proxy's Action of an earlier request, clear()ed: its strings keep their storage. A
  // hook that moves it out, fills it and returns it allocates nothing for strings that fit
  // what they held before (no heap allocation per message in steady state). Null in tests.
  Action* reuse = nullptr;
  // The request as received, parsed (its body, Content-Encoding), valid only during the
  // call: always given by the proxy, whichever way the request came (`msg` is null for what
  // the proxy received itself). Null in tests.
  const sip::wire::Message* wire = nullptr;
};

using RequestHook = std::function<Action(const Incoming&)>;

} // namespace cpm::proxy
