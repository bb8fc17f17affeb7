// The mixing benchmark's two sides (bench/mix.sh): `focus` terminates N RTP streams into
// one media::Mixer driven as the focus drives it (a Ticker every 20 ms, each participant
// sent the N-1 mix in its own codec), `load` is N participants sending a G.711 tone every
// 20 ms and counting what comes back. Stream i of each side is on base_port + 2i of its
// own loopback address, so the sides find each other without exchanging anything.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cpm/media/audio.hpp"
#include "cpm/media/coder.hpp"
#include "cpm/media/mixer.hpp"
#include "cpm/rt/loop.hpp"
#include "cpm/rt/media_clock.hpp"
#include "cpm/rt/realtime.hpp"
#include "cpm/rt/rtp_stream.hpp"

using namespace cpm::media;

namespace {

struct Options {
  std::string role;
  std::string local = "127.0.0.1";
  std::string remote = "127.0.0.2";
  int n = 100;
  int base_port = 20000;
  double seconds = 10;
  double warmup = 2;
  int realtime_priority = 0;
  std::string codec = "g711"; // cpu: g711 (PCMU and PCMA by turns) or opus
};

uint64_t now_us()
{
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count());
}

// CPU time (user + system) of this process, in microseconds.
uint64_t cpu_us()
{
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  auto us = [](const struct timeval& tv) {
    return static_cast<uint64_t>(tv.tv_sec) * 1000000 + static_cast<uint64_t>(tv.tv_usec);
  };
  return us(ru.ru_utime) + us(ru.ru_stime);
}

std::vector<std::unique_ptr<RtpStream>> open_streams(const Options& o)
{
  std::vector<std::unique_ptr<RtpStream>> v;
  for (int i = 0; i < o.n; ++i) {
    const auto port = static_cast<uint16_t>(o.base_port + 2 * i);
    auto s = RtpStream::open(o.local, port, static_cast<uint16_t>(port + 1));
    if (!s)
      throw std::runtime_error(s.error().message);
    // Every other participant speaks PCMA: per-participant codecs, as the focus has.
    const Codec c = o.role == "focus" && i % 2 ? Codec::Pcma : Codec::Pcmu;
    if (auto r = (*s)->connect(o.remote, port, c); !r)
      throw std::runtime_error(r.error().message);
    v.push_back(std::move(*s));
  }
  return v;
}

