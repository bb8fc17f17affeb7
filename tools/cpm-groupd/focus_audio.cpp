// The focus's audio: it terminates every participant's audio stream (one RtpStream each, on
// the node's address) and mixes (one media::Mixer and one 20 ms Ticker per session): each
// participant hears the sum of all the others (N-1) in the codec its answer chose. A
// participant whose RTP stops for longer than the node's rtp_timeout_ms is logged.
#include "focus_impl.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "cpm/rt/audio_sdp.hpp"
#include "cpm/rt/guard.hpp"

namespace cpm::groupd {

namespace {

// How often the mixer's inputs are checked for silence, in ticks (one second).
constexpr uint64_t k_check_ticks = 50;

bool sends(sdp::Direction d)
{
  return d == sdp::Direction::SendRecv || d == sdp::Direction::SendOnly;
}

bool receives(sdp::Direction d)
{
  return d == sdp::Direction::SendRecv || d == sdp::Direction::RecvOnly;
}

} // namespace

bool has_audio_line(const std::string& sdp_text)
{
  auto d = sdp::parse(sdp_text);
  return d && std::any_of(d->media.begin(), d->media.end(),
                          [](const sdp::Media& m) { return m.type == "audio"; });
}

uint64_t Focus::Impl::rtp_timeout_ms() const
{
  return env.node && env.node->rtp_timeout_ms > 0 ? uint64_t(env.node->rtp_timeout_ms) : 10000;
}

// Our audio line for `l` (its RtpStream opened on first use), or nothing when no port is free.
std::optional<sdp::Media> Focus::Impl::audio_for(Party& l)
{
  if (!l.rtp) {
    auto r = media::RtpStream::open(host);
    if (!r) {
      diag(fmt::format("{}: no RTP port for {}: {}", tag(*l.conf), l.aor, r.error().message));
      return std::nullopt;
    }
    l.rtp = std::move(*r);
    Party* p = &l;
    l.rtp->on_frame([p](uint16_t seq, const media::Frame& f) {
      GroupCall& c = *p->conf;
      if (p->receiving && p->mix && c.mixer)
        c.mixer->put(p->mix, seq, f);
    });
    l.rtp->on_diag([this, p](const std::string& s) {
      verbose(fmt::format("{}: RTP {}: {}", tag(*p->conf), p->aor, s));
    });
  }
  // PCMU first, so that G.711-only peers answer as before; Opus for those who want it.
  return media::audio_line(host, l.rtp->port(), media::preferring(media::Codec::Pcmu),
                           sdp::Direction::SendRecv);
}

// The session may carry audio from now on: its mixer and its clock (c.audio says whether
// anyone is mixed).
void Focus::Impl::start_audio(GroupCall& c)
{
  if (c.mixer)
    return;
  c.mixer = std::make_unique<media::Mixer>();
  GroupCall* cp = &c;
  c.ticker = std::make_unique<media::Ticker>(
      [this, cp] { sip::guarded(env.diag, "the mixer's tick", [&] { tick(*cp); }); });
  verbose(fmt::format("{}: audio mixing starts", tag(c)));
}

// Our description `ours` and the participant's `theirs` agree on audio (an offer and its
// answer, either way round): connect its stream in the answer's codec and mix it, or take it
// out of the mix when the audio line is absent or port 0 on either side.
void Focus::Impl::apply_audio(Party& l, const sdp::Description& ours,
                              const sdp::Description& theirs)
{
  GroupCall& c = *l.conf;
  auto mine = sdp::audio_of(ours);
  auto peer = sdp::audio_of(theirs);
  if (!mine || !peer || !l.rtp || !c.mixer) {
    stop_audio(l);
    return;
  }
  // The codec: the first of theirs that we listed (the answer holds only the chosen one),
  // at their payload type. Each participant has its own: its stream encodes the mix for it.
  auto codec = media::negotiated(*mine, *peer);
  if (!codec) {
    diag(fmt::format("{}: no codec in common with {}: its audio is not mixed", tag(c), l.aor));
    stop_audio(l);
    return;
  }
  if (auto r = l.rtp->connect(peer->host, peer->port, *codec); !r) {
    diag(fmt::format("{}: RTP to {}: {}", tag(c), l.aor, r.error().message));
    stop_audio(l);
    return;
  }
  l.sending = sends(mine->direction) && receives(peer->direction);
  l.receiving = receives(mine->direction) && sends(peer->direction);
  if (!l.mix) {
    l.mix = c.mixer->add();
    c.mixed[l.mix] = &l;
    c.audio = true;
    l.audio_declined = false;
    l.audio_since_ms = sip::jiffies();
    l.rtp_silent = false;
  }
  verbose(fmt::format("{}: audio with {} at {}:{} in {}{}{}", tag(c), l.aor, peer->host, peer->port,
                      media::name(codec->codec), l.sending ? ", sending" : "",
                      l.receiving ? ", receiving" : ""));
}

// `l` takes no part in the audio (removed it, refused it, or left): out of the mix, its
// sockets closed.
void Focus::Impl::stop_audio(Party& l)
{
  GroupCall& c = *l.conf;
  if (l.mix) {
    if (c.mixer)
      c.mixer->remove(l.mix);
    c.mixed.erase(l.mix);
    l.mix = 0;
    verbose(fmt::format("{}: {} leaves the mix", tag(c), l.aor));
    if (c.mixed.empty() && c.audio) {
      c.audio = false;
      verbose(fmt::format("{}: nobody has audio any more", tag(c)));
    }
  }
  if (l.rtp) {
    l.rtp->stop();
    l.rtp.reset();
  }
  l.sending = l.receiving = false;
}

// One 20 ms slot: every participant's frame in, each one's N-1 mix out.
void Focus::Impl::tick(GroupCall& c)
{
  if (!c.mixer)
    return;
  c.mixer->tick([&c](media::Mixer::Id id, const media::Frame& f) {
    auto it = c.mixed.find(id);
    if (it == c.mixed.end())
      return;
    Party& p = *it->second;
    if (p.sending && p.rtp)
      (void)p.rtp->send(f);
  });
  if (c.ticker && c.ticker->ticks() % k_check_ticks == 0)
    check_rtp(c);
}

// A participant that should be sending whose RTP stopped for longer than rtp_timeout_ms is
// logged once (and again once it resumes); the mixer plays silence for it meanwhile.
void Focus::Impl::check_rtp(GroupCall& c)
{
  uint64_t now = sip::jiffies();
  uint64_t limit = rtp_timeout_ms();
  for (auto& [id, p] : c.mixed) {
    if (!p->receiving || !p->rtp)
      continue;
    uint64_t last = p->rtp->counters().last_rx_ms;
    if (last < p->audio_since_ms)
      last = p->audio_since_ms;
    bool silent = now - last > limit;
    if (silent && !p->rtp_silent)
      diag(fmt::format("{}: no RTP from {} for {} ms (rtp_timeout_ms = {})", tag(c), p->aor,
                       now - last, limit));
    else if (!silent && p->rtp_silent)
      diag(fmt::format("{}: RTP from {} again", tag(c), p->aor));
    p->rtp_silent = silent;
  }
}

} // namespace cpm::groupd
