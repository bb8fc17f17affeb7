// cpm-ladder: draw the traces of a run as a ladder, or compare them with an expected one.
#include "options.hpp"

int main(int argc, char** argv)
{
  cpm::ladder_tool::Options opt;
  CLI::App app{"Turn --trace files into a ladder diagram, or check them against an expected ladder",
               "cpm-ladder"};
  cpm::ladder_tool::add_options(app, opt);
  if (auto rc = cpm::cli::parse(app, argc, argv))
    return *rc;
  return cpm::ladder_tool::run(opt);
}
