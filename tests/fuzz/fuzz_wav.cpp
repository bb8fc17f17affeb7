// libFuzzer target: a WAV file of any content is read by media::WavReader (librem's aufile
// and auresamp behind it) without crashing, and every frame it gives is whole.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "cpm/media/wav.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  static const std::string path = "/tmp/cpm-fuzz-wav-" + std::to_string(getpid()) + ".wav";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f)
    return 0;
  if (size)
    std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto r = cpm::media::WavReader::open(path, false);
  if (!r)
    return 0;
  cpm::media::Frame frame;
  // Bounded: at most as many frames as the input has samples, plus one padded.
  size_t n = 0;
  while (r->next(frame))
    if (++n > size + 1)
      std::abort();
  return 0;
}
