// cpm-groupd: the CPM Conversation Server of the CPM toolkit.
#include "groupd.hpp"

int main(int argc, char** argv)
{
  cpm::groupd::Options opt;
  CLI::App app{"CPM Conversation Server: participating function", "cpm-groupd"};
  cpm::groupd::add_options(app, opt);
  if (auto rc = cpm::cli::parse(app, argc, argv))
    return *rc;
  return cpm::groupd::run(opt);
}
