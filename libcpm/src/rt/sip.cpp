// RAII wrappers over libre's SIP stack and main loop.
#include "cpm/rt/sip.hpp"

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "cpm/rt/guard.hpp"
#include "cpm/rt/mbuf.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/sa.hpp"
#define DEBUG_MODULE "cpm"
#define DEBUG_LEVEL 0
#include <re_dbg.h>

namespace cpm::sip {

namespace {

const char* tp_name(enum sip_transp tp)
{
  switch (tp) {
  case SIP_TRANSP_UDP:
    return "udp";
  case SIP_TRANSP_TCP:
    return "tcp";
  case SIP_TRANSP_TLS:
    return "tls";
  default:
    return "ws";
  }
}

// State of the one main loop of the process.
struct LoopState {
  bool running = false;
  bool pending = false;
  int code = 0;
  std::function<void(int)> on_signal;
};
LoopState g_loop;

void signal_h(int sig) noexcept
{
  if (g_loop.on_signal) {
    try {
      g_loop.on_signal(sig);
    } catch (...) {
      stop(1);
    }
  } else {
    stop(0);
  }
}

void trace_h(bool tx, enum sip_transp tp, const struct sa* src, const struct sa* dst,
             const uint8_t* pkt, size_t len, void* arg) noexcept
{
  auto* self = static_cast<Stack*>(arg);
  if (!self || !self->tracer() || !self->tracer()->is_open())
    return;
  try {
    self->tracer()->write(tx ? "tx" : "rx", tp_name(tp), sa_str(tx ? *src : *dst),
                          sa_str(tx ? *dst : *src),
                          std::string_view(reinterpret_cast<const char*>(pkt), len));
  } catch (...) {
  }
}

void exit_h(void*) noexcept {}

} // namespace

Library::Library()
{
  libre_init();
  dbg_init(DBG_WARNING, DBG_NONE);
}

Library::~Library()
{
  libre_close();
}

int run(std::function<void(int sig)> on_signal)
{
  g_loop.on_signal = std::move(on_signal);
  if (g_loop.pending) {
    g_loop.pending = false;
    return g_loop.code;
  }
  g_loop.running = true;
  g_loop.code = 0;
  int err = re_main(signal_h);
  g_loop.running = false;
  g_loop.pending = false;
  if (err && err != EALREADY)
    return g_loop.code ? g_loop.code : 3;
  return g_loop.code;
}

void stop(int code)
{
  g_loop.code = code;
  if (g_loop.running)
    re_cancel();
  else
    g_loop.pending = true;
}

struct Timer::Impl {
  struct tmr t;
  std::function<void()> fn;
  static void h(void* arg) noexcept
  {
    auto* self = static_cast<Impl*>(arg);
    auto fn = std::move(self->fn);
    self->fn = nullptr;
    try {
      if (fn)
        fn();
    } catch (const std::exception& e) {
      internal_error({}, "timer", e.what());
      stop(1);
    } catch (...) {
      internal_error({}, "timer", "unknown exception");
      stop(1);
    }
  }
};

Timer::Timer() : m(std::make_unique<Impl>())
{
  tmr_init(&m->t);
}
Timer::~Timer()
{
  tmr_cancel(&m->t);
}
void Timer::start(uint64_t ms, std::function<void()> fn)
{
  m->fn = std::move(fn);
  tmr_start(&m->t, ms, Impl::h, m.get());
}
void Timer::cancel()
{
  tmr_cancel(&m->t);
  m->fn = nullptr;
}
bool Timer::active() const
{
  return tmr_isrunning(&m->t);
}

namespace {
// The write end of the current Hangup's pipe, for the signal handler.
volatile int g_hup_fd = -1;

extern "C" void hup_handler(int)
{
  int saved = errno;
  char c = 'h';
  if (g_hup_fd >= 0)
    (void)!::write(g_hup_fd, &c, 1);
  errno = saved;
}
} // namespace

Hangup::Hangup(std::function<void()> fn) : m_fn(std::move(fn))
{
  if (::pipe(m_pipe) != 0) {
    m_pipe[0] = m_pipe[1] = -1;
    return;
  }
  for (int fd : m_pipe)
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK | O_CLOEXEC);
  fd_listen(m_pipe[0], FD_READ, on_read, this);
  g_hup_fd = m_pipe[1];
  struct sigaction sa = {};
  sa.sa_handler = hup_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGHUP, &sa, nullptr);
}

