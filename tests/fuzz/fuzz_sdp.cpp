// libFuzzer target: cpm::sdp::parse never crashes, what it accepts formats to text that parses
// to the same media, and an MSRP offer in it can always be answered, with or without audio, by
// an answer of as many m-lines; an audio stream added to it shows in sdp::diff, and removed is
// gone. An audio line's formats are its payload types; an rtpmap read writes back the same;
// an answer with Opus takes one of the offer's formats at the offer's number.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cpm/codec/sdp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto d = cpm::sdp::parse(text);
  if (!d)
    return 0;
  (void)cpm::sdp::media_types(*d);
  auto again = cpm::sdp::parse(cpm::sdp::format(*d));
  if (!again || again->media.size() != d->media.size())
    std::abort();
  for (size_t i = 0; i < d->media.size(); ++i)
    if (again->media[i].port != d->media[i].port || again->media[i].type != d->media[i].type)
      std::abort();
  if (cpm::sdp::msrp_media(*d)) {
    cpm::msrp::Uri local;
    local.host = "127.0.0.1";
    local.port = 1;
    local.session_id = "x";
    auto answer = cpm::sdp::msrp_answer(*d, local);
    if (!answer || !cpm::sdp::msrp_media(*answer))
      std::abort();
    auto with_audio = cpm::sdp::answer(*d, local, cpm::sdp::audio("127.0.0.1", 2));
    if (!with_audio || with_audio->media.size() != d->media.size() ||
        !cpm::sdp::parse(cpm::sdp::format(*with_audio)))
      std::abort();
    if (cpm::sdp::audio_of(*with_audio) && !cpm::sdp::audio_of(*d))
      std::abort();
    cpm::sdp::PayloadFormat opus{111, "opus", 48000, 2, "maxplaybackrate=8000"};
    auto ours = cpm::sdp::audio_line("127.0.0.1", 2, {opus});
    auto with_opus = cpm::sdp::answer(*d, local, ours);
    if (!with_opus || with_opus->media.size() != d->media.size())
      std::abort();
    for (size_t i = 0; i < with_opus->media.size(); ++i) {
      if (with_opus->media[i].port == 0 || with_opus->media[i].type != "audio")
        continue;
      // The audio line taken, against the offered line it answers.
      cpm::sdp::Description mine_d = *with_opus, theirs_d = *d;
      mine_d.media = {with_opus->media[i]};
      theirs_d.media = {d->media[i]};
      auto mine = cpm::sdp::audio_of(mine_d);
      auto theirs = cpm::sdp::audio_of(theirs_d);
      if (!mine || !theirs || mine->payload_types.size() != 1)
        std::abort();
      auto c = cpm::sdp::common_format(*mine, *theirs);
      if (!c || c->pt != mine->payload_types[0] || !c->same_codec(opus))
        std::abort();
    }
  }
  if (auto a = cpm::sdp::audio_of(*d)) {
    if (a->formats.size() != a->payload_types.size())
      std::abort();
    for (size_t i = 0; i < a->formats.size(); ++i) {
      const auto& f = a->formats[i];
      if (f.pt != a->payload_types[i])
        std::abort();
      if (f.encoding.empty())
        continue;
      auto back = cpm::sdp::parse_rtpmap(std::to_string(f.pt) + " " + f.rtpmap());
      if (!back || !back->same_codec(f) || back->pt != f.pt)
        std::abort();
    }
  }
  {
    // Chat optional (a participant with audio alone): an answer has the offer's m-lines and
    // takes audio only when the offer has some.
    cpm::msrp::Uri host_only;
    host_only.host = "127.0.0.1";
    auto a =
        cpm::sdp::answer(*d, host_only, cpm::sdp::audio("127.0.0.1", 2), cpm::sdp::Chat::Optional);
    if (a && (a->media.size() != d->media.size() || !cpm::sdp::parse(cpm::sdp::format(*a))))
      std::abort();
    if (a && cpm::sdp::audio_of(*a) && !cpm::sdp::audio_of(*d))
      std::abort();
  }
  (void)cpm::sdp::audio_of(*d);
  auto added = cpm::sdp::add_media(*d, cpm::sdp::audio("127.0.0.1", 2));
  auto diff = cpm::sdp::diff(*d, added);
  if (diff.added.empty() || !cpm::sdp::audio_of(added))
    std::abort();
  auto removed = cpm::sdp::remove_media(added, "audio");
  if (removed.media.size() != added.media.size() || cpm::sdp::audio_of(removed) ||
      !cpm::sdp::parse(cpm::sdp::format(removed)))
    std::abort();
  return 0;
}
