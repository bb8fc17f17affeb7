#pragma once
// The one way into libre: its required defines, <re.h>, and the #undefs of the macros it
// leaks (VERSION, ARCH, OS clash with our code). Include it only from .cpp files (rt/,
// proxy/, ua/ and a tool's role files); public headers forward-declare libre's structs,
// so libre's macros never reach another header (tests/docs/layers.sh checks this).
#ifndef HAVE_INTTYPES_H
#define HAVE_INTTYPES_H 1
#endif
#ifndef HAVE_STDBOOL_H
#define HAVE_STDBOOL_H 1
#endif
#ifndef HAVE_INET6
#define HAVE_INET6 1
#endif
#ifndef RELEASE
#define RELEASE 1
#endif

#include <re.h>

#undef VERSION
#undef ARCH
#undef OS