int run_focus(const Options& o)
{
  auto streams = open_streams(o);
  Mixer mixer;
  std::vector<Mixer::Id> ids;
  for (int i = 0; i < o.n; ++i) {
    ids.push_back(mixer.add());
    streams[i]->on_frame(
        [&mixer, id = ids.back()](uint16_t seq, const Frame& f) { mixer.put(id, seq, f); });
  }
  std::fprintf(stderr, "mixbench focus: %d streams on %s:%d-%d, ready\n", o.n, o.local.c_str(),
               o.base_port, o.base_port + 2 * o.n - 1);

  const uint64_t warm_ticks = static_cast<uint64_t>(o.warmup * 50);
  const uint64_t end_ticks = warm_ticks + static_cast<uint64_t>(o.seconds * 50);
  uint64_t cpu0 = 0, cpu1 = 0, t0 = 0, t1 = 0;
  uint64_t measured = 0, late_ticks = 0, worst_us = 0, work_us = 0, mix_us = 0;
  std::unique_ptr<Ticker> ticker;
  ticker = std::make_unique<Ticker>([&] {
    const uint64_t tick = ticker->ticks();
    if (tick == warm_ticks) {
      cpu0 = cpu_us();
      t0 = now_us();
    }
    const uint64_t start = now_us();
    uint64_t mixed_at = 0;
    mixer.tick([&](Mixer::Id id, const Frame& f) {
      if (!mixed_at)
        mixed_at = now_us();
      (void)streams[id - 1]->send(f);
    });
    const uint64_t done = now_us();
    if (tick > warm_ticks) {
      ++measured;
      // A tick's frames are late when the last one leaves after its 20 ms slot ended.
      const uint64_t slot = ticker->lag_us() + (done - start);
      if (slot > k_ptime_ms * 1000)
        ++late_ticks;
      worst_us = std::max(worst_us, slot);
      work_us += done - start;
      mix_us += (mixed_at ? mixed_at : done) - start;
    }
    if (tick == end_ticks) {
      cpu1 = cpu_us();
      t1 = now_us();
      cpm::sip::stop(0);
    }
  });
  const int rc = cpm::sip::run();
  uint64_t in = 0, missing = 0, late = 0, sent = 0, received = 0;
  for (int i = 0; i < o.n; ++i) {
    const auto st = mixer.stats(ids[i]);
    in += st.in;
    missing += st.missing;
    late += st.late;
    sent += streams[i]->counters().sent;
    received += streams[i]->counters().received;
  }
  const double wall_s = static_cast<double>(t1 - t0) / 1e6;
  const double cpu_s = static_cast<double>(cpu1 - cpu0) / 1e6;
  std::printf(
      "{\"role\":\"focus\",\"n\":%d,\"seconds\":%.2f,\"ticks\":%llu,\"late_ticks\":%llu,"
      "\"late_share\":%.5f,\"worst_slot_us\":%llu,\"tick_work_us\":%.1f,\"first_send_us\":%.1f,"
      "\"cpu_s\":%.3f,\"core_share\":%.4f,\"cpu_us_per_participant_s\":%.1f,"
      "\"rtp_in\":%llu,\"rtp_out\":%llu,\"frames_in\":%llu,\"missing\":%llu,\"late_frames\":%llu}"
      "\n",
      o.n, wall_s, static_cast<unsigned long long>(measured),
      static_cast<unsigned long long>(late_ticks),
      measured ? static_cast<double>(late_ticks) / static_cast<double>(measured) : 0.0,
      static_cast<unsigned long long>(worst_us),
      measured ? static_cast<double>(work_us) / static_cast<double>(measured) : 0.0,
      measured ? static_cast<double>(mix_us) / static_cast<double>(measured) : 0.0, cpu_s,
      wall_s > 0 ? cpu_s / wall_s : 0.0, wall_s > 0 ? cpu_s * 1e6 / wall_s / o.n : 0.0,
      static_cast<unsigned long long>(received), static_cast<unsigned long long>(sent),
      static_cast<unsigned long long>(in), static_cast<unsigned long long>(missing),
      static_cast<unsigned long long>(late));
  return rc;
}

int run_load(const Options& o)
{
  auto streams = open_streams(o);
  // Participant i speaks a tone of 250 + 50 (i mod 30) Hz: whole periods in 20 ms, so one
  // frame repeats; quiet enough that 500 of them summed rarely clip.
  std::vector<Frame> frames(o.n);
  for (int i = 0; i < o.n; ++i)
    tone(frames[i], 250 + 50 * (i % 30), 0.02, 0);
  uint64_t heard = 0;
  for (auto& s : streams)
    s->on_frame([&heard](uint16_t, const Frame&) { ++heard; });
  std::fprintf(stderr, "mixbench load: %d streams on %s:%d-%d, ready\n", o.n, o.local.c_str(),
               o.base_port, o.base_port + 2 * o.n - 1);
  const uint64_t end_ticks = static_cast<uint64_t>((o.warmup + o.seconds + 1) * 50);
  std::unique_ptr<Ticker> ticker;
  ticker = std::make_unique<Ticker>([&] {
    for (int i = 0; i < o.n; ++i)
      (void)streams[i]->send(frames[i]);
    if (ticker->ticks() >= end_ticks)
      cpm::sip::stop(0);
  });
  const int rc = cpm::sip::run();
  uint64_t sent = 0;
  for (auto& s : streams)
    sent += s->counters().sent;
  std::printf("{\"role\":\"load\",\"n\":%d,\"sent\":%llu,\"heard\":%llu,\"late_ticks\":%llu}\n",
              o.n, static_cast<unsigned long long>(sent), static_cast<unsigned long long>(heard),
              static_cast<unsigned long long>(ticker->late()));
  return rc;
}