Hangup::~Hangup()
{
  if (m_pipe[0] < 0)
    return;
  std::signal(SIGHUP, SIG_DFL);
  g_hup_fd = -1;
  fd_close(m_pipe[0]);
  ::close(m_pipe[0]);
  ::close(m_pipe[1]);
}

void Hangup::on_read(int, void* arg) noexcept
{
  auto* self = static_cast<Hangup*>(arg);
  char buf[16];
  while (::read(self->m_pipe[0], buf, sizeof(buf)) > 0) {
  }
  guarded({}, "the SIGHUP handler", [self] {
    if (self->m_fn)
      self->m_fn();
  });
}

void internal_error(const Diag& diag, const char* where, const char* what) noexcept
{
  try {
    auto line = fmt::format("internal error in {}: {}", where, what);
    if (diag)
      diag(line);
    else
      fmt::print(stderr, "cpm: {}\n", line);
  } catch (...) {
  }
}

uint64_t jiffies()
{
  return tmr_jiffies();
}

Result<std::unique_ptr<Stack>> Stack::create(const std::vector<std::string>& listen,
                                             const std::string& software, trace::Writer* trace)
{
  std::unique_ptr<Stack> s(new Stack());
  s->m_trace = trace;
  if (listen.empty())
    return fail("no --listen address given");
  int err =
      sip_alloc(re_out(s->m_sip), nullptr, 16384, 16384, 4096, software.c_str(), exit_h, s.get());
  if (err)
    return fail(fmt::format("cannot create SIP stack: {}", std::strerror(err)), 3);
  for (const auto& text : listen) {
    auto spec = parse_listen(text);
    if (!spec)
      return tl::unexpected(spec.error());
    struct sa sa;
    sa_set_str(&sa, spec->host.c_str(), spec->port);
    auto tp = spec->transport == "tcp" ? SIP_TRANSP_TCP : SIP_TRANSP_UDP;
    err = sip_transp_add(s->m_sip.get(), tp, &sa);
    if (err)
      return fail(fmt::format("cannot listen on {}: {}", text, std::strerror(err)), 3);
    struct sa bound;
    if (sip_transp_laddr(s->m_sip.get(), &bound, tp, &sa) == 0 && sa_port(&bound))
      spec->port = sa_port(&bound);
    s->m_specs.push_back(*spec);
    s->m_bound.push_back(format_listen(*spec));
  }
  if (trace && trace->is_open())
    sip_set_trace_handler(s->m_sip.get(), trace_h);
  return s;
}

Stack::~Stack()
{
  if (m_sip)
    sip_close(m_sip.get(), true);
}

std::string Stack::uri() const
{
  if (m_specs.empty())
    return {};
  const auto& l = m_specs.front();
  std::string host = l.host.find(':') != std::string::npos ? "[" + l.host + "]" : l.host;
  return fmt::format("sip:{}:{}{}", host, l.port, l.transport == "tcp" ? ";transport=tcp" : "");
}

void Stack::report_ready(int fd) const
{
  if (fd < 0)
    return;
  std::string line;
  for (const auto& b : m_bound)
    line += (line.empty() ? "" : " ") + b;
  line += "\n";
  const char* p = line.data();
  size_t left = line.size();
  while (left) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    p += n;
    left -= size_t(n);
  }
  ::close(fd);
}

