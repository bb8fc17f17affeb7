#pragma once
// librem's pure audio headers for the media layer's .cpp files. They need none of <re.h>'s
// macros (so media stays below rt): only the stdint types and, for the objects librem
// allocates (aufile), libre's mem_deref, declared as cpm/rt/re_ptr.hpp declares it.
#include <cstddef>
#include <cstdint>

extern "C" {
// rem_auresamp.h holds a struct fir: rem_fir.h first.
#include <rem_au.h>
#include <rem_fir.h>

#include <rem_aufile.h>
#include <rem_auresamp.h>
#include <rem_g711.h>
#include <rem_goertzel.h>
void* mem_deref(void* data);
}