// The mixer alone, no sockets: N inputs with a frame each (with --codec opus, each decoded
// from an Opus packet by its participant's decoder), one tick and N encodings (G.711, or
// Opus by each participant's encoder), `ticks` times; the work of a 20 ms slot without the
// network.
int run_cpu(const Options& o)
{
  const bool opus = o.codec == "opus";
  Mixer mixer;
  std::vector<Mixer::Id> ids;
  std::vector<Frame> frames(o.n);
  std::vector<Encoder> encoders;
  std::vector<Decoder> decoders;
  std::vector<std::vector<uint8_t>> packets(o.n);
  for (int i = 0; i < o.n; ++i) {
    ids.push_back(mixer.add());
    tone(frames[i], 250 + 50 * (i % 30), 0.02, 0);
    const Codec c = opus ? Codec::Opus : i % 2 ? Codec::Pcma : Codec::Pcmu;
    auto e = Encoder::create(c);
    auto d = Decoder::create(c);
    if (!e || !d)
      throw std::runtime_error("no Opus encoder or decoder");
    packets[i].resize(k_max_payload);
    auto n = e->encode(frames[i], packets[i].data());
    if (!n)
      throw std::runtime_error(n.error().message);
    packets[i].resize(*n);
    encoders.push_back(std::move(*e));
    decoders.push_back(std::move(*d));
  }
  const int ticks = static_cast<int>(o.seconds * 50);
  std::vector<uint8_t> payload(k_max_payload);
  uint64_t sink = 0;
  const uint64_t t0 = now_us(), c0 = cpu_us();
  for (int t = 0; t < ticks; ++t) {
    for (int i = 0; i < o.n; ++i) {
      if (opus)
        (void)decoders[i].decode(packets[i].data(), packets[i].size(), frames[i]);
      mixer.put(ids[i], static_cast<uint16_t>(t), frames[i]);
    }
    size_t i = 0;
    mixer.tick([&](Mixer::Id, const Frame& f) {
      if (auto n = encoders[i++ % encoders.size()].encode(f, payload.data()); n && *n > 0)
        sink += payload[0];
    });
  }
  const double us = static_cast<double>(now_us() - t0), cpu = static_cast<double>(cpu_us() - c0);
  std::printf("{\"role\":\"cpu\",\"codec\":\"%s\",\"n\":%d,\"ticks\":%d,\"tick_us\":%.1f,"
              "\"us_per_participant_frame\":%.3f,\"cpu_s\":%.3f,\"sink\":%llu}\n",
              o.codec.c_str(), o.n, ticks, us / ticks, us / ticks / o.n, cpu / 1e6,
              static_cast<unsigned long long>(sink));
  return 0;
}

} // namespace

int main(int argc, char** argv)
{
  Options o;
  CLI::App app{"Mixing benchmark: the focus's mixer, or its load", "cpm-mixbench"};
  app.add_option("role", o.role, "focus, load, or cpu (the mixer alone)")
      ->required()
      ->check(CLI::IsMember({"focus", "load", "cpu"}));
  app.add_option("--local", o.local, "this side's address");
  app.add_option("--remote", o.remote, "the other side's address");
  app.add_option("-n", o.n, "participants")->check(CLI::Range(1, 5000));
  app.add_option("--base-port", o.base_port, "stream i on base + 2i")
      ->check(CLI::Range(1024, 50000));
  app.add_option("--seconds", o.seconds, "measured seconds");
  app.add_option("--warmup", o.warmup, "seconds before measuring");
  app.add_option("--realtime-priority", o.realtime_priority,
                 "SCHED_FIFO priority, as cpm-groupd's realtime_priority (0: normal)")
      ->check(CLI::Range(0, cpm::rt::k_max_realtime_priority));
  app.add_option("--codec", o.codec, "cpu: g711 (PCMU and PCMA by turns) or opus")
      ->check(CLI::IsMember({"g711", "opus"}));
  CLI11_PARSE(app, argc, argv);
  if (auto r = cpm::rt::set_realtime_priority(o.realtime_priority); !r)
    std::fprintf(stderr, "mixbench: %s; going on at normal priority\n", r.error().message.c_str());
  try {
    cpm::sip::Library lib;
    if (int err = cpm::sip::set_max_fds(2 * o.n + 256)) {
      std::fprintf(stderr, "mixbench: fd_setsize: %d\n", err);
      return 3;
    }
    if (o.role == "cpu")
      return run_cpu(o);
    return o.role == "focus" ? run_focus(o) : run_load(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mixbench: %s\n", e.what());
    return 3;
  }
}
