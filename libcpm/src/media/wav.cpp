#include "cpm/media/wav.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>

#include "rem.hpp"

namespace cpm::media {

namespace {

struct AufileDeref {
  void operator()(struct aufile* af) const noexcept { mem_deref(af); }
};
using AufilePtr = std::unique_ptr<struct aufile, AufileDeref>;

std::string fmt_name(enum aufmt f)
{
  switch (f) {
  case AUFMT_S16LE:
    return "S16LE";
  case AUFMT_PCMA:
    return "A-law";
  case AUFMT_PCMU:
    return "u-law";
  case AUFMT_FLOAT:
    return "32-bit float";
  case AUFMT_S24_3LE:
    return "S24_3LE";
  }
  return "unknown";
}

uint32_t le32(const unsigned char* p)
{
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

uint16_t le16(const unsigned char* p)
{
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}

// librem 0.6's wav_header_decode loops for ever when its walk to the "data" chunk reaches
// the end of the file: there fread reads no chunk, reports no error, and the loop seeks on
// by the size of the chunk it read last. Its walk is not the RIFF one: after the 16 bytes
// of "fmt " it skips only the `extra` count that follows them (when the chunk says it has
// 18 bytes or more), not the size the chunk declares, and it never pads a chunk to an even
// size. So walk the file here exactly as librem will, and let librem read it only when that
// walk reaches a "data" chunk before the end.
Result<void> has_data_chunk(const std::string& path)
{
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f)
    return fail(fmt::format("{}: {}", path, std::strerror(errno)));
  unsigned char h[20];
  if (std::fread(h, 1, 20, f.get()) != 20 || std::memcmp(h, "RIFF", 4) ||
      std::memcmp(h + 8, "WAVE", 4))
    return fail(fmt::format("{}: not a WAV file (no RIFF/WAVE header)", path));
  if (std::memcmp(h + 12, "fmt ", 4) || le32(h + 16) < 16)
    return fail(fmt::format("{}: not a WAV file (no fmt chunk after the header)", path));
  const uint32_t riff_size = le32(h + 4);
  unsigned char fmt16[18];
  const size_t fmt_len = le32(h + 16) >= 18 ? 18 : 16;
  if (std::fread(fmt16, 1, fmt_len, f.get()) != fmt_len)
    return fail(fmt::format("{}: not a WAV file (its fmt chunk is cut short)", path));
  if (fmt_len == 18 && le16(fmt16 + 16) > 0 && std::fseek(f.get(), le16(fmt16 + 16), SEEK_CUR))
    return fail(fmt::format("{}: not a WAV file (its fmt chunk is cut short)", path));
  for (;;) {
    unsigned char c[8];
    if (std::fread(c, 1, 8, f.get()) != 8)
      return fail(fmt::format("{}: not a WAV file (no data chunk)", path));
    const uint32_t size = le32(c + 4);
    if (size > riff_size)
      return fail(fmt::format("{}: not a WAV file (a chunk is larger than the file says)", path));
    if (!std::memcmp(c, "data", 4))
      return {};
    if (std::fseek(f.get(), static_cast<long>(size), SEEK_CUR))
      return fail(fmt::format("{}: not a WAV file (a chunk runs past its end)", path));
  }
}

Result<AufilePtr> open_read(const std::string& path, struct aufile_prm& prm)
{
  if (auto ok = has_data_chunk(path); !ok)
    return tl::unexpected(ok.error());
  struct aufile* af = nullptr;
  prm = {};
  int err = aufile_open(&af, &prm, path.c_str(), AUFILE_READ);
  if (err == ENOSYS)
    return fail(fmt::format("{}: not a WAV format librem reads (16-bit PCM, A-law, u-law)", path));
  if (err)
    return fail(fmt::format("{}: {}", path, std::strerror(err)));
  return AufilePtr(af);
}

} // namespace

struct WavReader::Impl {
  std::string path;
  bool loop = false;
  AufilePtr af;
  struct aufile_prm prm {};
  struct auresamp rs {};
  bool resample = false;
  std::string format;
  std::string error;
  // Samples at 8 kHz mono not yet handed out.
  std::vector<int16_t> pending;
  bool ended = false;
  bool any = false; // the file gave at least one sample

  // Read one block of the file and append it to `pending` at 8 kHz mono; false at its end.
  bool fill()
  {
    const size_t bytes_per_sample = prm.fmt == AUFMT_S16LE ? 2 : 1;
    const size_t ratio = resample && !rs.up ? rs.ratio : 1;
    // One output frame's worth of input (all channels).
    size_t want = k_samples * ratio * prm.channels * bytes_per_sample;
    std::vector<uint8_t> raw(want);
    size_t got = want;
    int err = aufile_read(af.get(), raw.data(), &got);
    if (err) {
      error = fmt::format("{}: {}", path, std::strerror(err));
      return false;
    }
    if (got == 0)
      return false;
    const size_t n = got / bytes_per_sample;
    if (n == 0)
      return true; // half a sample at the very end: the next read ends it
    std::vector<int16_t> in(n);
    if (prm.fmt == AUFMT_S16LE)
      std::memcpy(in.data(), raw.data(), n * 2);
    else
      decode(prm.fmt == AUFMT_PCMA ? Codec::Pcma : Codec::Pcmu, raw.data(), n, in.data());
    if (!resample) {
      pending.insert(pending.end(), in.begin(), in.end());
      return true;
    }
    // auresamp works in place on its output when downsampling: room for the input too.
    size_t outc = std::max(n, n * (rs.up ? rs.ratio : 1));
    std::vector<int16_t> out(outc);
    err = auresamp(&rs, out.data(), &outc, in.data(), n - n % prm.channels);
    if (err) {
      error = fmt::format("{}: resampling: {}", path, std::strerror(err));
      return false;
    }
    pending.insert(pending.end(), out.begin(), out.begin() + static_cast<long>(outc));
    return true;
  }

