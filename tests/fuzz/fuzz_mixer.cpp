// libFuzzer target: media::Mixer takes any sequence of inputs added and removed, frames
// with any RTP sequence numbers and ticks without crashing; every tick gives each input
// exactly one frame, and an input alone hears silence.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "cpm/media/mixer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  cpm::media::Mixer mixer(1 + (size ? data[0] % 4 : 0));
  std::vector<cpm::media::Mixer::Id> ids;
  cpm::media::Frame loud;
  loud.fill(32767);
  for (size_t i = 1; i + 2 < size; i += 3) {
    const uint8_t op = data[i] % 8;
    const uint16_t seq = static_cast<uint16_t>(data[i + 1] << 8 | data[i + 2]);
    if (op == 0 || ids.empty()) {
      ids.push_back(mixer.add());
    } else if (op == 1) {
      mixer.remove(ids[seq % ids.size()]);
      ids.erase(ids.begin() + static_cast<long>(seq % ids.size()));
    } else if (op == 2) {
      size_t outputs = 0;
      mixer.tick([&](cpm::media::Mixer::Id, const cpm::media::Frame& f) {
        ++outputs;
        if (mixer.size() == 1 && f[0] != 0)
          std::abort();
      });
      if (outputs != mixer.size())
        std::abort();
    } else {
      (void)mixer.put(ids[data[i] % ids.size()], seq, loud);
    }
  }
  return 0;
}
