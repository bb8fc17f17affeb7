// cpm-iwf: the Interworking Function of the CPM toolkit (CPM <-> SMS).
#include "iwf.hpp"

int main(int argc, char** argv)
{
  cpm::iwf::Options opt;
  CLI::App app{"CPM Interworking Function: CPM Messages to and from SMS", "cpm-iwf"};
  cpm::iwf::add_options(app, opt);
  if (auto rc = cpm::cli::parse(app, argc, argv))
    return *rc;
  return cpm::iwf::run(opt);
}
