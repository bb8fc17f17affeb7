// cpm-core-route: the SIP/IP Core of the CPM toolkit.
#include "core.hpp"

int main(int argc, char** argv)
{
  cpm::core_route::Options opt;
  CLI::App app{"SIP/IP Core: registrar, location service and trigger-driven proxy",
               "cpm-core-route"};
  cpm::core_route::add_options(app, opt);
  if (auto rc = cpm::cli::parse(app, argc, argv))
    return *rc;
  return cpm::core_route::run(opt);
}