  Result<void> reopen()
  {
    auto af2 = open_read(path, prm);
    if (!af2)
      return tl::unexpected(af2.error());
    af = std::move(*af2);
    return {};
  }
};

WavReader::WavReader(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
WavReader::~WavReader() = default;
WavReader::WavReader(WavReader&&) noexcept = default;
WavReader& WavReader::operator=(WavReader&&) noexcept = default;

Result<WavReader> WavReader::open(const std::string& path, bool loop)
{
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->loop = loop;
  if (auto r = impl->reopen(); !r)
    return tl::unexpected(r.error());
  auto& prm = impl->prm;
  impl->format = fmt::format("{} Hz, {} channel{}, {}", prm.srate, prm.channels,
                             prm.channels == 1 ? "" : "s", fmt_name(prm.fmt));
  if (prm.fmt != AUFMT_S16LE && prm.fmt != AUFMT_PCMA && prm.fmt != AUFMT_PCMU)
    return fail(
        fmt::format("{}: {} is not supported (16-bit PCM, A-law or u-law)", path, impl->format));
  if (prm.channels != 1 && prm.channels != 2)
    return fail(fmt::format("{}: {} is not supported (mono or stereo)", path, impl->format));
  // Rates from 8 to 48 kHz only: librem upsamples any divisor of 8000 too (1 Hz would make
  // 8,000 samples of each one), and a rate read from a broken header may be anything.
  if (prm.srate < k_rate || prm.srate > 48000 || prm.srate % k_rate)
    return fail(fmt::format("{}: {} cannot be resampled to {} Hz mono (librem's auresamp "
                            "takes integer ratios: 16000, 24000, 32000, 48000 Hz)",
                            path, impl->format, k_rate));
  if (prm.srate != k_rate || prm.channels != 1) {
    auresamp_init(&impl->rs);
    if (auresamp_setup(&impl->rs, prm.srate, prm.channels, k_rate, 1) != 0 || !impl->rs.resample)
      return fail(fmt::format("{}: {} cannot be resampled to {} Hz mono (librem's auresamp "
                              "takes integer ratios: 16000, 24000, 32000, 48000 Hz)",
                              path, impl->format, k_rate));
    impl->resample = true;
  }
  return WavReader(std::move(impl));
}

bool WavReader::next(Frame& frame)
{
  auto& s = *m;
  while (s.pending.size() < k_samples && !s.ended) {
    if (s.fill()) {
      s.any = s.any || !s.pending.empty();
      continue;
    }
    if (!s.error.empty() || !s.loop || !s.any) {
      s.ended = true;
      break;
    }
    // Looping: the file again from its start.
    if (auto r = s.reopen(); !r) {
      s.error = r.error().message;
      s.ended = true;
    }
  }
  if (s.pending.empty())
    return false;
  const size_t n = std::min(k_samples, s.pending.size());
  frame.fill(0);
  std::copy_n(s.pending.begin(), n, frame.begin());
  s.pending.erase(s.pending.begin(), s.pending.begin() + static_cast<long>(n));
  return true;
}

const std::string& WavReader::format() const
{
  return m->format;
}

const std::string& WavReader::error() const
{
  return m->error;
}

struct WavWriter::Impl {
  std::string path;
  AufilePtr af;
  uint64_t frames = 0;
};

WavWriter::WavWriter(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
WavWriter::~WavWriter() = default;
WavWriter::WavWriter(WavWriter&&) noexcept = default;
WavWriter& WavWriter::operator=(WavWriter&&) noexcept = default;

Result<WavWriter> WavWriter::create(const std::string& path)
{
  struct aufile_prm prm {};
  prm.srate = k_rate;
  prm.channels = 1;
  prm.fmt = AUFMT_S16LE;
  struct aufile* af = nullptr;
  if (int err = aufile_open(&af, &prm, path.c_str(), AUFILE_WRITE))
    return fail(fmt::format("{}: {}", path, std::strerror(err)));
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->af.reset(af);
  return WavWriter(std::move(impl));
}

Result<void> WavWriter::write(const Frame& frame)
{
  if (!m->af)
    return fail(fmt::format("{}: closed", m->path));
  // WAV's samples are little-endian, as ours are on every Debian port we build for.
  if (int err =
          aufile_write(m->af.get(), reinterpret_cast<const uint8_t*>(frame.data()), sizeof frame))
    return fail(fmt::format("{}: {}", m->path, std::strerror(err)));
  ++m->frames;
  return {};
}

void WavWriter::close()
{
  m->af.reset();
}

uint64_t WavWriter::frames() const
{
  return m->frames;
}

Result<std::vector<Frame>> read_wav(const std::string& path)
{
  auto r = WavReader::open(path, false);
  if (!r)
    return tl::unexpected(r.error());
  std::vector<Frame> frames;
  Frame f;
  while (r->next(f))
    frames.push_back(f);
  if (!r->error().empty())
    return fail(r->error());
  return frames;
}

} // namespace cpm::media