bool Stack::is_local(std::string_view host, uint16_t port) const
{
  struct sa want;
  std::string h(host);
  if (!h.empty() && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  if (sa_set_str(&want, h.c_str(), port ? port : 5060))
    return false;
  for (const auto& l : m_specs) {
    struct sa have;
    sa_set_str(&have, l.host.c_str(), l.port);
    if (sa_cmp(&want, &have, SA_ALL))
      return true;
  }
  return false;
}

sip::Request to_request(const struct ::sip_msg* msg, const Stack* self)
{
  sip::Request r;
  r.method = pl_string(msg->met);
  r.ruri = pl_string(msg->ruri);
  r.from_uri = pl_string(msg->from.auri);
  r.to_uri = pl_string(msg->to.auri);
  r.source = fmt::format("{}:{}", tp_name(msg->tp), sa_str(msg->src));
  bool leading = true;
  for (struct le* le = msg->hdrl.head; le; le = le->next) {
    auto* h = static_cast<struct sip_hdr*>(le->data);
    std::string name(long_name(std::string_view(h->name.p, h->name.l)));
    std::string value = pl_string(h->val);
    if (h->id == SIP_HDR_ROUTE) {
      struct sip_addr addr;
      bool ours = false;
      if (leading && self && sip_addr_decode(&addr, &h->val) == 0) {
        std::string host = pl_string(addr.uri.host);
        uint16_t port = addr.uri.port;
        if (self->is_local(host, port)) {
          ours = true;
          struct pl odi;
          if (msg_param_decode(&addr.uri.params, "odi", &odi) == 0)
            r.odi = pl_string(odi);
        }
      }
      if (!ours) {
        leading = false;
        r.routes.push_back(value);
      }
    } else if (h->id == SIP_HDR_P_ASSERTED_IDENTITY && r.asserted.empty()) {
      struct sip_addr addr;
      if (sip_addr_decode(&addr, &h->val) == 0)
        r.asserted = pl_string(addr.auri);
    }
    r.headers.push_back({std::move(name), std::move(value)});
  }
  size_t left = msg->mb ? mbuf_get_left(msg->mb) : 0;
  if (pl_isset(&msg->clen)) {
    size_t clen = pl_u32(&msg->clen);
    r.body_size = clen < left ? clen : left;
  } else {
    r.body_size = left;
  }
  return r;
}

Result<sip::Request> parse_request_text(std::string_view text)
{
  // Operators paste files with LF line ends: normalise to CRLF and end the header block.
  std::string wire;
  wire.reserve(text.size() + 64);
  size_t head_end = text.find("\n\n");
  if (auto crlf = text.find("\r\n\r\n");
      crlf != std::string_view::npos && (head_end == std::string_view::npos || crlf < head_end))
    head_end = std::string_view::npos, wire.assign(text);
  if (wire.empty()) {
    std::string_view head = head_end == std::string_view::npos ? text : text.substr(0, head_end);
    std::string_view body =
        head_end == std::string_view::npos ? std::string_view() : text.substr(head_end + 2);
    for (char ch : head) {
      if (ch == '\n')
        wire += "\r\n";
      else if (ch != '\r')
        wire += ch;
    }
    while (wire.size() >= 2 && wire.compare(wire.size() - 2, 2, "\r\n") == 0)
      wire.resize(wire.size() - 2);
    wire += "\r\n\r\n";
    wire.append(body);
  }
  auto mb = mbuf_copy(wire);
  if (!mb)
    return fail("out of memory", 3);
  re_ptr<struct sip_msg> msg;
  int err = sip_msg_decode(re_out(msg), mb.get());
  if (err)
    return fail(fmt::format("not a SIP message: {}", std::strerror(err)));
  if (!msg->req)
    return fail("not a SIP request (a response was given)");
  auto r = to_request(msg.get(), nullptr);
  r.source = "file";
  return r;
}

std::string_view body_of(const struct ::sip_msg* msg)
{
  if (!msg || !msg->mb)
    return {};
  size_t left = mbuf_get_left(msg->mb);
  if (msg->clen.p) {
    uint32_t clen = pl_u32(&msg->clen);
    if (clen < left)
      left = clen;
  }
  return {reinterpret_cast<const char*>(mbuf_buf(msg->mb)), left};
}

std::string content_type_of(const struct ::sip_msg* msg)
{
  if (!msg || !msg->ctyp.type.p)
    return {};
  std::string t = pl_string(msg->ctyp.type) + "/" + pl_string(msg->ctyp.subtype);
  for (auto& c : t)
    c = char(std::tolower(static_cast<unsigned char>(c)));
  return t;
}

int digest_credentials(std::string_view aor, const std::string& password, char** user, char** pass)
{
  std::string u(aor.substr(aor.find(':') + 1));
  int err = str_dup(user, u.c_str());
  err |= str_dup(pass, password.c_str());
  return err;
}

std::string sipsess_contact(std::string_view uri, std::string_view params,
                            std::string_view header_name, std::string_view header_value)
{
  return fmt::format("{}>{}\r\n{}: <{}", uri, params, header_name, header_value);
}

} // namespace cpm::sip
