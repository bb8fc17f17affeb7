// Placeholder until the program is written.
#include <cstdio>

int main()
{
  std::fputs("cpm-ladder: not built yet\n", stderr);
  return 2;
}
